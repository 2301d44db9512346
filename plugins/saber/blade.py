"""Drawing a light-saber blade in place: a white core and a coloured additive glow, with a motion smear.

Only a region of interest around the blade (and its smear) is touched. The glow is computed at
``GLOW_SCALE`` of the resolution (it is smooth), coloured there, scaled up and added with
``cv2.add`` (saturating); the core is drawn at full resolution with anti-aliased lines.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.errors import ConfigError

COLOURS: dict[str, tuple[int, int, int]] = {
    "blue": (255, 120, 30), "green": (40, 255, 60), "red": (40, 30, 255), "purple": (255, 40, 190),
    "yellow": (20, 230, 255), "orange": (10, 130, 255), "cyan": (255, 230, 40), "white": (255, 255, 255),
}
"""Named blade colours (BGR, saturated so the glow reads as that colour)."""
GLOW_SCALE = 0.25
"""Resolution of the glow relative to the frame."""
GLOW_RADII = {"full": (0.012, 0.03, 0.07), "lite": (0.015, 0.05), "minimal": (0.03,)}
"""Sigmas of the (near-Gaussian) glow layers per quality level, as fractions of the frame height."""
GLOW_WEIGHTS = {"full": (1.6, 1.3, 1.0), "lite": (1.8, 1.4), "minimal": (2.4,)}


def parse_colour(value: str | list | tuple) -> tuple[int, int, int]:
    """A blade colour from a name in ``COLOURS`` or ``[B, G, R]`` (0..255)."""
    if isinstance(value, str):
        if value.lower() in COLOURS:
            return COLOURS[value.lower()]
    elif len(value) == 3 and all(isinstance(v, int | float) and 0 <= v <= 255 for v in value):
        return (round(value[0]), round(value[1]), round(value[2]))
    raise ConfigError(f"saber: colour = {value!r} is not a colour",
                      f"use one of {', '.join(COLOURS)} or [B, G, R] with values 0..255")


@dataclass(frozen=True, slots=True)
class Blade:
    """A blade from ``hilt`` to ``tip`` in frame pixels, float (2,) arrays, over a physical stick
    ``width`` pixels wide (0: unknown) that its white core covers."""

    hilt: np.ndarray
    tip: np.ndarray
    width: float = 0.0


def _roi(points: np.ndarray, margin: float, width: int, height: int) -> tuple[int, int, int, int] | None:
    """Box ``(x0, y0, x1, y1)`` around ``points`` grown by ``margin``, clipped to the frame; ``None`` if empty."""
    x0, y0 = np.floor(points.min(axis=0) - margin).astype(int)
    x1, y1 = np.ceil(points.max(axis=0) + margin).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(width, x1), min(height, y1)
    return (x0, y0, x1, y1) if x1 - x0 >= 2 and y1 - y0 >= 2 else None


def _pt(p: np.ndarray) -> tuple[int, int]:
    """Fixed-point integer point (4 fractional bits, ``shift=4``) for OpenCV's sub-pixel drawing."""
    return (round(float(p[0]) * 16), round(float(p[1]) * 16))


def draw_blade(image: np.ndarray, blade: Blade, colour: tuple[int, int, int], level: str = "full",
               previous: Blade | None = None, smear: float = 0.5) -> None:
    """Draw ``blade`` on ``image`` ((H, W, 3) uint8 BGR) in place; with ``previous`` (the blade on the
    frame before) also the smear: the quadrilateral between the two at ``smear`` of the glow's strength."""
    h, w = image.shape[:2]
    radii = GLOW_RADII[level]
    thin = max(1.5, 0.0045 * h)
    white = max(1.3 * thin, blade.width + 2.0)  # the white core covers the whole physical stick
    rim = white + 0.9 * thin  # and a rim of the blade's tint around it
    core = 0.5 * rim
    corners = [blade.hilt, blade.tip] + ([previous.tip, previous.hilt] if previous is not None else [])
    box = _roi(np.array(corners), 2.5 * max(radii) * h + core, w, h)
    if box is None:
        return
    x0, y0, x1, y1 = box
    origin = np.array([x0, y0], float)
    roi = image[y0:y1, x0:x1]
    sw, sh = max(2, round((x1 - x0) * GLOW_SCALE)), max(2, round((y1 - y0) * GLOW_SCALE))
    sx, sy = sw / (x1 - x0), sh / (y1 - y0)
    s = 0.5 * (sx + sy)
    source = np.zeros((sh, sw), np.float32)
    if previous is not None:  # the blade's light spread over the area it swept: fainter the farther it moved
        sweep = max(float(np.hypot(*(blade.hilt - previous.hilt))), float(np.hypot(*(blade.tip - previous.tip))))
        quad = np.array([_pt((p - origin) * (sx, sy)) for p in corners], np.int32)
        cv2.fillConvexPoly(source, quad, smear * min(1.0, (2 * core + 2 * radii[0] * h) / max(sweep, 1e-6)),
                           cv2.LINE_AA, shift=4)
    cv2.line(source, _pt((blade.hilt - origin) * (sx, sy)), _pt((blade.tip - origin) * (sx, sy)), 1.0,
             max(1, round(2 * core * s)), cv2.LINE_AA, shift=4)
    glow = np.zeros_like(source)
    for sigma, weight in zip(radii, GLOW_WEIGHTS[level], strict=True):
        k = 2 * max(1, round(2.45 * sigma * h * s)) + 1  # stack blur: near-Gaussian, cost independent of k
        cv2.scaleAdd(cv2.stackBlur(source, (k, k)), weight, glow, dst=glow)
    small = cv2.merge([cv2.convertScaleAbs(glow, alpha=c) for c in colour])
    cv2.add(roi, cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR), dst=roi)
    hilt, tip = _pt(blade.hilt - origin), _pt(blade.tip - origin)
    tint = tuple(int(255 - 0.35 * (255 - c)) for c in colour)
    cv2.line(roi, hilt, tip, tint, max(1, round(rim)), cv2.LINE_AA, shift=4)
    cv2.line(roi, hilt, tip, (255, 255, 255), max(1, round(white)), cv2.LINE_AA, shift=4)
