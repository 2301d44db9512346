"""BlazeFace face detection: letterboxed input, SSD anchor decoding and weighted NMS.

Follows MediaPipe's ``face_detection_short_range`` / ``face_detection_full_range`` graphs, with the
SSD steps shared with the palm detector (``edgefx.vision.ssd``).
Keypoints: 0 right eye, 1 left eye (the subject's), 2 nose tip, 3 mouth, 4 right ear, 5 left ear.
"""

from __future__ import annotations

import cv2
import numpy as np

from edgefx.vision.ssd import Detection, DetectorSpec, SsdDetector, letterbox

SHORT_RANGE = DetectorSpec("face_detection_short_range", 128, (8, 16, 16, 16), 2, 0.5)
FULL_RANGE = DetectorSpec("face_detection_full_range", 192, (4,), 1, 0.6)
SPECS = {"short": SHORT_RANGE, "full": FULL_RANGE}


class FaceDetector(SsdDetector):
    """BlazeFace on a whole frame. ``detect(image)`` returns ``Detection``s in frame pixels."""

    keypoints = 6

    def __init__(self, model: str = "short", threads: int = 1, min_score: float | None = None) -> None:
        super().__init__(SPECS[model], threads, min_score)
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
        return self.detections(raw, logits, (scale, px, py))


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
