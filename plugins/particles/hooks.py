"""Plugin hooks of ``particles``: the effect and its render benchmark."""

from __future__ import annotations

import logging

from edgefx import hookimpl

log = logging.getLogger(__name__)


@hookimpl
def edgefx_effects():
    from edgefx.plugins.particles.effect import Particles
    return [Particles]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.particles.bench import particles_benchmarks
    return particles_benchmarks()


@hookimpl
def edgefx_startup(pipeline):
    """Particles start switched off: say so, and how to switch them on in this run."""
    effect = pipeline.effects.get("particles")
    if effect is None or effect.enabled:
        return
    rules = [r for r in (pipeline.triggers.rules if pipeline.triggers is not None else ())
             if r.effect == "particles" and r.action in ("on", "toggle", "pulse")]
    how = {"keyword": "say or fire {!r} (panel: Triggers)", "hotkey": "press {!r}", "gesture": "show {}",
           "expression": "make {}"}
    ways = [how[r.source].format(getattr(r, r.source)) for r in rules]
    if ways:
        log.info("particles: off until a trigger switches it on: %s (or set effects.particles.always_on = true)",
                 ", ".join(dict.fromkeys(ways)))
    else:
        log.info("particles: off until a trigger switches it on, and no [[triggers]] rule of this run does: add "
                 "one (keyword = \"snow\", effect = \"particles\", action = \"pulse\"; see docs/speech.md), or "
                 "--set effects.particles.always_on=true")
