"""Person segmentation: MediaPipe selfie segmentation, temporally smoothed and edge-refined.

Result (``ctx.results["person"]``): a ``PersonMask`` (``small`` uint8 mask, ``full(h, w)``).
"""

from edgefx.plugins.person.hooks import edgefx_analyzers, edgefx_benchmarks

__all__ = ["edgefx_analyzers", "edgefx_benchmarks"]
