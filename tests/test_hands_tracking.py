"""Tracking real hands (Debian's opencv-doc open palm, moving over a 640x360 canvas): ids stay,
the detector runs only to find hands, landmarks between model runs are extrapolated close to
where the model puts them, two hands get two ids, levels stretch the intervals, carry stops."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.hands.analyzer import HandsAnalyzer
from edgefx.plugins.hands.bench import HAND_PHOTO, moving_hand_frames
from edgefx.plugins.hands.gestures import palm_size


@pytest.fixture(scope="module")
def frames() -> list[np.ndarray]:
    if cv2.imread(HAND_PHOTO) is None:
        pytest.fail(f"{HAND_PHOTO} is missing: apt-get install opencv-doc")
    return moving_hand_frames(640, 360, 60)


def track(frames: list[np.ndarray], **options) -> tuple[HandsAnalyzer, list]:
    """The analyzer over ``frames``; palms join on the frame they were found on unless ``options`` say."""
    analyzer = HandsAnalyzer({"detect_delay": 0, **options})
    analyzer.start()
    out = []
    for i, image in enumerate(frames):
        frame = Frame(image, i, Fraction(1, 30), i)
        out.append(analyzer.analyze(frame, FrameContext(frame)))
    return analyzer, out


def test_one_hand_keeps_its_id_and_the_detector_rests(frames, models_dir):
    analyzer, hands = track(frames, landmark_interval=1)
    assert all(len(h) == 1 and h[0].id == 1 for h in hands)
    assert all(h[0].gesture == "open_palm" for h in hands)
    assert analyzer.tracker.detector_runs == 1  # found once; no second hand to look for within 60 frames


def test_extrapolated_frames_stay_near_the_model(frames, models_dir):
    """The hand moves up to ~0.2 palm sizes a frame; the One Euro filter's velocity carries it."""
    _, every = track(frames, landmark_interval=1)
    _, half = track(frames, landmark_interval=2)
    errors = [np.linalg.norm(a[0].landmarks[:, :2] - b[0].landmarks[:, :2], axis=1).mean() / palm_size(a[0].landmarks)
              for a, b in zip(every[1::2], half[1::2], strict=True)]
    print(f"\nextrapolated frames vs the model on them: mean {np.mean(errors):.4f}, max {np.max(errors):.4f} palms")
    assert np.mean(errors) <= 0.05 and np.max(errors) <= 0.12


def test_palms_found_on_the_worker_join_after_detect_delay(frames, models_dir):
    _, hands = track(frames[:6], detect_delay=2)
    assert [len(h) for h in hands] == [0, 0, 1, 1, 1, 1]  # searched on frame 0, its palm taken on frame 2


def test_two_hands_two_ids(models_dir):
    photo = cv2.imread(HAND_PHOTO)
    h, w = photo.shape[:2]
    canvas = np.full((360, 640, 3), 90, np.uint8)
    canvas[60:60 + h, 60:60 + w] = photo
    canvas[60:60 + h, 380:380 + w] = cv2.flip(photo, 1)
    _, hands = track([canvas] * 3)
    assert sorted(hand.id for hand in hands[-1]) == [1, 2]
    assert {hand.handedness for hand in hands[-1]} == {"Left", "Right"}


def test_levels_stretch_the_intervals_and_carry_stops(frames, models_dir):
    analyzer = HandsAnalyzer({"detect_delay": 0})
    analyzer.start()
    analyzer.set_level("lite")
    t = analyzer.tracker
    assert (t.detect_interval, t.search_interval, t.landmark_interval) == (240, 80, 6)
    frame = Frame(frames[0], 0, Fraction(1, 30), 0)
    last = analyzer.analyze(frame, FrameContext(frame))
    carried = [analyzer.carry(Frame(frames[i], i, Fraction(1, 30), i), FrameContext(frame), last) for i in range(1, 8)]
    assert all(len(c) == 1 for c in carried[:5]) and carried[5] == [] and carried[6] == []
