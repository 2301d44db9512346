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


def measure_along(mask: np.ndarray, base: np.ndarray, tip: np.ndarray, band: float, width: float,
                  max_gap: float = 4.0) -> Candidate | None:
    """The stick near a predicted segment: fit a line (Huber) to the mask pixels within ``band`` of the
    segment from ``base`` to ``tip`` (work-image pixels, the segment extended by a quarter each way), keep
    those within ``width`` of the line, and return the run of them along it (no gap over ``max_gap``)
    that overlaps the prediction most. ``None`` when too few pixels remain.

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
    for _ in range(2):  # refit on the pixels near the line: a blob beside the stick stops pulling it
        vx, vy, x0, y0 = cv2.fitLine(pts, cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        direction, origin = np.array([vx, vy]), np.array([x0, y0])
        rel = pts - origin
        near = np.abs(rel @ np.array([-vy, vx])) <= width
        if near.sum() < 0.3 * length:
            return None
        pts = pts[near]
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
