"""The 468-point face mesh model on a rotated square region, and the next region from its output.

As in MediaPipe's face landmark graphs: the region comes from the detector's eye keypoints
(first frame) or from the previous landmarks (tracking), is turned so the eyes are level,
and is 1.5x the face; the model sees it as a 192x192 RGB crop in [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edgefx.inference.models import TFLiteModel
from edgefx.vision.rotated_rect import RotatedCropper, RotatedSquare, points_to_frame, square_around
from edgefx.vision.ssd import Detection

NUM_LANDMARKS = 468
RIGHT_EYE_OUTER, LEFT_EYE_OUTER = 33, 263
"""Mesh indices of the subject's right and left outer eye corners (they set the region's angle)."""
ROI_SCALE = 1.5


@dataclass(frozen=True, slots=True)
class LandmarkResult:
    """The model's output for one region: ``points`` (468, 3) float32 frame pixels, presence in [0, 1]."""

    points: np.ndarray
    presence: float


def roi_from_detection(det: Detection) -> RotatedSquare:
    """The landmark region for a detection: its box, turned by the eye line, 1.5x, square."""
    right, left = det.keypoints[0], det.keypoints[1]
    angle = math.atan2(float(left[1] - right[1]), float(left[0] - right[0]))
    x0, y0, x1, y1 = (float(v) for v in det.box)
    return RotatedSquare((x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) * ROI_SCALE, angle)


def roi_from_landmarks(points: np.ndarray) -> RotatedSquare:
    """The next frame's region from ``(468, 2+)`` landmarks: turned by the eye corners, 1.5x the face."""
    right, left = points[RIGHT_EYE_OUTER], points[LEFT_EYE_OUTER]
    angle = math.atan2(float(left[1] - right[1]), float(left[0] - right[0]))
    return square_around(points[:, :2], angle, ROI_SCALE)


class FaceLandmarker:
    """``face_landmark.tflite``: ``run(image, roi)`` gives 468 landmarks in frame pixels."""

    def __init__(self, threads: int = 1) -> None:
        self.model = TFLiteModel("face_landmark", threads=threads)
        self.size = self.model.input_shape[1]
        self.crop = RotatedCropper(self.size)

    def run(self, image: np.ndarray, roi: RotatedSquare) -> LandmarkResult:
        """Landmarks of the face in ``roi`` of ``image`` (HxWx3 uint8 BGR)."""
        self._set_input(self.crop(image, roi))
        raw, flag = self.model.invoke()
        presence = 1.0 / (1.0 + math.exp(-max(-100.0, min(100.0, float(flag.ravel()[0])))))
        points = points_to_frame(raw.reshape(NUM_LANDMARKS, 3), roi, self.size)
        return LandmarkResult(points, presence)

    def _set_input(self, crop: np.ndarray) -> None:
        """Scale the RGB uint8 crop to [0, 1] float32 straight into the model's input tensor (no copy
        into the tensor follows; dividing in float32 is 2x NumPy's float64 multiply and gives the same values)."""
        np.divide(crop, np.float32(255.0), out=self.model.input_tensor()[0], dtype=np.float32)
