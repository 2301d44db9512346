"""Hand landmarks against MediaPipe's own hand graph, and the gesture rules on its landmarks.

The reference (``tests/data/hands/reference.json``) is written by ``tools/hand_reference.py``, which
runs ``mediapipe==0.10.21`` in its own venv on real photos of hands from Debian's ``opencv-doc`` and
npm ``fingerpose`` (``tools/registry_media.py`` fetches those), each placed on a 1280x720 canvas at 5
scales and turns. Errors are the mean distance over the 21 points in x and y, divided by the palm
size (wrist to middle knuckle) of the reference hand.
"""

from __future__ import annotations

import json
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.hands.analyzer import HandsAnalyzer
from edgefx.plugins.hands.gestures import GESTURES, hand_gesture

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from hand_reference import PHOTOS, TRACKED_FRAMES, load, placed  # noqa: E402

REFERENCE = json.loads((ROOT / "tests" / "data" / "hands" / "reference.json").read_text())
OPEN_PALMS = {"back_projection_source", "back_projection_theory0", "back_projection_theory2", "histogram_source0",
              "histogram_source1", "histogram_source2", "hull_original"}
"""The photos showing an open hand, fingers and thumb spread (the other opencv-doc hands are flat
with the thumb in, on a board or at the face)."""
SHOWN = {"fingerpose_fist": "fist", "fingerpose_pointing": "pointing"}
"""fingerpose's photos of one gesture each (its third, an index half curled, is none of ours). No
registry package has a real photo of thumbs up or down, victory, OK or a two-hand heart."""


def photo(name: str) -> np.ndarray:
    path = PHOTOS[name][0]
    image = load(path)
    if image is None:
        pytest.fail(f"{path} is missing: apt-get install opencv-doc; python3 tools/registry_media.py "
                    "(the real hand photos)")
    return image


def hand_errors(model: str, tracked: bool) -> dict[str, list[float]]:
    """Per split, the normalised mean error of each reference hand (the nearest hand we found)."""
    key = f"{model}_tracked" if tracked else model
    errors: dict[str, list] = {"tune": [], "held_out": [], "missed": []}  # missed: photo names
    photos = {name: photo(name) for name in PHOTOS}
    for case in REFERENCE["cases"]:
        image = placed(photos[case["photo"]], case["scale"], case["degrees"])
        # as MediaPipe's graph: palms on the frame they were found on, landmarks every frame
        analyzer = HandsAnalyzer({"model": model, "smoothing": False, "detect_delay": 0, "landmark_interval": 1})
        analyzer.start()
        for i in range(TRACKED_FRAMES if tracked else 1):
            frame = Frame(image, i, Fraction(1, 30), i)
            hands = analyzer.analyze(frame, FrameContext(frame))
        for ref in case[key]:
            points = np.array(ref["landmarks"])[:, :2]
            palm = np.linalg.norm(points[0] - points[9])
            if not hands:
                errors["missed"].append(case["photo"])
                continue
            errors[case["split"]].append(min(float(np.linalg.norm(h.landmarks[:, :2] - points, axis=1).mean())
                                             for h in hands) / palm)
    return errors


@pytest.fixture(scope="module")
def tracked_errors(models_dir) -> dict[str, dict[str, list[float]]]:
    return {model: hand_errors(model, tracked=True) for model in ("lite", "full")}


@pytest.mark.parametrize("model", ["lite", "full"])
def test_tracked_landmarks_match_mediapipe_within_3_percent_of_the_palm(tracked_errors, model):
    errors = tracked_errors[model]
    report = {split: (round(float(np.mean(v)), 4), len(v)) for split, v in errors.items() if v and split != "missed"}
    report["missed"] = errors["missed"]
    print(f"\n{model} tracked, normalised mean error (mean, hands): {report}")
    assert len(errors["missed"]) <= 2, report
    for split in ("tune", "held_out"):
        assert len(errors[split]) >= 12, report
        assert np.mean(errors[split]) <= 0.03, report


def test_first_frame_landmarks_match_mediapipe_within_3_percent_of_the_palm(models_dir):
    """The first frame's region comes straight from the palm detector, so this checks the detector's
    input (letterboxed as MediaPipe's ``ImageToTensorCalculator`` does) as well as the landmarks."""
    errors = hand_errors("lite", tracked=False)
    found = errors["tune"] + errors["held_out"]
    print(f"\nlite first frame: mean {np.mean(found):.4f}, median {np.median(found):.4f}, "
          f"tune mean {np.mean(errors['tune']):.4f}, held-out mean {np.mean(errors['held_out']):.4f}, "
          f"missed {errors['missed']}")
    # the palm detector misses only fingerpose's half-curled index at 2x (MediaPipe finds it)
    assert set(errors["missed"]) <= {"fingerpose_half_curl"} and len(errors["missed"]) <= 2, errors["missed"]
    for split in ("tune", "held_out"):
        assert len(errors[split]) >= 12 and np.mean(errors[split]) <= 0.03, errors[split]


def reference_hands() -> list[tuple[str, np.ndarray]]:
    return [(case["photo"], np.array(hand["landmarks"], np.float32)) for case in REFERENCE["cases"]
            for key in ("lite", "full", "lite_tracked", "full_tracked") for hand in case[key]]


def test_gesture_rules_on_mediapipe_landmarks_of_real_hands():
    """Open palms read as ``open_palm``, fingerpose's fist as ``fist`` and its pointing hand as
    ``pointing`` (recall per gesture over all placements and both models); no real hand reads as another
    gesture (the other opencv-doc hands, flat or partly hidden, may read as open palms)."""
    hands = reference_hands()
    expected = {name: "open_palm" for name in OPEN_PALMS} | SHOWN
    readings: dict[str, list[str | None]] = {}
    for name, points in hands:
        readings.setdefault(expected.get(name, name), []).append(hand_gesture(points))
    recall = {gesture: readings[gesture].count(gesture) / len(readings[gesture])
              for gesture in set(expected.values())}
    print(f"\nrecall: { {g: (round(r, 3), len(readings[g])) for g, r in sorted(recall.items())} }; "
          f"readings: { {k: sorted(set(map(str, v))) for k, v in sorted(readings.items())} }")
    assert recall["open_palm"] >= 0.9 and recall["fist"] >= 0.9 and recall["pointing"] >= 0.9, recall
    allowed = {"fingerpose_half_curl": {None, "pointing"}}  # an index half up may read as pointing
    for shown, read in readings.items():
        assert set(read) <= allowed.get(shown, {shown, None, "open_palm"} - ({"open_palm"} if shown in SHOWN.values()
                                                                               else set())), (shown, read)
    assert all(g in GESTURES for v in readings.values() for g in v if g is not None)
