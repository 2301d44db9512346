"""Person segmentation: MediaPipe selfie segmentation, temporally smoothed and edge-refined, and
``person_front``, which keeps the person in front of effects drawn behind them.

Result (``ctx.results["person"]``): a ``PersonMask`` (``small`` uint8 mask, ``full(h, w)``, ``box``).
"""

from edgefx.plugins.person.hooks import edgefx_analyzers, edgefx_benchmarks, edgefx_effects, edgefx_startup

__all__ = ["edgefx_analyzers", "edgefx_benchmarks", "edgefx_effects", "edgefx_startup"]
