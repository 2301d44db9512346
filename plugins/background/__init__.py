"""Background effect: blur, replace (image, looping video), chroma colour or desaturate what is not
the person. Reads the ``person`` analyzer's mask."""

from edgefx.plugins.background.hooks import edgefx_benchmarks, edgefx_effects

__all__ = ["edgefx_benchmarks", "edgefx_effects"]
