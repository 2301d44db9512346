"""BlazeFace face detection: letterboxed input, SSD anchor decoding and weighted NMS.

Follows MediaPipe's ``face_detection_short_range`` / ``face_detection_full_range`` graphs:
the same anchors (``SsdAnchorsCalculator``), box and keypoint decoding
(``TensorsToDetectionsCalculator``) and weighted non-maximum suppression.
Keypoints: 0 right eye, 1 left eye (the subject's), 2 nose tip, 3 mouth, 4 right ear, 5 left ear.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.models import TFLiteModel


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """The anchor layout and thresholds of one BlazeFace model."""

    model: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    min_score: float


SHORT_RANGE = DetectorSpec("face_detection_short_range", 128, (8, 16, 16, 16), 2, 0.5)
FULL_RANGE = DetectorSpec("face_detection_full_range", 192, (4,), 1, 0.6)
SPECS = {"short": SHORT_RANGE, "full": FULL_RANGE}


@dataclass(frozen=True, slots=True)
class Detection:
    """One face found by the detector, in frame pixels: ``box`` (x0, y0, x1, y1), ``keypoints`` (6, 2)."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


def ssd_anchor_centres(spec: DetectorSpec) -> np.ndarray:
    """Anchor centres ``(N, 2)`` float32 in [0, 1], in the model's output order.

    Consecutive layers with the same stride share a feature map, so their anchors interleave per
    cell; all anchors have size 1 (``fixed_anchor_size``), so only centres matter.
    """
    centres = []
    i = 0
    while i < len(spec.strides):
        stride, same = spec.strides[i], 0
        while i < len(spec.strides) and spec.strides[i] == stride:
            same, i = same + 1, i + 1
        cells = math.ceil(spec.input_size / stride)
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        grid = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(grid, same * spec.anchors_per_layer, axis=0))
    return np.concatenate(centres).astype(np.float32)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of ``box`` (4,) with each of ``boxes`` (N, 4), all (x0, y0, x1, y1)."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


def weighted_nms(boxes: np.ndarray, keypoints: np.ndarray, scores: np.ndarray,
                 threshold: float = 0.3) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted NMS: each cluster of boxes overlapping the best one by more than
    ``threshold`` IoU is replaced by the score-weighted mean of its boxes and keypoints.

    ``boxes`` (N, 4), ``keypoints`` (N, K, 2), ``scores`` (N,). Returns (box, keypoints, score) tuples.
    """
    order = np.argsort(-scores)
    boxes, keypoints, scores = boxes[order], keypoints[order], scores[order]
    remaining = np.ones(len(scores), dtype=bool)
    out = []
    for i in range(len(scores)):
        if not remaining[i]:
            continue
        cluster = remaining & (box_iou(boxes[i], boxes) > threshold)
        cluster[i] = True
        w = scores[cluster][:, None]
        box = (boxes[cluster] * w).sum(axis=0) / w.sum()
        kps = (keypoints[cluster] * w[:, :, None]).sum(axis=0) / w.sum()
        out.append((box, kps, float(scores[i])))
        remaining &= ~cluster
    return out


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
        size = self.spec.input_size
        h, w = image.shape[:2]
        scale = size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        px, py = (size - nw) // 2, (size - nh) // 2
        self.canvas[:] = 0
        self.canvas[py:py + nh, px:px + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(self.canvas, cv2.COLOR_BGR2RGB)
        x = rgb.astype(np.float32)[None] * (2.0 / 255.0) - 1.0
        return x, scale, px, py

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Faces in ``image`` (HxWx3 uint8 BGR), best first."""
        x, scale, px, py = self.letterbox(image)
        raw, logits = self.model.run(x)
        scores = 1.0 / (1.0 + np.exp(-np.clip(logits[0, :, 0].astype(np.float64), -100, 100)))
        keep = scores >= self.min_score
        if not keep.any():
            return []
        size = self.spec.input_size
        raw, anchors = raw[0, keep].astype(np.float64), self.anchors[keep]
        # regressors are in input pixels relative to the anchor centre (x before y)
        centre = raw[:, 0:2] / size + anchors
        half = raw[:, 2:4] / size / 2.0
        boxes = np.concatenate([centre - half, centre + half], axis=1)
        kps = raw[:, 4:16].reshape(-1, 6, 2) / size + anchors[:, None, :]

        def to_frame(norm: np.ndarray) -> np.ndarray:
            return (norm * size - np.array([px, py])) / scale

        out = []
        for box, kp, score in weighted_nms(boxes, kps, scores[keep]):
            corners = to_frame(box.reshape(2, 2)).ravel()
            out.append(Detection(corners.astype(np.float32), to_frame(kp).astype(np.float32), score))
        return out


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
