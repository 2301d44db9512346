"""Single-shot detectors as MediaPipe runs them (BlazeFace, BlazePalm): letterboxed input, SSD
anchors (``SsdAnchorsCalculator``), box and keypoint decoding (``TensorsToDetectionsCalculator``)
and weighted non-maximum suppression. The face and palm detectors share these, and
``SsdDetector``: the model, its anchors and the letterbox canvas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.inference.models import TFLiteModel


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """The anchor layout and thresholds of one SSD model."""

    model: str
    input_size: int
    strides: tuple[int, ...]
    anchors_per_layer: int
    min_score: float


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


def letterbox(image: np.ndarray, canvas: np.ndarray, sampling: str = "area") -> tuple[float, float, float]:
    """Fit ``image`` (HxWx3 uint8 BGR) into the square ``canvas`` keeping its aspect, black bars around.

    ``sampling`` is how each detector's own MediaPipe graph resizes, measured against that graph
    (a detector fed another resize places its boxes a little differently):

    - ``"area"``: an area resize to whole pixels, centred (BlazeFace: landmarks within 0.08-0.40%
      of the inter-ocular distance of MediaPipe's face graph; 0.20-0.42% with ``"warp"``);
    - ``"warp"``: ``ImageToTensorCalculator`` with ``keep_aspect_ratio`` and ``BORDER_ZERO``, one
      bilinear warp with the exact scale and padding (BlazePalm: first-frame hand landmarks within
      0.2-0.5% of the palm size of MediaPipe's hand graph, against 1.2-4.6% with ``"area"``). It
      samples only the canvas's pixels, so it also costs less than an area resize.

    Returns the scale and the x/y padding (canvas pixel = image pixel * scale + padding).
    """
    size = canvas.shape[0]
    h, w = image.shape[:2]
    scale = size / max(h, w)
    if sampling == "warp":
        px, py = (size - w * scale) / 2.0, (size - h * scale) / 2.0
        cv2.warpAffine(image, np.array([[scale, 0.0, px], [0.0, scale, py]]), (size, size), dst=canvas,
                       flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        return scale, px, py
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    x, y = (size - nw) // 2, (size - nh) // 2
    canvas[:] = 0
    canvas[y:y + nh, x:x + nw] = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_AREA)
    return scale, x, y


def decode(raw: np.ndarray, anchors: np.ndarray, size: int, keypoints: int) -> tuple[np.ndarray, np.ndarray]:
    """Boxes ``(N, 4)`` x0, y0, x1, y1 and keypoints ``(N, K, 2)`` in [0, 1] of the input, from the
    regressors ``(N, 4 + 2K)`` (input pixels relative to each anchor centre, x before y)."""
    centre = raw[:, 0:2] / size + anchors
    half = raw[:, 2:4] / size / 2.0
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = raw[:, 4:4 + 2 * keypoints].reshape(-1, keypoints, 2) / size + anchors[:, None, :]
    return boxes, kps


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Scores from the model's logits, clipped at +-100 as MediaPipe does (float64)."""
    return 1.0 / (1.0 + np.exp(-np.clip(logits.astype(np.float64), -100, 100)))


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


def detections_in_frame(raw: np.ndarray, logits: np.ndarray, anchors: np.ndarray, size: int, keypoints: int,
                        min_score: float, placement: tuple[float, float, float]
                        ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """An SSD model's outputs as detections in frame pixels, best first: ``(corners (4,), keypoints
    (K, 2), score)`` float32. ``placement`` is ``letterbox``'s scale and x/y padding."""
    scores = sigmoid(logits[0, :, 0])
    keep = scores >= min_score
    if not keep.any():
        return []
    scale, px, py = placement
    boxes, kps = decode(raw[0, keep].astype(np.float64), anchors[keep], size, keypoints)
    offset = np.array([px, py])
    return [(((box.reshape(2, 2) * size - offset) / scale).ravel().astype(np.float32),
             ((kp * size - offset) / scale).astype(np.float32), score)
            for box, kp, score in weighted_nms(boxes, kps, scores[keep])]


@dataclass(frozen=True, slots=True)
class Detection:
    """One object an SSD detector found, in frame pixels: ``box`` (x0, y0, x1, y1), ``keypoints``
    (K, 2) and ``score``."""

    box: np.ndarray
    keypoints: np.ndarray
    score: float


class SsdDetector:
    """An SSD model (``spec``) with its anchors and a letterbox canvas of its input size; a
    subclass fills the input the way its model wants and calls ``detections``."""

    keypoints: int
    """Keypoints per detection in the model's output."""

    def __init__(self, spec: DetectorSpec, threads: int = 1, min_score: float | None = None) -> None:
        self.spec = spec
        self.model = TFLiteModel(spec.model, threads=threads)
        self.anchors = ssd_anchor_centres(spec)
        self.min_score = spec.min_score if min_score is None else min_score
        self.canvas = np.zeros((spec.input_size, spec.input_size, 3), dtype=np.uint8)

    def detections(self, raw: np.ndarray, logits: np.ndarray,
                   placement: tuple[float, float, float]) -> list[Detection]:
        """The model's outputs as detections in frame pixels, best first (``placement``: the
        letterbox's scale and x/y padding)."""
        return [Detection(*found) for found in detections_in_frame(
            raw, logits, self.anchors, self.spec.input_size, self.keypoints, self.min_score, placement)]
