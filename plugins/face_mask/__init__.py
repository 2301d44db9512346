"""AR face masks and accessories drawn over the ``faces`` landmarks (``edgefx masks make`` paints the assets)."""

from edgefx.plugins.face_mask.hooks import edgefx_add_commands, edgefx_benchmarks, edgefx_effects

__all__ = ["edgefx_add_commands", "edgefx_benchmarks", "edgefx_effects"]
