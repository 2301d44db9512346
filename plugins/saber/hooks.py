"""Plugin hooks of ``saber``: the analyzer."""

from __future__ import annotations

from edgefx import hookimpl
from edgefx.plugins.saber.analyzer import SaberAnalyzer


@hookimpl
def edgefx_analyzers():
    return [SaberAnalyzer]
