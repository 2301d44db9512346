"""The plugin authors' testing helpers (edgefx.testing) on real photos, through the real loop."""

from __future__ import annotations

import itertools
from typing import ClassVar

import av
import cv2
import numpy as np
import pytest

import edgefx
from edgefx.events import Event
from edgefx.scheduling.scheduler import Plan
from edgefx.testing import FakeClock, measure_cost, photo, run_plugin, sample_clip, sample_frames


class MeanBrightness(edgefx.Analyzer):
    """Mean grey level of the frame at 1/4 size."""

    name = "t_brightness"

    def analyze(self, frame, ctx):
        small = cv2.resize(frame.image, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        return float(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())


class Darken(edgefx.Effect):
    """Halve every pixel; counts events it receives."""

    name = "t_darken"
    requires = ("t_brightness",)
    options: ClassVar = {"factor": edgefx.Option(0.5, "brightness multiplier", min=0.0, max=1.0)}

    def __init__(self, settings=None):
        super().__init__(settings)
        self.seen: list[str] = []

    def apply(self, frame, ctx):
        cv2.convertScaleAbs(frame.image, dst=frame.image, alpha=self.settings["factor"])

    def on_event(self, event):
        self.seen.append(event.name)


def test_photos_are_real_and_sized():
    astro = photo("astronaut")
    assert astro.shape == (512, 512, 3) and astro.dtype == np.uint8
    coffee = photo("coffee", size=(320, 240))
    assert coffee.shape == (240, 320, 3) and coffee.flags.c_contiguous
    assert coffee.std() > 20  # a real picture, not a flat fill
    with pytest.raises(ValueError, match="astronaut"):
        photo("lena")


def test_sample_frames_pan_by_the_requested_pixels():
    frames = sample_frames(10, (200, 100), pan_px=3)
    # frame 1 is frame 0 moved 3 px left: columns 3.. of frame 0 are columns 0.. of frame 1
    assert np.array_equal(frames[0][:, 3:], frames[1][:, :-3])
    assert not any(np.array_equal(a, b) for a, b in itertools.pairwise(frames))  # every step is motion
    assert np.array_equal(frames[5][:, :-3], frames[6][:, 3:])  # after frame 5 it pans back
    still = sample_frames(3, (200, 100), pan_px=0)
    assert np.array_equal(still[0], still[2])


def test_sample_clip_decodes_to_the_photo(tmp_path):
    path = sample_clip(tmp_path / "c.mp4", seconds=0.5, fps=20, size=(160, 120), name="coffee")
    with av.open(str(path)) as c:
        decoded = [f.to_ndarray(format="bgr24") for f in c.decode(video=0)]
    assert len(decoded) == 10
    expected = sample_frames(10, (160, 120), "coffee")
    assert np.mean(np.abs(decoded[0].astype(int) - expected[0])) < 6  # H.264 noise only


def test_fake_clock_stamps_and_jumps():
    clock = FakeClock(fps=25)
    image = np.zeros((4, 4, 3), np.uint8)
    a = clock.stamp(image)
    b = clock.stamp(image)
    clock.advance(1.0)
    c = clock.stamp(image)
    assert (a.index, b.index, c.index) == (0, 1, 2)
    assert a.time == 0.0 and b.time == pytest.approx(0.04) and c.time == pytest.approx(1.08)
    assert clock() == pytest.approx(1.12)


def test_run_plugin_goes_through_the_real_pipeline():
    run = run_plugin(Darken, frames=6, size=(160, 90), options={"t_darken": {"factor": 0.5}},
                     events=[Event("hello", t=0.1)], registry=_registry_with(MeanBrightness))
    assert len(run.images) == len(run.inputs) == 6
    assert run.summary["frames"] == 6 and run.disabled == {}
    # the analyzer the effect requires ran fresh every frame, on the input (before drawing)
    for inp, res, age in zip(run.inputs, run.results, run.ages, strict=True):
        small = cv2.resize(inp, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
        assert res["t_brightness"] == pytest.approx(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).mean())
        assert age["t_brightness"] == 0
    assert np.abs(run.images[2].astype(int) - run.inputs[2] // 2).max() <= 1
    # the timed event arrives at the first frame at or after t=0.1 s (frame 3 at 30 fps)
    assert [i for i, ev in enumerate(run.events) if ev] == [3]
    assert run.pipeline.effects["t_darken"].seen == ["hello"]


def test_run_plugin_uses_the_given_scheduler():
    class EveryOther:
        def plan(self, ctx, analyzers, effects):
            return Plan(set(analyzers) if ctx.frame.index % 2 == 0 else set())

        def frame_done(self, total_ms, costs):
            pass

    run = run_plugin(MeanBrightness, frames=5, size=(160, 90), scheduler=EveryOther())
    assert [a["t_brightness"] for a in run.ages] == [0, 1, 0, 1, 0]
    assert run.results[1]["t_brightness"] == run.results[0]["t_brightness"]  # carried forward


def test_measure_cost_reports_medians_of_the_plugin_stage():
    cost = measure_cost(MeanBrightness, size=(640, 360), frames=10, warmup=2)
    assert cost["name"] == "t_brightness" and cost["size"] == [640, 360] and cost["n"] == 10
    assert 0 < cost["median_ms"] <= cost["p90_ms"] <= cost["p99_ms"]


def _registry_with(*classes):
    """A stand-in for the installed-plugin registry that knows only ``classes`` (for ``requires``)."""
    class Known:
        def analyzer(self, name):
            return next(c for c in classes if c.name == name)
    return Known()
