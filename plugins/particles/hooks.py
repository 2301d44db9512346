"""Plugin hooks of ``particles``: the effect and its render benchmark."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_effects():
    from edgefx.plugins.particles.effect import Particles
    return [Particles]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.particles.bench import particles_benchmarks
    return particles_benchmarks()
