"""Isolation: a failing plugin is logged and disabled while the output stays complete; slow plugins are reported."""

from __future__ import annotations

import logging
import textwrap
import time
from importlib.metadata import EntryPoint, entry_points
from typing import ClassVar

import av
import numpy as np
import pytest

import edgefx
from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.registry import Registry
from edgefx.runtime.isolation import Guard
from edgefx.runtime.runner import execute
from edgefx.testing import run_plugin, sample_clip

FAILING_PLUGIN = '''
import edgefx


class Boom(edgefx.Effect):
    """Raises on every frame."""

    name = "iso_boom"

    def apply(self, frame, ctx):
        raise RuntimeError("kaboom")


class Stripe(edgefx.Effect):
    """Paints a white bar over the top 8 rows (proves the stream goes on after Boom is disabled)."""

    name = "iso_stripe"
    layer = edgefx.Layer.OVERLAY
    options = {"rows": edgefx.Option(8, "rows to paint", min=1, max=64)}

    def apply(self, frame, ctx):
        frame.image[: self.settings["rows"]] = 255


@edgefx.hookimpl
def edgefx_effects():
    return [Boom, Stripe]
'''


@pytest.fixture()
def registry(tmp_path, monkeypatch):
    """The real registry with the built-in io plugin plus a failing plugin module loaded by entry point."""
    module = f"iso_plugin_{tmp_path.name}"
    (tmp_path / f"{module}.py").write_text(textwrap.dedent(FAILING_PLUGIN))
    monkeypatch.syspath_prepend(str(tmp_path))
    builtin_io = [ep for ep in entry_points(group="edgefx") if ep.name == "io"]
    return Registry([*builtin_io, EntryPoint("iso", module, "edgefx")])


def test_raising_plugin_is_disabled_and_the_output_is_complete(registry, tmp_path, caplog):
    clip = sample_clip(tmp_path / "in.mp4", seconds=1.0, fps=30, size=(320, 240))
    out = tmp_path / "out.mp4"
    settings = load_settings(None, {"input.url": str(clip), "output.url": str(out),
                                    "run.effects": ["iso_boom", "iso_stripe"], "run.max_failures": 4})
    with caplog.at_level(logging.ERROR, logger="edgefx.runtime.pipeline"):
        result = execute(settings, registry)
    assert "4 consecutive failures" in result.summary["disabled_plugins"]["iso_boom"]
    failures = [r.getMessage() for r in caplog.records if "failed in apply" in r.getMessage()]
    assert failures[0].startswith("plugin iso_boom failed in apply on frame 0 (t=0.000 s): RuntimeError: kaboom")
    assert len(failures) == 4 and "on frame 3 " in failures[-1]  # then disabled: no more calls
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert len(frames) == 30 == result.summary["frames"]
    # the other effect kept drawing on every frame, before and after the failing one was disabled
    assert all(f[:6].mean() > 240 and f[20:].mean() < 230 for f in frames)


def test_failures_must_be_consecutive_to_disable():
    class Flaky(edgefx.Effect):
        name = "flaky"

        def apply(self, frame, ctx):
            if frame.index % 2:
                raise ValueError("odd frame")

    run = run_plugin(Flaky, frames=12, size=(64, 48), max_failures=2)
    assert run.disabled == {} and len(run.images) == 12


def test_failing_analyzer_gives_none_to_its_effects_and_is_disabled():
    class Broken(edgefx.Analyzer):
        name = "broken"

        def analyze(self, frame, ctx):
            raise OSError("model file vanished")

    class Reader(edgefx.Effect):
        name = "reader"
        requires = ("broken",)
        seen: ClassVar[list] = []

        def apply(self, frame, ctx):
            self.seen.append(ctx.get("broken", "nothing"))

    run = run_plugin(Broken, Reader, frames=8, size=(64, 48), max_failures=3)
    assert "OSError: model file vanished" in run.disabled["broken"]
    assert Reader.seen == ["nothing"] * 8 and len(run.images) == 8


def test_plugin_far_over_its_expected_time_is_reported(caplog):
    class Slow(edgefx.Effect):
        """Declares 0.5 ms but sleeps 5 ms: ten times over."""

        name = "slow"
        expected_ms = 0.5

        def apply(self, frame, ctx):
            time.sleep(0.005)

    class Quick(edgefx.Effect):
        name = "quick"

        def apply(self, frame, ctx):
            frame.image[0, 0] = 0

    with caplog.at_level(logging.WARNING, logger="edgefx.runtime.pipeline"):
        run = run_plugin(Slow, Quick, frames=6, size=(64, 48))
    slow = run.summary["slow_plugins"]
    assert set(slow) == {"slow"}
    assert slow["slow"]["overruns"] == 6 and slow["slow"]["expected_ms"] == 0.5 and slow["slow"]["worst_ms"] >= 5
    warnings = [r.getMessage() for r in caplog.records if "expected" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("plugin slow took")  # logged once, counted always


def test_guard_counts_only_large_overruns_and_reports_after_a_few():
    guard = Guard(max_failures=5, overrun_factor=4.0, report_after=3)
    for ms in (30.0, 60.0, 130.0):  # within 4x of 33 ms: not overruns
        guard.overrun("p", ms, 33.0)
    assert guard.slow_report() == {}
    for ms in (140.0, 200.0):
        guard.overrun("p", ms, 33.0)
    assert guard.slow_report() == {}  # two overruns: not yet "many"
    guard.overrun("p", 150.0, 33.0)
    assert guard.slow_report() == {"p": {"overruns": 3, "worst_ms": 200.0, "expected_ms": 33.0}}


def test_bad_option_is_refused_before_anything_is_written(registry, tmp_path):
    out = tmp_path / "never.mp4"
    settings = load_settings(None, {"input.url": "testsrc:?duration=1", "output.url": str(out),
                                    "run.effects": ["iso_stripe"]}, ["effects.iso_stripe.rows=500"])
    with pytest.raises(ConfigError) as err:
        execute(settings, registry)
    text = str(err.value)
    assert "iso_stripe" in text and "rows" in text and "from 1 to 64" in text
    assert not out.exists()


def test_output_of_a_disabled_plugin_run_matches_a_clean_run(registry, tmp_path):
    """Disabling leaves no trace: with the failing effect, frames equal a run without it."""
    clip = sample_clip(tmp_path / "in.mp4", seconds=0.5, fps=20, size=(160, 120))
    outs = {}
    for label, effects in (("with", ["iso_boom", "iso_stripe"]), ("without", ["iso_stripe"])):
        out = tmp_path / f"{label}.mp4"
        execute(load_settings(None, {"input.url": str(clip), "output.url": str(out), "run.effects": effects}),
                registry)
        with av.open(str(out)) as c:
            outs[label] = np.stack([f.to_ndarray(format="bgr24") for f in c.decode(video=0)])
    assert outs["with"].shape == outs["without"].shape == (10, 120, 160, 3)
    assert np.array_equal(outs["with"], outs["without"])
