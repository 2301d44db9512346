"""Light saber: track a held stick (rolled paper) hilt to tip and draw a glowing blade on it.

Result (``ctx.results["saber"]``): a ``Saber`` (base, tip, confidence, predicted) or ``None``.
``edgefx saber calibrate`` measures the stick's colour; see docs/saber.md.
"""

from edgefx.plugins.saber.hooks import edgefx_add_commands, edgefx_analyzers, edgefx_benchmarks, edgefx_effects

__all__ = ["edgefx_add_commands", "edgefx_analyzers", "edgefx_benchmarks", "edgefx_effects"]
