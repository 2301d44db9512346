"""Studio effects: ``autoframe`` (a virtual camera following the faces), ``touchup`` (skin smoothing)
and ``relight`` (low-light and backlight correction from the face's brightness)."""

from edgefx.plugins.studio.hooks import edgefx_benchmarks, edgefx_effects, edgefx_startup

__all__ = ["edgefx_benchmarks", "edgefx_effects", "edgefx_startup"]
