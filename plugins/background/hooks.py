"""Plugin hooks of ``background``: the effect and its benchmark."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_effects():
    from edgefx.plugins.background.effect import Background
    return [Background]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.background.bench import background_benchmarks
    return background_benchmarks()
