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

    def to_frame(self, out_size: int) -> np.ndarray:
        """The 2x3 affine (float64) taking crop pixels of an ``out_size`` crop to frame pixels."""
        s = self.size / out_size
        c, n = math.cos(self.angle) * s, math.sin(self.angle) * s
        # crop (u, v) -> frame: centre + R(angle) @ ((u, v) - out_size / 2) * s
        half = out_size / 2.0
        return np.array([[c, -n, self.cx - c * half + n * half],
                         [n, c, self.cy - n * half - c * half]])

    def corners(self) -> np.ndarray:
        """The four corners in frame pixels, ``(4, 2)`` float64, clockwise from top-left."""
        unit = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
        m = self.to_frame(1)
        return unit @ m[:, :2].T + m[:, 2]


def crop_rotated(image: np.ndarray, roi: RotatedSquare, out_size: int) -> np.ndarray:
    """Sample ``roi`` from ``image`` (HxWxC uint8) into an upright ``(out_size, out_size, C)`` uint8 crop.

    Only the crop's pixels are computed, from a view of the region's bounding box (no full-frame
    work, fewer cache misses); outside the frame is black.
    """
    corners = roi.corners()
    h, w = image.shape[:2]
    x0, y0 = (max(0, int(v) - 1) for v in corners.min(axis=0))
    x1, y1 = min(w, int(corners[:, 0].max()) + 2), min(h, int(corners[:, 1].max()) + 2)
    if x1 <= x0 or y1 <= y0:
        return np.zeros((out_size, out_size, *image.shape[2:]), image.dtype)
    to_frame = roi.to_frame(out_size)
    to_frame[:, 2] -= (x0, y0)
    return cv2.warpAffine(image[y0:y1, x0:x1], to_frame, (out_size, out_size),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT)


def points_to_frame(points: np.ndarray, roi: RotatedSquare, out_size: int) -> np.ndarray:
    """Map ``(N, 2+)`` crop coordinates of an ``out_size`` crop to frame pixels.

    x and y are transformed; a third column (depth) is scaled by the crop-to-frame scale.
    Returns float32 of the same shape.
    """
    m = roi.to_frame(out_size)
    out = np.empty(points.shape, dtype=np.float32)
    out[:, :2] = points[:, :2] @ m[:, :2].T + m[:, 2]
    if points.shape[1] > 2:
        out[:, 2:] = points[:, 2:] * (roi.size / out_size)
    return out


def square_around(points: np.ndarray, angle: float, scale: float) -> RotatedSquare:
    """The square turned by ``angle`` that holds ``(N, 2)`` ``points``, its side scaled by ``scale``.

    The box is measured in the turned frame, so a tilted face gets the same size as an upright one.
    """
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, s], [-s, c]])  # frame -> upright
    upright = points[:, :2] @ rot.T
    lo, hi = upright.min(axis=0), upright.max(axis=0)
    centre = ((lo + hi) / 2.0) @ rot  # back to frame
    size = float(max(hi - lo)) * scale
    return RotatedSquare(float(centre[0]), float(centre[1]), size, angle)
