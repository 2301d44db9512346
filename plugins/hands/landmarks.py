"""The 21-point hand landmark model on a rotated square region, and the regions that feed it.

As in MediaPipe's hand landmark graphs: the first region comes from a palm detection (turned so
the wrist-to-middle-finger line points up, shifted towards the fingers, 2.6x the palm), later ones
from the previous landmarks (the palm's joints, 2x, shifted slightly towards the fingers). The
model sees a 224x224 RGB crop in [0, 1] and also gives hand presence and handedness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.inference.models import TFLiteModel
from edgefx.vision.rotated_rect import RotatedCropper, RotatedSquare, points_to_frame, square_around
from edgefx.vision.ssd import Detection

NUM_LANDMARKS = 21
WRIST, THUMB_TIP, INDEX_MCP, INDEX_TIP, MIDDLE_MCP, RING_MCP, PINKY_MCP = 0, 4, 5, 8, 9, 13, 17
PALM_JOINTS = (0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18)
"""The landmarks the next region is measured on (MediaPipe's partial landmark set)."""
MODELS = {"lite": "hand_landmark_lite", "full": "hand_landmark_full"}
HANDEDNESS = ("Left", "Right")
"""Labels as MediaPipe gives them: for a mirrored (selfie) picture, i.e. swapped on an unmirrored camera."""


@dataclass(frozen=True, slots=True)
class HandResult:
    """The model's output for one region: ``points`` (21, 3) float32 frame pixels, presence in [0, 1],
    handedness label and its score."""

    points: np.ndarray
    presence: float
    handedness: str
    handedness_score: float


def upright_angle(start: np.ndarray, end: np.ndarray) -> float:
    """The region angle that turns the line ``start`` -> ``end`` to point up in the crop."""
    return math.pi / 2 + math.atan2(float(end[1] - start[1]), float(end[0] - start[0]))


def roi_from_detection(det: Detection) -> RotatedSquare:
    """The landmark region of a palm (``palm_detection_detection_to_roi``): turned by wrist -> middle
    MCP, moved half the box height towards the fingers, 2.6x the box's long side."""
    angle = upright_angle(det.keypoints[0], det.keypoints[2])
    x0, y0, x1, y1 = (float(v) for v in det.box)
    w, h = x1 - x0, y1 - y0
    shift = -0.5 * h
    cx = (x0 + x1) / 2 - shift * math.sin(angle)
    cy = (y0 + y1) / 2 + shift * math.cos(angle)
    return RotatedSquare(cx, cy, max(w, h) * 2.6, angle)


def roi_from_landmarks(points: np.ndarray) -> RotatedSquare:
    """The next frame's region from ``(21, 2+)`` landmarks (``hand_landmark_landmarks_to_roi``)."""
    middle = (points[INDEX_MCP, :2] + points[RING_MCP, :2]) / 2.0
    towards = (middle + points[MIDDLE_MCP, :2]) / 2.0
    angle = upright_angle(points[WRIST], towards)
    return square_around(points[list(PALM_JOINTS), :2], angle, 2.0, shift_y=-0.1)


class HandLandmarker:
    """``hand_landmark_lite``/``_full``: ``run(image, roi)`` gives 21 landmarks in frame pixels."""

    def __init__(self, model: str = "lite", threads: int = 1) -> None:
        self.model = TFLiteModel(MODELS[model], threads=threads)
        self.size = self.model.input_shape[1]
        self.crop = RotatedCropper(self.size, cv2.BORDER_REPLICATE)

    def run(self, image: np.ndarray, roi: RotatedSquare) -> HandResult:
        """Landmarks of the hand in ``roi`` of ``image`` (HxWx3 uint8 BGR)."""
        np.divide(self.crop(image, roi), np.float32(255.0), out=self.model.input_tensor()[0], dtype=np.float32)
        raw, presence, handedness, _world = self.model.invoke()
        points = points_to_frame(raw.reshape(NUM_LANDMARKS, 3), roi, self.size)
        left = float(handedness.ravel()[0])
        label, score = (HANDEDNESS[0], left) if left >= 0.5 else (HANDEDNESS[1], 1.0 - left)
        return HandResult(points, float(presence.ravel()[0]), label, score)
