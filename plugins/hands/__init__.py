"""Hand tracking: palm detection, 21 landmarks per hand, handedness, ids, smoothing and gestures.

Result (``ctx.results["hands"]``): a list of ``Hand`` (id, handedness, score, landmarks (21, 3), gesture).
"""

from edgefx.plugins.hands.hooks import edgefx_analyzers, edgefx_benchmarks

__all__ = ["edgefx_analyzers", "edgefx_benchmarks"]
