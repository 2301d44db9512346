"""Particle effects (snow, sparks, confetti, hearts) for triggers: vectorised NumPy, capped count."""

from edgefx.plugins.particles.hooks import edgefx_benchmarks, edgefx_effects, edgefx_startup

__all__ = ["edgefx_benchmarks", "edgefx_effects", "edgefx_startup"]
