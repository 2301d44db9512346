"""Light saber: track a held stick (rolled paper) hilt to tip and draw a glowing blade on it.

Result (``ctx.results["saber"]``): a ``Saber`` (base, tip, confidence, predicted) or ``None``.
"""

from edgefx.plugins.saber.hooks import edgefx_analyzers

__all__ = ["edgefx_analyzers"]
