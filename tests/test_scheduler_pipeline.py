"""The scheduler inside the real loop: analyzers on a worker thread stay aligned with the picture,
per-frame notes and the summary reach --stats, the CLI flags set the budget, the overlay draws."""

from __future__ import annotations

import json
from typing import ClassVar

import numpy as np

from edgefx.bench.loadtest import EdgeDensity, Glow
from edgefx.cli.main import main
from edgefx.contract import Analyzer, Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.plugins.overlay import StatsOverlay, stats_lines
from edgefx.scheduling.scheduler import BudgetScheduler, RunEverything
from edgefx.testing import run_plugin, sample_frames


class MeanBrightness(Analyzer):
    """Mean of the frame's pixels (what it saw)."""

    name = "mean_brightness"

    def analyze(self, frame: Frame, ctx: FrameContext) -> float:
        return float(frame.image.mean())


class CheckAlignment(Effect):
    """Records, before anything draws, the mean of the picture and the analyzer result it is shown with."""

    name = "check_alignment"
    layer = Layer.BACKGROUND
    requires: ClassVar[tuple[str, ...]] = ("mean_brightness",)

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self.pairs: list[tuple[float, float]] = []

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        self.pairs.append((float(frame.image.mean()), ctx.results["mean_brightness"]))


def test_overlap_keeps_results_aligned_with_the_picture_and_reports_latency():
    frames = sample_frames(40, (640, 360), pan_px=6.0)
    check = CheckAlignment()
    run = run_plugin(MeanBrightness(), check, frames=frames, scheduler=RunEverything(overlap=True))
    assert len(run.images) == 40
    assert all(picture == seen for picture, seen in check.pairs)  # the result of this very frame
    # and neighbouring frames really differ, so a result one frame late would not match
    assert all(a[0] != b[0] for a, b in zip(check.pairs, check.pairs[1:], strict=False))
    assert run.summary["overlap"] is True
    assert run.summary["added_latency_ms"] > 0
    assert run.summary["latency_ms"]["p50"] > run.summary["frame_ms"]["p50"] * 0.5


def test_overlap_renders_exactly_what_the_sequential_loop_renders():
    frames = sample_frames(20, (640, 360))
    sequential = run_plugin(EdgeDensity(), Glow(), frames=frames)
    overlapped = run_plugin(EdgeDensity(), Glow(), frames=frames, scheduler=RunEverything(overlap=True))
    assert len(sequential.images) == len(overlapped.images) == 20
    for a, b in zip(sequential.images, overlapped.images, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(sequential.images[5], frames[5])  # the glow did draw


def test_budget_scheduler_in_the_loop_writes_notes_and_summary():
    frames = sample_frames(60, (1280, 720))
    scheduler = BudgetScheduler(8.0, similarity_gate=0.0)
    run = run_plugin(EdgeDensity(), Glow(), frames=frames, scheduler=scheduler)
    notes = [f.get("notes", {}) for f in run.pipeline.metrics.frames]
    assert all(n["budget_ms"] == 8.0 for n in notes)
    assert any(n.get("degraded") or n.get("reused") for n in notes[10:])
    summary = run.summary["scheduler"]
    assert summary["budget_ms"] == 8.0 and summary["frames"] == 60
    assert set(summary["plugins"]) == {"loadtest_edges", "loadtest_glow"}
    assert sum(summary["plugins"]["loadtest_glow"].values()) == 60


def test_cli_budget_flags_reach_the_scheduler_and_stats(tmp_path, capsys):
    stats = tmp_path / "stats.json"
    code = main(["run", "-i", "demo:?seconds=1", "-o", str(tmp_path / "o.mp4"), "--effects", "stats",
                 "--fps-target", "25", "--stats", str(stats), "--no-progress"])
    assert code == 0
    data = json.loads(stats.read_text())
    assert data["summary"]["scheduler"]["budget_ms"] == 40.0
    assert data["frames"][3]["notes"]["budget_ms"] == 40.0
    # the scheduler's own time is a stage of every frame, like each plugin's
    assert all(frame["stages"]["scheduler"] > 0 for frame in data["frames"])
    assert 0 < data["summary"]["stages_ms"]["scheduler"]["p50"] < data["summary"]["frame_ms"]["p50"]
    code = main(["run", "-i", "demo:?seconds=1", "-o", str(tmp_path / "o.mp4"), "--budget-ms", "12.5",
                 "--stats", str(stats), "--no-progress"])
    assert code == 0 and json.loads(stats.read_text())["summary"]["scheduler"]["budget_ms"] == 12.5


def test_cli_rejects_a_priority_for_an_unknown_plugin(tmp_path, capsys):
    code = main(["run", "-i", "demo:?seconds=1", "-o", str(tmp_path / "o.mp4"), "--budget-ms", "20",
                 "--set", "scheduler.priority.fase=2", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no plugin called 'fase'" in err and "->" in err


def test_stats_lines_say_what_was_degraded_and_reused():
    lines = stats_lines([10.0] * 50 + [30.0], 29.5, {"budget_ms": 20.0, "degraded": {"faces": "lite"},
                                                       "reused": ["person"], "unchanged": ["hands"]}, 3)
    assert lines[0].startswith(" 29.5 fps") and "p50  10.0 ms" in lines[0] and "dropped 3" in lines[0]
    assert lines[1] == "budget 20.0 ms"
    assert lines[2] == "degraded: faces=lite"
    assert lines[3] == "reused: person, hands (still)"
    assert stats_lines([], 0.0, {}, 0)[1] == "budget: none (full quality)"


def test_overlay_draws_only_in_its_corner():
    frames = sample_frames(12, (1280, 720))
    run = run_plugin(StatsOverlay(), frames=frames)
    before, after = run.inputs[-1], run.images[-1]
    changed = np.any(before != after, axis=2)
    ys, xs = np.nonzero(changed)
    assert ys.max() < 200 and xs.max() < 1000  # a box in the top-left corner
    assert changed[:60, :400].mean() > 0.5  # darkened box with text
    assert np.array_equal(before[300:], after[300:])
