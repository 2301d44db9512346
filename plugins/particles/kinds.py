"""What each particle kind looks like and how it moves (sizes and speeds at 720p; scaled to the frame)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class Kind:
    """Motion and look of one kind. Speeds in px/s, sizes in px at a 720-pixel-high frame;
    ``from_top``: spawned above the frame (else below); ``life``: seconds (0 = until it leaves)."""

    sprite: str
    colors: tuple[tuple[int, int, int], ...]
    from_top: bool
    speed: tuple[float, float]
    sway: float
    gravity: float
    size: tuple[float, float]
    rate: float
    life: tuple[float, float] = (0.0, 0.0)
    additive: bool = False
    spin: float = 0.0


KINDS: dict[str, Kind] = {
    "snow": Kind("soft", ((255, 255, 255), (245, 240, 235)), True, (60, 140), 30, 0, (5, 14), 90),
    "sparks": Kind("soft", ((40, 160, 255), (60, 220, 255), (120, 240, 255), (20, 90, 240)), False, (-520, -300), 40,
                   380, (5, 11), 160, (0.5, 1.4), additive=True),
    "confetti": Kind("square", ((60, 60, 230), (60, 200, 60), (230, 120, 40), (40, 210, 240), (200, 60, 200)),
                     True, (120, 220), 60, 0, (8, 14), 110, spin=6.0),
    "hearts": Kind("heart", ((90, 40, 230), (150, 100, 255), (60, 20, 200)), False, (-150, -80), 35, 0, (14, 26), 14,
                   (2.5, 5.0)),
}

def area_share(kind: Kind) -> float:
    """Share of ``max`` a kind may have alive: ``max`` counts snowflake-sized particles, so bigger
    sprites (hearts) get proportionally fewer and a full screen costs about the same to draw."""
    reference = sum(KINDS["snow"].size) / 2
    return min(1.0, (reference / (sum(kind.size) / 2)) ** 2)


SIZE_BUCKETS = 4
"""Sprites are pre-rendered at this many sizes per kind."""


def sprite(shape: str, size: int) -> np.ndarray:
    """Alpha mask (size, size) float32 0..1 of a ``soft`` disc, ``square`` or ``heart``."""
    size = max(3, size)
    canvas = np.zeros((size * 4, size * 4), np.uint8)  # drawn 4x larger, then shrunk: smooth edges
    c, r = size * 2, size * 2 - 2
    if shape == "soft":
        yy, xx = np.mgrid[0:size * 4, 0:size * 4]
        d = np.hypot(yy - c + 0.5, xx - c + 0.5) / r
        canvas = (np.clip(1.6 * (1.0 - d), 0, 1) * 255).astype(np.uint8)
    elif shape == "square":
        canvas[size:3 * size, size // 2:size * 4 - size // 2] = 255
    else:
        lobe = r // 2
        cv2.circle(canvas, (c - lobe + 1, c - lobe // 2), lobe, 255, -1, cv2.LINE_AA)
        cv2.circle(canvas, (c + lobe - 1, c - lobe // 2), lobe, 255, -1, cv2.LINE_AA)
        tri = np.array([[c - 2 * lobe + 1, c - lobe // 4], [c + 2 * lobe - 1, c - lobe // 4], [c, c + r]], np.int32)
        cv2.fillConvexPoly(canvas, tri, 255, cv2.LINE_AA)
    return cv2.resize(canvas, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
