"""The particles effect through the real loop on real photos: off until switched on, every kind
draws, the count is capped (fewer at cheaper levels), switched off it empties and goes idle."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.contract import Layer
from edgefx.plugins.particles.effect import Particles
from edgefx.plugins.particles.kinds import KINDS
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import measure_cost, run_plugin, sample_clip


def changed_pixels(run) -> list[int]:
    return [int(np.count_nonzero(np.any(a != b, axis=2))) for a, b in zip(run.images, run.inputs, strict=True)]


def test_off_until_switched_on() -> None:
    run = run_plugin(Particles, frames=20, size=(320, 180))
    assert changed_pixels(run) == [0] * 20


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_draws(kind: str) -> None:
    run = run_plugin(Particles, frames=45, size=(320, 180),
                     options={"particles": {"kind": kind, "always_on": True, "seed": 4}})
    changed = changed_pixels(run)
    assert changed[0] > 0 and changed[-1] > 150, changed[::10]


def test_sparks_add_light() -> None:
    run = run_plugin(Particles, frames=45, size=(320, 180),
                     options={"particles": {"kind": "sparks", "always_on": True, "seed": 4}})
    diff = run.images[-1].astype(int) - run.inputs[-1].astype(int)
    assert diff.min() >= 0 and diff.max() > 60  # additive: never darker, bright cores


def test_count_is_capped_and_levels_draw_fewer() -> None:
    counts = {}
    for level in Particles.levels:
        effect = Particles({"always_on": True, "max": 80, "rate": 2000.0, "seed": 2})
        effect.set_level(level)
        run_plugin(effect, frames=30, size=(320, 180), keep_images=False)
        counts[level] = effect.count
    assert counts == {"full": 80, "half": 40, "quarter": 20}


def test_max_can_be_raised_while_running() -> None:
    effect = Particles({"always_on": True, "max": 20, "rate": 2000.0, "seed": 2})
    run_plugin(effect, frames=10, size=(320, 180), keep_images=False)
    effect.set_option("max", 60)
    run_plugin(effect, frames=10, size=(320, 180), keep_images=False)
    assert effect.count == 60


def test_switched_off_particles_finish_then_idle() -> None:
    effect = Particles({"always_on": True, "seed": 5, "kind": "sparks"})
    run_plugin(effect, frames=90, size=(320, 180), keep_images=False)
    assert effect.active
    effect.set_enabled(False)
    alive = effect.count
    run = run_plugin(effect, frames=60, size=(320, 180))
    assert alive > 0 and effect.count == 0 and not effect.active
    assert changed_pixels(run)[-1] == 0


def test_behind_the_person(models_dir, tmp_path) -> None:
    """Through the runner with the real person analyzer and person_front: no particle covers the astronaut."""
    clip = sample_clip(tmp_path / "astronaut.mp4", seconds=1.5, size=(320, 180))
    last: dict[str, object] = {}

    def run(effects: list[str]) -> np.ndarray:
        settings = load_settings(None, {"input.url": str(clip), "output.url": "null", "run.effects": effects,
                                        "effects.particles": {"layer": "behind_person", "always_on": True,
                                                              "kind": "confetti", "rate": 600.0, "seed": 3}})
        execute(settings, Registry(), on_frame=lambda f, c: last.update(image=f.image.copy(), person=c.get("person")))
        return last["image"]

    plain = run(["person_front"])
    drawn = run(["particles", "person_front"])
    mask = last["person"].full(*drawn.shape[:2])
    changed = np.any(drawn != plain, axis=2)
    person, background = mask >= 250, mask <= 5
    assert person.mean() > 0.2 and changed[background].mean() > 0.02
    assert changed[person].mean() < 0.002
    assert Particles({"layer": "behind_person"}).layer == Layer.BEHIND_PERSON and Particles().layer == Layer.FOREGROUND


def test_cost_at_720p_is_measured() -> None:
    cost = measure_cost(Particles, frames=20, options={"particles": {"always_on": True, "seed": 1}})
    assert cost["n"] == 20 and cost["median_ms"] > 0


def test_bigger_kinds_get_fewer_particles_for_the_same_drawing_cost() -> None:
    counts, drawn = {}, {}
    for kind in ("snow", "hearts"):
        effect = Particles({"always_on": True, "kind": kind, "max": 200, "rate": 3000.0, "seed": 3})
        run = run_plugin(effect, frames=20, size=(640, 360))
        counts[kind], drawn[kind] = effect.count, changed_pixels(run)[-1]
    assert counts["snow"] == 200 and 30 < counts["hearts"] < 0.5 * counts["snow"]
    assert 0.3 < drawn["hearts"] / drawn["snow"] < 3.0


def test_switching_the_kind_gives_live_particles_the_new_look() -> None:
    """A trigger that sets kind = hearts while snow falls: the snowflakes in flight turn into
    hearts' colours at once (not white hearts)."""
    effect = Particles({"always_on": True, "seed": 4, "kind": "snow", "max": 200, "rate": 400.0})
    run_plugin(effect, frames=20, size=(320, 180), keep_images=False)
    alive = effect.count
    assert alive > 20
    effect.set_option("kind", "hearts")
    hearts = {tuple(map(float, c)) for c in KINDS["hearts"].colors}
    assert {tuple(map(float, c)) for c in effect.color[:effect.count]} <= hearts
    run = run_plugin(effect, frames=1, size=(320, 180))
    drawn = run.images[0].astype(int) - run.inputs[0].astype(int)
    white = (drawn.min(axis=2) > 110).sum()  # snow adds >= 235 to every channel; hearts' green is <= 100
    assert white == 0


def test_without_a_trigger_the_log_says_how_to_switch_particles_on(caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgefx.plugins.particles")
    settings = load_settings(None, {"input.url": "testsrc:?size=160x90&duration=0.2", "output.url": "null",
                                    "run.effects": ["particles"]})
    execute(settings, Registry())
    assert "particles: off until a trigger switches it on" in caplog.text
    assert "[[triggers]]" in caplog.text and "always_on" in caplog.text
    caplog.clear()
    rule = {"keyword": "snow", "effect": "particles", "action": "on"}
    settings = load_settings(None, {"input.url": "testsrc:?size=160x90&duration=0.2", "output.url": "null",
                                    "run.effects": ["particles"], "triggers": [rule]})
    execute(settings, Registry())
    assert "particles: off until a trigger switches it on: say or fire 'snow'" in caplog.text
