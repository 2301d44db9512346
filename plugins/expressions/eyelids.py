"""Each eye's opening from MediaPipe's iris landmark model, one eye crop at a time.

The 468-point face mesh moves both eyes' lids together: one eye shut lowers both openings alike, so
from the mesh a wink reads as a blink. The iris model sees one eye per crop, so its lids follow
each eye on its own (one eye warped shut: that eye falls to 0.24-0.74 of its open value, the other
stays at 0.97-1.08; tests/test_expressions_faces.py). The crop is MediaPipe's iris graph's: a square
2.3 eye widths wide, turned along the eye corners, 64x64, the subject's left eye mirrored.
"""

from __future__ import annotations

import math

import numpy as np

from edgefx.inference.models import TFLiteModel
from edgefx.vision.rotated_rect import RotatedCropper, RotatedSquare

EYE_CORNERS = {"right": (33, 133), "left": (362, 263)}
"""Face-mesh indices of each eye's corners (the subject's right and left), outer/inner in image order."""
CROP_SCALE = 2.3
CONTOUR_CORNERS, UPPER_MID, LOWER_MID = (0, 8), 12, 4
"""Indices in the model's 71-point eye contour: the corners, and the middle of the upper and lower lid."""


class EyelidReader:
    """``openings(image, landmarks)``: (right, left) lid gap / eye width of one face."""

    def __init__(self, threads: int = 1) -> None:
        self.model = TFLiteModel("iris_landmark", threads=threads)
        self.size = self.model.input_shape[1]
        self.crop = RotatedCropper(self.size)

    def openings(self, image: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
        """Each eye's opening in ``image`` (HxWx3 uint8 BGR) for a face's ``(468, 2+)`` landmarks."""
        right, left = (self._opening(image, landmarks, side) for side in ("right", "left"))
        return right, left

    def _opening(self, image: np.ndarray, landmarks: np.ndarray, side: str) -> float:
        a, b = (landmarks[i, :2].astype(np.float64) for i in EYE_CORNERS[side])
        centre, width = (a + b) / 2.0, float(np.hypot(*(b - a)))
        roi = RotatedSquare(float(centre[0]), float(centre[1]), width * CROP_SCALE,
                            math.atan2(b[1] - a[1], b[0] - a[0]))
        crop = self.crop(image, roi)
        if side == "left":
            crop = crop[:, ::-1]
        np.divide(crop, np.float32(255.0), out=self.model.input_tensor()[0], dtype=np.float32)
        contour = self.model.invoke()[0].reshape(-1, 3)[:, :2]
        i, j = CONTOUR_CORNERS
        eye_width = max(1e-6, float(np.hypot(*(contour[j] - contour[i]))))
        return float(np.hypot(*(contour[UPPER_MID] - contour[LOWER_MID]))) / eye_width
