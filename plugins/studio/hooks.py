"""Plugin hooks of ``studio``: the three effects, their benchmark, and handing ``autoframe`` the analyzers."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_effects():
    from edgefx.plugins.studio.autoframe import AutoFrame
    from edgefx.plugins.studio.relight import Relight
    from edgefx.plugins.studio.touchup import TouchUp
    return [AutoFrame, TouchUp, Relight]


@hookimpl
def edgefx_startup(pipeline):
    from edgefx.plugins.studio.autoframe import AutoFrame
    for effect in pipeline.effects.values():
        if isinstance(effect, AutoFrame):
            effect.attach(pipeline.analyzers)


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.studio.bench import studio_benchmarks
    return studio_benchmarks()
