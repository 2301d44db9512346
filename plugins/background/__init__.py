"""Background effects: blur, replace (image, looping video), chroma colour or desaturate what is not
the person (``background``), and ``person_front`` so effects can draw behind the person."""

from edgefx.plugins.background.hooks import edgefx_benchmarks, edgefx_effects, edgefx_startup

__all__ = ["edgefx_benchmarks", "edgefx_effects", "edgefx_startup"]
