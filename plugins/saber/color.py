"""The stick's colour model: an OpenCV 8-bit Lab centre with tolerances, and its calibration.

Lab separates brightness (L) from colour (a: green-red, b: blue-yellow), so a lighting change
moves L a lot and a/b little: the mask keeps pixels whose a/b are within ``ab_tolerance`` of the
stick's and whose L is at least ``1 - l_tolerance`` times the stick's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.errors import ConfigError

DEFAULT_LAB = (225, 128, 133)
"""Bright white-to-cream paper under indoor light (OpenCV 8-bit Lab: L 0..255, a and b centred on 128)."""


@dataclass(frozen=True, slots=True)
class StickColor:
    """Lab centre ``lab`` (8-bit OpenCV scale), ``ab_tolerance`` on a and b, ``l_tolerance`` as the fraction
    of the stick's L it may lose (shadow, exposure drop) and still count."""

    lab: tuple[int, int, int] = DEFAULT_LAB
    ab_tolerance: int = 7
    l_tolerance: float = 0.25

    @classmethod
    def from_option(cls, value: list | tuple, ab_tolerance: int, l_tolerance: float) -> StickColor:
        """Build from the ``color`` option (``[L, a, b]``), with a clear error for bad values."""
        if len(value) != 3 or not all(isinstance(v, int | float) and 0 <= v <= 255 for v in value):
            raise ConfigError(f"saber: color = {value!r} is not an OpenCV Lab triple",
                              "give [L, a, b] with each from 0 to 255, e.g. the output of `edgefx saber calibrate`")
        lab = (round(value[0]), round(value[1]), round(value[2]))
        return cls(lab, ab_tolerance, l_tolerance)

    def mask(self, lab_image: np.ndarray, lightness: float | None = None) -> np.ndarray:
        """(H, W) uint8 mask (255 = stick colour) of an (H, W, 3) uint8 Lab image. ``lightness``
        replaces the calibrated L (the tracker follows the stick's brightness as the light changes)."""
        l0, a0, b0 = self.lab
        t = self.ab_tolerance
        lo = ((lightness or l0) * (1.0 - self.l_tolerance), a0 - t, b0 - t)
        hi = (255, a0 + t, b0 + t)
        return cv2.inRange(lab_image, lo, hi)


DARK = 40
"""Median L (8-bit Lab) under which the picture counts as black: covered lens, light off, fade-in."""
STANDS_OUT = 24
"""Least difference (L + 2|a| + 2|b|, 8-bit Lab) between the centre strip and each side of it for it to
be a stick rather than part of a wall or floor."""


def _median_lab(image: np.ndarray, x0: int, x1: int, y0: int, y1: int) -> np.ndarray:
    return np.median(cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_BGR2Lab).reshape(-1, 3).astype(np.float32), axis=0)


def calibrate_color(images: Iterable[np.ndarray], strip: float = 0.02, rows: tuple[float, float] = (0.35, 0.65),
                    side: float = 0.06) -> tuple[int, int, int]:
    """The stick's Lab colour from frames where it is held upright through the frame centre.

    Takes the pixels of a narrow centre strip (``strip`` of the width, ``rows`` of the height) of each
    (H, W, 3) uint8 BGR image and returns their median Lab. Raises ``ConfigError`` saying what to do
    when the picture is black, when the strip is not uniform (no stick there), or when it does not
    stand out from the strips ``side`` of the width left and right of it (a wall, a floor: no stick).
    """
    samples, sides = [], []
    for image in images:
        h, w = image.shape[:2]
        half, off = max(1, round(strip * w / 2)), max(2, round(side * w))
        y0, y1 = round(rows[0] * h), round(rows[1] * h)
        region = image[y0:y1, w // 2 - half:w // 2 + half]
        samples.append(cv2.cvtColor(region, cv2.COLOR_BGR2Lab).reshape(-1, 3))
        sides += [_median_lab(image, w // 2 - off - half, w // 2 - off + half, y0, y1),
                  _median_lab(image, w // 2 + off - half, w // 2 + off + half, y0, y1)]
    if not samples:
        raise ConfigError("saber calibrate: no frames to calibrate from", "give a clip or camera with frames")
    pixels = np.concatenate(samples).astype(np.float32)
    centre = np.median(pixels, axis=0)
    if centre[0] < DARK:
        raise ConfigError("saber calibrate: the picture is black (too dark to see a stick)",
                          "uncover the camera, turn the light on, then hold the stick upright through the middle")
    spread = np.median(np.abs(pixels[:, 1:] - centre[1:]), axis=0)
    if spread.max() > 6:
        raise ConfigError("saber calibrate: the centre of the frame is not one uniform colour",
                          "hold the stick upright through the middle of the picture, still, for a second")
    weights = np.array([1.0, 2.0, 2.0])
    contrast = min(float(np.abs(s - centre) @ weights) for s in sides)
    if contrast < STANDS_OUT:
        raise ConfigError("saber calibrate: nothing stick-like in the middle of the picture: it looks the same "
                          "as either side of it (a wall or a floor)",
                          "hold the stick upright through the centre, in front of a background that differs from "
                          "it in brightness or colour, still, for a second")
    return (round(float(centre[0])), round(float(centre[1])), round(float(centre[2])))
