"""Landmark accuracy on the real astronaut photo and on moved/scaled/rotated copies with known transforms."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.faces.analyzer import FacesAnalyzer
from edgefx.plugins.faces.detector import FULL_RANGE, SHORT_RANGE, FaceDetector
from edgefx.plugins.faces.landmarks import LEFT_EYE_OUTER, RIGHT_EYE_OUTER
from edgefx.vision.ssd import ssd_anchor_centres

FACE_CENTRE = (225.0, 125.0)  # roughly the astronaut's face centre in the 512x512 photo


def landmarks_of(image: np.ndarray, model: str = "short", frames: int = 3) -> np.ndarray:
    """Raw (unsmoothed) landmarks of the one face in ``image`` after ``frames`` tracked frames."""
    analyzer = FacesAnalyzer({"smoothing": False, "model": model, "max_faces": 1})
    analyzer.start()
    faces = []
    for i in range(frames):
        frame = Frame(image, i, Fraction(1, 30), i)
        faces = analyzer.analyze(frame, FrameContext(frame))
    assert len(faces) == 1, f"expected one face, found {len(faces)}"
    return faces[0].landmarks


def placed(photo: np.ndarray, centre: tuple[float, float], scale: float, degrees: float,
           size: tuple[int, int] = (1280, 720)) -> tuple[np.ndarray, np.ndarray]:
    """The photo turned by ``degrees`` and scaled about its face, face moved to ``centre``; and the 2x3 transform."""
    m = cv2.getRotationMatrix2D(FACE_CENTRE, degrees, scale)
    m[:, 2] += (centre[0] - FACE_CENTRE[0], centre[1] - FACE_CENTRE[1])
    return cv2.warpAffine(photo, m, size, flags=cv2.INTER_LINEAR, borderValue=(80, 80, 80)), m


@pytest.fixture(scope="module")
def reference(astronaut_bgr, models_dir) -> np.ndarray:
    return landmarks_of(astronaut_bgr)


def test_anchor_layouts_match_the_models(models_dir):
    assert ssd_anchor_centres(SHORT_RANGE).shape == (896, 2)
    assert ssd_anchor_centres(FULL_RANGE).shape == (2304, 2)


@pytest.mark.parametrize("model", ["short", "full"])
def test_detector_finds_the_astronaut_with_keypoints_in_place(astronaut_bgr, models_dir, model):
    detections = FaceDetector(model).detect(astronaut_bgr)
    assert len(detections) == 1
    det = detections[0]
    x0, y0, x1, y1 = det.box
    assert 160 < x0 < x1 < 290 and 50 < y0 < y1 < 190 and det.score > 0.8
    right_eye, left_eye, nose, mouth = det.keypoints[:4]
    assert right_eye[0] < nose[0] < left_eye[0]  # the subject's right eye is on the image's left
    assert max(right_eye[1], left_eye[1]) < nose[1] < mouth[1]


def test_reference_landmarks_sit_on_the_face(reference):
    assert reference.shape == (468, 3)
    iod = np.linalg.norm(reference[RIGHT_EYE_OUTER, :2] - reference[LEFT_EYE_OUTER, :2])
    assert 50 < iod < 80  # the astronaut's eye corners are ~62 px apart
    x0, y0 = reference[:, :2].min(axis=0)
    x1, y1 = reference[:, :2].max(axis=0)
    assert 160 < x0 < x1 < 290 and 50 < y0 < y1 < 200


@pytest.mark.parametrize(("centre", "scale", "degrees", "model"), [
    ((640, 360), 2.0, 0.0, "short"),
    ((400, 300), 2.5, 0.0, "short"),
    ((900, 400), 1.6, 0.0, "short"),
    ((640, 360), 2.0, 20.0, "short"),
    ((700, 300), 2.2, -30.0, "short"),
    ((600, 360), 2.0, 45.0, "short"),
    ((300, 200), 1.0, 0.0, "full"),  # a far (small) face needs the full-range detector
    ((900, 500), 0.8, 15.0, "full"),
])
def test_landmarks_follow_known_transforms(astronaut_bgr, reference, centre, scale, degrees, model):
    image, m = placed(astronaut_bgr, centre, scale, degrees)
    found = landmarks_of(image, model)
    expected = reference[:, :2] @ m[:, :2].T + m[:, 2]
    iod = np.linalg.norm(expected[RIGHT_EYE_OUTER] - expected[LEFT_EYE_OUTER])
    nme = float(np.linalg.norm(found[:, :2] - expected, axis=1).mean() / iod)
    print(f"NME centre={centre} scale={scale} rot={degrees} model={model}: {100 * nme:.2f}% of inter-ocular")
    assert nme <= 0.03


def test_short_range_misses_a_far_face_that_full_range_finds(astronaut_bgr, models_dir):
    image, _ = placed(astronaut_bgr, (300, 200), 1.0, 0.0)
    assert FaceDetector("short").detect(image) == []
    assert len(FaceDetector("full").detect(image)) == 1
