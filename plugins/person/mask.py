"""The ``person`` result and the temporal smoothing of the model's probability map."""

from __future__ import annotations

import itertools

import cv2
import numpy as np

from edgefx.frame import View
from edgefx.vision.mask_ops import Box

BANDS = 6
"""Bands of rows ``PersonMask.bands`` cuts the mask's box into (measured best of 4-12 at 720p)."""


class PersonMask:
    """A person mask: ``small`` is uint8 (0 background .. 255 person) at the analyzer's
    resolution; ``full(h, w)`` is the same mask at frame size, upsampled once and memoised, and
    ``inside(h, w)`` only its part inside ``box(h, w)`` (what blending needs: no frame-size array).
    ``image`` is the frame at ``small``'s size (BGR uint8): effects may reuse it instead of
    shrinking the frame again. ``original`` is a copy of the whole frame as it came in, kept
    only when effects draw behind the person (``person_front`` pastes the person back from it).
    """

    __slots__ = ("_full", "_inside", "image", "original", "small")

    def __init__(self, small: np.ndarray, image: np.ndarray, original: np.ndarray | None = None) -> None:
        self.small = small
        self.image = image
        self.original = original
        self._full: dict[tuple[int, int], np.ndarray] = {}
        self._inside: dict[tuple[int, int], tuple[Box, np.ndarray]] = {}

    def carried(self, original: np.ndarray | None) -> PersonMask:
        """The same mask (sharing the upsampled copies) over another frame's ``original`` pixels."""
        out = PersonMask(self.small, self.image, original)
        out._full, out._inside = self._full, self._inside
        return out

    def reframed(self, view: View) -> PersonMask:
        """This mask on the picture ``view`` cropped and scaled from the frame it was made on: ``small``
        and ``image`` keep their sizes, ``original`` (if kept) becomes the framed picture's size."""
        sh, sw = self.small.shape
        original = None if self.original is None else view.crop(self.original, view.size)
        return PersonMask(view.crop(self.small, (sw, sh)), view.crop(self.image, (sw, sh)), original)

    def full(self, h: int, w: int) -> np.ndarray:
        """The mask at ``h`` x ``w`` (bilinear upsampling, uint8 HxW), computed on first use."""
        mask = self._full.get((h, w))
        if mask is None:
            mask = self._full[(h, w)] = np.zeros((h, w), np.uint8)
            (x, y, bw, bh), part = self.inside(h, w)
            mask[y:y + bh, x:x + bw] = part
        return mask

    def inside(self, h: int, w: int) -> tuple[Box, np.ndarray]:
        """``box(h, w)`` and ``full(h, w)`` inside it (uint8, box height x width), computed on first use."""
        found = self._inside.get((h, w))
        if found is None:
            found = self._inside[(h, w)] = self._upsample_box(h, w)
        return found

    def _upsample_box(self, h: int, w: int) -> tuple[Box, np.ndarray]:
        """At a whole-number scale the box's crop of ``small`` is resized alone: its zero margin makes
        it bit-identical to that part of ``cv2.resize(small, (w, h))``."""
        box = x, y, bw, bh = self.box(h, w)
        sh, sw = self.small.shape
        if not self._whole_scale(h, w):
            whole = cv2.resize(self.small, (w, h), interpolation=cv2.INTER_LINEAR)
            return box, whole[y:y + bh, x:x + bw]
        crop = self.small[y * sh // h:(y + bh) * sh // h, x * sw // w:(x + bw) * sw // w]
        return box, cv2.resize(crop, (bw, bh), interpolation=cv2.INTER_LINEAR) if bw else crop

    def _whole_scale(self, h: int, w: int) -> bool:
        """Whether ``h`` x ``w`` is a whole-number multiple of ``small`` both ways (where the box's
        crop of ``small`` can be upsampled alone, bit-identical to upsampling all of it)."""
        sh, sw = self.small.shape
        return h % sh == 0 and w % sw == 0

    def box(self, h: int, w: int) -> Box:
        """``(x, y, width, height)`` at ``h`` x ``w`` outside which ``full(h, w)`` is 0 (empty: zeros)."""
        x, y, bw, bh = cv2.boundingRect(self.small)
        if not bw:
            return 0, 0, 0, 0
        sh, sw = self.small.shape
        x0, y0 = max(0, (x - 1) * w // sw), max(0, (y - 1) * h // sh)
        x1, y1 = min(w, -(-(x + bw + 1) * w // sw)), min(h, -(-(y + bh + 1) * h // sh))
        return x0, y0, x1 - x0, y1 - y0

    def bands(self, h: int, w: int) -> list[tuple[Box, np.ndarray]]:
        """``inside(h, w)`` cut into up to ``BANDS`` bands of rows, each narrowed to the columns where
        the mask is not 0: ``(box, mask inside it)`` pairs (views) covering every non-zero pixel of
        ``full(h, w)``. A person is narrower at the head than at the shoulders: blending per band
        skips much of the box. At a scale that is not a whole number: the one ``inside`` pair."""
        box, mask = self.inside(h, w)
        x, y, bw, bh = box
        sh, sw = self.small.shape
        if not self._whole_scale(h, w) or not bw:
            return [(box, mask)] if bw else []
        fy, fx = h // sh, w // sw
        top, bottom = y // fy, (y + bh) // fy
        count = min(BANDS, bottom - top)
        out = []
        for y0, y1 in itertools.pairwise(top + i * (bottom - top) // count for i in range(count + 1)):
            first, end = _extent(self.small[max(0, y0 - 1):y1 + 1])  # with the rows interpolated from
            if first < end:
                x0, x1 = max(0, (first - 1) * fx), min(w, (end + 1) * fx)
                part = mask[y0 * fy - y:y1 * fy - y, x0 - x:x1 - x]
                out.append(((x0, y0 * fy, x1 - x0, (y1 - y0) * fy), part))
        return out

    @property
    def coverage(self) -> float:
        """Fraction of the picture that is person (mask >= 128)."""
        return float(np.count_nonzero(self.small >= 128)) / self.small.size


def _extent(rows: np.ndarray) -> tuple[int, int]:
    """``(first, last + 1)`` of the columns of ``rows`` (uint8) that are not all 0 (equal: none)."""
    raw = rows.max(axis=0).tobytes()  # bytes strips: cheaper than NumPy calls on a few hundred values
    end = len(raw.rstrip(b"\0"))
    return min(len(raw) - len(raw.lstrip(b"\0")), end), end


class TemporalSmoother:
    """An exponential moving average whose weight adapts per pixel.

    Where the probability barely changes and the picture is still, the new value gets weight
    ``1 - strength`` (sensor noise and model jitter are averaged away: no edge flicker). Where
    the probability jumps or the picture itself moved, the weight rises to 1 (the mask follows
    at once: no ghost trail behind a moving person).
    """

    def __init__(self, strength: float, change: tuple[float, float] = (0.04, 0.25),
                 motion: tuple[float, float] = (0.03, 0.10)) -> None:
        self.strength = strength
        self.change, self.motion = change, motion
        self.prob: np.ndarray | None = None
        self.grey: np.ndarray | None = None

    def reset(self) -> None:
        self.prob = self.grey = None

    def update(self, prob: np.ndarray, grey: np.ndarray) -> np.ndarray:
        """Smooth ``prob`` (HxW float32 in [0, 1]) given the frame's ``grey`` (HxW float32 in [0, 1])."""
        if self.strength <= 0.0 or self.prob is None or self.prob.shape != prob.shape:
            self.prob, self.grey = prob, grey
            return prob
        delta = prob - self.prob
        w = np.abs(delta)
        w -= self.change[0]
        w *= 1.0 / (self.change[1] - self.change[0])
        moved = cv2.blur(cv2.absdiff(grey, self.grey), (3, 3))
        moved -= self.motion[0]
        moved *= 1.0 / (self.motion[1] - self.motion[0])
        np.maximum(w, moved, out=w)
        np.clip(w, 0.0, 1.0, out=w)  # 0 below the low end of both ramps, 1 above the high end of either
        w *= self.strength
        w += 1.0 - self.strength
        delta *= w
        delta += self.prob  # in place: delta becomes the new state
        self.prob, self.grey = delta, grey
        return delta
