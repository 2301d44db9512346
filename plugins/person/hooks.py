"""Plugin hooks of ``person``: the analyzer and its benchmarks."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_analyzers():
    from edgefx.plugins.person.analyzer import PersonAnalyzer
    return [PersonAnalyzer]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.person.bench import person_benchmarks
    return person_benchmarks()
