"""Plugin hooks of ``person``: the analyzer, ``person_front``, the layer link at start-up and the benchmark."""

from __future__ import annotations

import logging

from edgefx import hookimpl

log = logging.getLogger(__name__)


@hookimpl
def edgefx_analyzers():
    from edgefx.plugins.person.analyzer import PersonAnalyzer
    return [PersonAnalyzer]


@hookimpl
def edgefx_effects():
    from edgefx.plugins.person.front import PersonFront
    return [PersonFront]


@hookimpl
def edgefx_startup(pipeline):
    from edgefx.plugins.person.front import link_layers
    for warning in link_layers(pipeline.analyzers, pipeline.effects):
        log.warning(warning)


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.person.bench import person_benchmarks
    return person_benchmarks()
