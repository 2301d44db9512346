"""Plugin hooks of ``faces``: the analyzer and its benchmark."""

from __future__ import annotations

from edgefx import hookimpl
from edgefx.plugins.faces.analyzer import FacesAnalyzer


@hookimpl
def edgefx_analyzers():
    return [FacesAnalyzer]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.faces.bench import faces_benchmarks
    return faces_benchmarks()
