"""Face tracking: BlazeFace detection, the 468-point face mesh, tracking with ids, smoothing.

Result (``ctx.results["faces"]``): a list of ``Face`` (id, bbox, score, landmarks (468, 3)).
"""

from edgefx.plugins.faces.hooks import edgefx_analyzers, edgefx_benchmarks

__all__ = ["edgefx_analyzers", "edgefx_benchmarks"]
