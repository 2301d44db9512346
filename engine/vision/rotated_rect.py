"""Rotated square regions of interest: crop them from a frame and map points back.

A region is a square of side ``size`` pixels centred at ``(cx, cy)`` and turned by ``angle``
radians (image coordinates, y down, positive = clockwise on screen). Models see it upright.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class RotatedSquare:
    """A square region: centre ``(cx, cy)`` and ``size`` in frame pixels, ``angle`` in radians."""

    cx: float
    cy: float
    size: float
    angle: float

    def to_frame(self, out_size: int, origin: tuple[int, int] = (0, 0)) -> np.ndarray:
        """The 2x3 affine (float64) taking crop pixels of an ``out_size`` crop to frame pixels,
        counted from ``origin`` (the top-left corner of a view of the frame)."""
        s = self.size / out_size
        c, n = math.cos(self.angle) * s, math.sin(self.angle) * s
        # crop (u, v) -> frame: centre + R(angle) @ ((u, v) - out_size / 2) * s
        half = out_size / 2.0
        return np.array([[c, -n, self.cx - origin[0] - c * half + n * half],
                         [n, c, self.cy - origin[1] - n * half - c * half]])

    def bounds(self, width: int, height: int) -> tuple[int, int, int, int]:
        """Integer box ``x0, y0, x1, y1`` holding the square (with a pixel's margin for bilinear
        sampling), clipped to a ``width`` x ``height`` frame."""
        half = self.size / 2.0 * (abs(math.cos(self.angle)) + abs(math.sin(self.angle)))
        return (max(0, int(self.cx - half) - 1), max(0, int(self.cy - half) - 1),
                min(width, int(self.cx + half) + 2), min(height, int(self.cy + half) + 2))


class RotatedCropper:
    """Samples rotated squares of BGR frames into upright ``size`` x ``size`` RGB uint8 crops.

    Only the region's bounding box is read: one pass turns it BGR -> RGBA into a reused buffer
    (OpenCV's bilinear warp is about twice as fast on 4 channels as on 3), the warp samples the
    crop from there, and the alpha channel is dropped. Outside the frame is ``border``: black
    (``cv2.BORDER_CONSTANT``, as MediaPipe's face landmark graph crops) or the frame's edge pixels
    repeated (``cv2.BORDER_REPLICATE``, as its hand landmark graph crops; a black border at a frame
    edge pulls the hand model's points).
    """

    def __init__(self, size: int, border: int = cv2.BORDER_CONSTANT) -> None:
        self.size = size
        self.border = border
        self.region = np.empty((0, 0, 4), np.uint8)
        self.rgba = np.empty((size, size, 4), np.uint8)
        self.rgb = np.empty((size, size, 3), np.uint8)

    def __call__(self, image: np.ndarray, roi: RotatedSquare) -> np.ndarray:
        """The crop of ``roi`` from ``image`` (HxWx3 uint8 BGR); a buffer reused by the next call."""
        h, w = image.shape[:2]
        x0, y0, x1, y1 = roi.bounds(w, h)
        if x1 <= x0 or y1 <= y0:
            self.rgb.fill(0)
            return self.rgb
        region = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2RGBA, dst=self._region(y1 - y0, x1 - x0))
        cv2.warpAffine(region, roi.to_frame(self.size, (x0, y0)), (self.size, self.size), dst=self.rgba,
                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=self.border)
        return cv2.cvtColor(self.rgba, cv2.COLOR_RGBA2RGB, dst=self.rgb)

    def _region(self, h: int, w: int) -> np.ndarray:
        """A ``h`` x ``w`` RGBA view of the region buffer, grown when too small."""
        if self.region.shape[0] < h or self.region.shape[1] < w:
            self.region = np.empty((max(h, self.region.shape[0]), max(w, self.region.shape[1]), 4), np.uint8)
        return self.region[:h, :w]


def points_to_frame(points: np.ndarray, roi: RotatedSquare, out_size: int) -> np.ndarray:
    """Map ``(N, 3)`` crop coordinates of an ``out_size`` crop to frame pixels (float32).

    x and y are transformed; the depth is scaled by the crop-to-frame scale. One ``cv2.transform``,
    in float64 (in float32 the ~1e-4 px rounding feeds back through the next region).
    """
    (a, b, tx), (c, d, ty) = roi.to_frame(out_size).tolist()
    m = np.array([[a, b, 0.0, tx], [c, d, 0.0, ty], [0.0, 0.0, roi.size / out_size, 0.0]])
    return cv2.transform(points.reshape(-1, 1, 3).astype(np.float64), m).reshape(-1, 3).astype(np.float32)


def xy_bounds(points: np.ndarray) -> tuple[float, float, float, float]:
    """``x0, y0, x1, y1`` of ``(N, 2+)`` or ``(N, 1, 2+)`` points (``cv2.minMaxLoc`` per column:
    NumPy's min/max down a narrow column is ~5x slower on 468 points)."""
    flat = points.reshape(len(points), -1)
    x0, x1 = cv2.minMaxLoc(flat[:, 0])[:2]
    y0, y1 = cv2.minMaxLoc(flat[:, 1])[:2]
    return x0, y0, x1, y1


def square_around(points: np.ndarray, angle: float, scale: float, shift_y: float = 0.0) -> RotatedSquare:
    """The square turned by ``angle`` that holds ``(N, 2+)`` ``points`` (x, y used),
    its side scaled by ``scale``.

    The box is measured in the turned frame, so a tilted face gets the same size as an upright one.
    ``shift_y`` moves the centre along the turned frame's y axis by that fraction of the box height
    (MediaPipe's ``RectTransformationCalculator``; the hand region leans towards the fingers).
    """
    c, s = math.cos(angle), math.sin(angle)
    columns = points.shape[1]
    frame_to_upright = np.zeros((2, columns))
    frame_to_upright[:, :2] = [[c, s], [-s, c]]
    upright = cv2.transform(points.reshape(-1, 1, columns).astype(np.float64), frame_to_upright)
    x0, y0, x1, y1 = xy_bounds(upright)
    ux, uy = (x0 + x1) / 2.0, (y0 + y1) / 2.0 + shift_y * (y1 - y0)
    size = max(x1 - x0, y1 - y0) * scale
    return RotatedSquare(ux * c - uy * s, ux * s + uy * c, size, angle)  # centre back to the frame
