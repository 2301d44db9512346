"""Plugin hooks of ``saber``: the analyzer, the effect, the ``saber calibrate`` command and the benchmarks."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_analyzers():
    from edgefx.plugins.saber.analyzer import SaberAnalyzer
    return [SaberAnalyzer]


@hookimpl
def edgefx_effects():
    from edgefx.plugins.saber.effect import SaberEffect
    return [SaberEffect]


@hookimpl
def edgefx_add_commands(subparsers):
    from edgefx.plugins.saber.calibrate import add_commands
    add_commands(subparsers)


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.saber.bench import saber_benchmarks
    return saber_benchmarks()
