"""Blending with an 8-bit mask, in place, touching only the mask's bounding box where possible."""

from __future__ import annotations

import cv2
import numpy as np

Box = tuple[int, int, int, int]
"""``(x, y, width, height)`` outside which a mask is 0."""


def composite(image: np.ndarray, alpha: np.ndarray, background: np.ndarray, *, box: Box | None = None) -> None:
    """``image = image * alpha + background * (1 - alpha)`` in place (alpha uint8, 255 keeps ``image``).

    ``box`` (default: the whole image) bounds where alpha is not 0: ``alpha`` covers the box only
    (box height x width); outside it the background is copied, not blended.
    """
    h, w = image.shape[:2]
    x, y, bw, bh = box or (0, 0, w, h)
    if bw and bh:
        roi = image[y:y + bh, x:x + bw]
        alpha3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR)
        part = cv2.multiply(background[y:y + bh, x:x + bw], 255 - alpha3, scale=1.0 / 255.0)
        cv2.multiply(roi, alpha3, dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, part, dst=roi)
    else:
        y = bh = 0
    image[:y] = background[:y]
    image[y + bh:] = background[y + bh:]
    image[y:y + bh, :x] = background[y:y + bh, :x]
    image[y:y + bh, x + bw:] = background[y:y + bh, x + bw:]


def composite_weighted(image: np.ndarray, weighted: np.ndarray, parts: list[tuple[Box, np.ndarray]]) -> None:
    """``image = image * alpha + weighted`` in place: the cheap path of a blurred background.

    ``weighted`` (BGR uint8, any size) is the background already multiplied by ``1 - alpha``; it is
    upsampled straight into ``image`` (HxWx3 uint8). ``alpha`` is given as ``(box, alpha inside
    it)`` parts covering every pixel where it is not 0 (``PersonMask.bands``): only those are blended.
    """
    fronts = []  # person parts taken first, then the background written over the whole frame
    for box, alpha in parts:
        where = _rows_cols(box)
        fronts.append((where, _times(image[where], alpha)))
    h, w = image.shape[:2]
    if weighted.shape[:2] == (h, w):
        image[:] = weighted
    else:
        cv2.resize(weighted, (w, h), dst=image, interpolation=cv2.INTER_LINEAR)
    for where, front in fronts:
        cv2.add(image[where], front, dst=image[where])


def _rows_cols(box: Box) -> tuple[slice, slice]:
    x, y, bw, bh = box
    return slice(y, y + bh), slice(x, x + bw)


def _times(image: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``image * alpha / 255`` (BGR and grey uint8 of one size)."""
    return cv2.multiply(image, cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR), scale=1.0 / 255.0)


def paste(image: np.ndarray, source: np.ndarray, alpha: np.ndarray, box: Box | None = None) -> None:
    """``image = source * alpha + image * (1 - alpha)`` in place, only inside ``box`` (alpha is 0 outside;
    ``alpha`` covers the box only, box height x width; default box: the whole image)."""
    h, w = image.shape[:2]
    x, y, bw, bh = box or (0, 0, w, h)
    if not (bw and bh):
        return
    roi = image[y:y + bh, x:x + bw]
    alpha3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2BGR)
    front = cv2.multiply(source[y:y + bh, x:x + bw], alpha3, scale=1.0 / 255.0)
    cv2.multiply(roi, 255 - alpha3, dst=roi, scale=1.0 / 255.0)
    cv2.add(roi, front, dst=roi)


def weighted_blur(image: np.ndarray, alpha: np.ndarray, box: tuple[int, int]) -> np.ndarray:
    """Blur of ``image`` (BGR uint8) over the pixels where ``alpha`` (uint8) is low only:
    ``blur(image * (1 - a)) / blur(1 - a)``, two box passes (a tent). Returns BGR uint8.

    Pixels of the masked object do not bleed into their surroundings (no halo).
    """
    inv = (255 - alpha).astype(np.float32)
    picture = cv2.multiply(image.astype(np.float32), cv2.cvtColor(inv, cv2.COLOR_GRAY2BGR))
    picture = cv2.blur(cv2.blur(picture, box), box)
    inv = cv2.max(cv2.blur(cv2.blur(inv, box), box), 1e-2)
    return cv2.divide(picture, cv2.cvtColor(inv, cv2.COLOR_GRAY2BGR), dtype=cv2.CV_8U)
