"""BlazeFace face detection: letterboxed input, SSD anchor decoding and weighted NMS.

Follows MediaPipe's ``face_detection_short_range`` / ``face_detection_full_range`` graphs, with the
SSD steps shared with the palm detector (``edgefx.vision.ssd``).
Keypoints: 0 right eye, 1 left eye (the subject's), 2 nose tip, 3 mouth, 4 right ear, 5 left ear.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.inference.models import TFLiteModel
from edgefx.vision.ssd import DetectorSpec, detections_in_frame, letterbox, ssd_anchor_centres

SHORT_RANGE = DetectorSpec("face_detection_short_range", 128, (8, 16, 16, 16), 2, 0.5)
FULL_RANGE = DetectorSpec("face_detection_full_range", 192, (4,), 1, 0.6)
SPECS = {"short": SHORT_RANGE, "full": FULL_RANGE}


@dataclass(frozen=True, slots=True)
class Detection:
    """One face found by the detector, in frame pixels: ``box`` (x0, y0, x1, y1), ``keypoints`` (6, 2)."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


class FaceDetector:
    """BlazeFace on a whole frame. ``detect(image)`` returns ``Detection``s in frame pixels."""

    def __init__(self, model: str = "short", threads: int = 1, min_score: float | None = None) -> None:
        self.spec = SPECS[model]
        self.model = TFLiteModel(self.spec.model, threads=threads)
        self.anchors = ssd_anchor_centres(self.spec)
        self.min_score = self.spec.min_score if min_score is None else min_score
        size = self.spec.input_size
        self.canvas = np.zeros((size, size, 3), dtype=np.uint8)
        self.stages = (self,)
        """The detectors ``FaceTracker`` tries in turn (see ``AutoDetector``): this one alone."""

    def letterbox(self, image: np.ndarray) -> tuple[np.ndarray, float, float, float]:
        """Fit ``image`` (HxWx3 uint8 BGR) into the square model input keeping its aspect.

        Returns the model input ``(1, S, S, 3)`` float32 RGB in [-1, 1], the scale and the x/y padding.
        """
        scale, px, py = letterbox(image, self.canvas)
        rgb = cv2.cvtColor(self.canvas, cv2.COLOR_BGR2RGB)
        x = rgb.astype(np.float32)[None] * (2.0 / 255.0) - 1.0
        return x, scale, px, py

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (HxWx3 uint8 BGR), best first."""
        x, scale, px, py = self.letterbox(image)
        raw, logits = self.model.run(x)
        return [Detection(*found) for found in detections_in_frame(
            raw, logits, self.anchors, self.spec.input_size, 6, self.min_score, (scale, px, py))]


class AutoDetector:
    """Detector mode ``auto``: the short-range model first, and the full-range model only when the
    short-range one gave no face (``FaceTracker`` tries ``stages`` in order and stops at the first that
    leads to a face). Near faces cost what they did; faces too far for the short-range model (under
    about a fifth of the frame) are still found."""

    def __init__(self, threads: int = 1, min_score: float | None = None) -> None:
        self.stages = (FaceDetector("short", threads, min_score), FaceDetector("full", threads, min_score))


def make_detector(model: str, threads: int = 1, min_score: float | None = None) -> FaceDetector | AutoDetector:
    """The detector for the ``faces`` option ``model``: ``"short"``, ``"full"`` or ``"auto"``."""
    if model == "auto":
        return AutoDetector(threads, min_score)
    return FaceDetector(model, threads, min_score)
