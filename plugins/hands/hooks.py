"""Plugin hooks of ``hands``: the analyzer and its benchmark."""

from __future__ import annotations

from edgefx import hookimpl
from edgefx.plugins.hands.analyzer import HandsAnalyzer


@hookimpl
def edgefx_analyzers():
    return [HandsAnalyzer]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.hands.bench import hands_benchmarks
    return hands_benchmarks()
