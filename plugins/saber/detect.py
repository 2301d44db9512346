"""Stick candidates in a colour mask: long, thin, well-filled blobs, as segments."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SKIN_LAB_LO = (40, 134, 134)
SKIN_LAB_HI = (235, 175, 185)
"""A loose skin-tone box in OpenCV 8-bit Lab (reddish and yellowish, not too dark)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """An elongated blob: endpoints ``p0``, ``p1`` (float (2,) arrays, work-image pixels), its width,
    and ``fill`` (blob area over its rotated-rectangle area, 1 for a clean rod)."""

    p0: np.ndarray
    p1: np.ndarray
    width: float
    fill: float

    @property
    def length(self) -> float:
        return float(np.hypot(*(self.p1 - self.p0)))

    def shortened(self, by: float) -> Candidate:
        """The candidate with each end moved ``by`` pixels towards the other (at most to the middle)."""
        axis = self.p1 - self.p0
        step = axis * min(0.5, by / max(1e-6, self.length))
        return Candidate(self.p0 + step, self.p1 - step, self.width, self.fill)


def find_candidates(mask: np.ndarray, min_length: float, min_aspect: float = 4.0, min_fill: float = 0.5,
                    max_width: float | None = None) -> list[Candidate]:
    """Elongated blobs of ``mask`` ((H, W) uint8, 255 = stick colour), longest first.

    A blob counts when its rotated bounding rectangle is at least ``min_length`` long, ``min_aspect``
    times longer than wide, at most ``max_width`` wide, and the blob fills ``min_fill`` of it.
    The endpoints are the midpoints of the rectangle's short sides.
    """
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        if len(contour) < 3:
            continue
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        length, width = max(rw, rh), max(1.0, min(rw, rh))
        if length < min_length or length < min_aspect * width or (max_width is not None and width > max_width):
            continue
        fill = cv2.contourArea(contour) / (length * width)
        if fill < min_fill:
            continue
        a = np.deg2rad(angle if rw >= rh else angle + 90.0)
        half = 0.5 * length * np.array([np.cos(a), np.sin(a)])
        centre = np.array([cx, cy])
        found.append(Candidate(centre - half, centre + half, width, min(1.0, fill)))
    found.sort(key=lambda c: -c.length)
    return found


def skin_beyond(lab_image: np.ndarray, end: np.ndarray, other: np.ndarray, width: float) -> float:
    """Fraction of skin-coloured pixels in a small square just beyond ``end`` (away from ``other``), in an
    (H, W, 3) uint8 Lab image: high when a hand holds the stick at that end."""
    direction = (end - other) / max(1e-6, float(np.hypot(*(end - other))))
    centre = end + direction * 2.0 * width
    r = max(2, round(1.5 * width))
    h, w = lab_image.shape[:2]
    x0, y0 = max(0, round(centre[0]) - r), max(0, round(centre[1]) - r)
    x1, y1 = min(w, round(centre[0]) + r + 1), min(h, round(centre[1]) + r + 1)
    if x1 <= x0 or y1 <= y0:
        return 0.0
    patch = cv2.inRange(lab_image[y0:y1, x0:x1], SKIN_LAB_LO, SKIN_LAB_HI)
    return float(np.count_nonzero(patch)) / patch.size


def _strongest_line(pts: np.ndarray, origin: np.ndarray, angle: float, width: float,
                    spread: float = np.deg2rad(15.0), steps: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Unit direction and a point of the line through most of ``pts`` ((N, 2) float32) within ``spread``
    radians of ``angle``: a Hough vote over angles and offsets, each line counting the points within
    ``width`` of it. Robust to clutter beside the stick, which would tilt a least-squares fit."""
    angles = angle + np.linspace(-spread, spread, steps)
    normals = np.stack([-np.sin(angles), np.cos(angles)])
    offsets = np.rint((pts - origin) @ normals).astype(np.int64)
    lo = int(offsets.min())
    bins = int(offsets.max()) - lo + 1
    votes = np.bincount((offsets - lo + np.arange(steps) * bins).ravel(), minlength=steps * bins)
    cumulative = np.concatenate([np.zeros((steps, 1)), np.cumsum(votes.reshape(steps, bins), axis=1)], axis=1)
    k = max(1, int(2 * width + 1))
    window = cumulative[:, min(k, bins):] - cumulative[:, :bins + 1 - min(k, bins)]
    a, o = np.unravel_index(int(np.argmax(window)), window.shape)
    offset = lo + o + (min(k, bins) - 1) / 2
    direction = np.array([np.cos(angles[a]), np.sin(angles[a])])
    return direction, origin + offset * normals[:, a]


def measure_along(mask: np.ndarray, base: np.ndarray, tip: np.ndarray, band: float, width: float,
                  max_gap: float = 4.0) -> Candidate | None:
    """The stick near a predicted segment: among the mask pixels within ``band`` of the segment from
    ``base`` to ``tip`` (work-image pixels, the segment extended by a quarter each way), find the line
    (near the predicted angle) that most of them lie on, refine it by least squares on the pixels within
    ``width`` of it, and return the run of those pixels along it (no gap over ``max_gap``) that overlaps
    the prediction most. ``None`` when too few pixels remain.

    Unlike ``find_candidates`` this still finds the stick when it touches a bright background blob.
    """
    axis = tip - base
    length = float(np.hypot(*axis))
    if length < 2:
        return None
    ext = 0.25 * axis
    corridor = np.zeros_like(mask)
    p0, p1 = np.rint(base - ext).astype(int), np.rint(tip + ext).astype(int)
    cv2.line(corridor, (int(p0[0]), int(p0[1])), (int(p1[0]), int(p1[1])), 255, max(1, round(2 * band)))
    points = cv2.findNonZero(cv2.bitwise_and(mask, corridor))
    if points is None or len(points) < 0.3 * length:
        return None
    pts = points.reshape(-1, 2).astype(np.float32)
    direction, origin = _strongest_line(pts, base, float(np.arctan2(axis[1], axis[0])), width)
    near = np.abs((pts - origin) @ np.array([-direction[1], direction[0]])) <= width
    if near.sum() < 0.3 * length:
        return None
    pts = pts[near]
    vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_L2, 0, 0.01, 0.01).ravel()
    direction, origin = np.array([vx, vy]), np.array([x0, y0])
    along = np.sort((pts - origin) @ direction)
    breaks = np.flatnonzero(np.diff(along) > max_gap)
    starts = np.concatenate([[0], breaks + 1])
    ends = np.concatenate([breaks, [len(along) - 1]])
    pred = sorted(((base - origin) @ direction, (tip - origin) @ direction))
    overlap = np.minimum(along[ends], pred[1]) - np.maximum(along[starts], pred[0])
    k = int(np.argmax(overlap))
    lo, hi = along[starts[k]], along[ends[k]]
    if overlap[k] <= 0 or hi - lo < 0.3 * length:
        return None
    fill = (ends[k] - starts[k] + 1) / max(1.0, (hi - lo) * 2 * width)
    return Candidate(origin + lo * direction, origin + hi * direction, 2 * width, min(1.0, float(fill)))
