"""Plugin hooks of ``background``: the effects, the layer link at start-up and the benchmark."""

from __future__ import annotations

import logging

from edgefx import hookimpl

log = logging.getLogger(__name__)


@hookimpl
def edgefx_effects():
    from edgefx.plugins.background.effect import Background
    from edgefx.plugins.background.front import PersonFront
    return [Background, PersonFront]


@hookimpl
def edgefx_startup(pipeline):
    from edgefx.plugins.background.front import link_layers
    for warning in link_layers(pipeline.effects):
        log.warning(warning)


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.background.bench import background_benchmarks
    return background_benchmarks()
