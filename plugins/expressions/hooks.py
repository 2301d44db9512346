"""Plugin hooks of ``expressions``: the analyzer and its benchmark."""

from __future__ import annotations

from edgefx import hookimpl
from edgefx.plugins.expressions.analyzer import ExpressionsAnalyzer


@hookimpl
def edgefx_analyzers():
    return [ExpressionsAnalyzer]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.expressions.bench import expressions_benchmarks
    return expressions_benchmarks()
