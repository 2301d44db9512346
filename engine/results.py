"""The typed results of the built-in analyzers, in one neutral module: an effect reads another
plugin's result (``ctx.results["faces"]``) through these types, never through that plugin's
internals. All are exported from ``edgefx``.

- ``Face``: one tracked face (``ctx.results["faces"]`` is a list of them);
- ``Hand``: one tracked hand (``ctx.results["hands"]``, a list);
- ``PersonMask``: the person segmentation (``ctx.results["person"]``);
- ``Saber``: the tracked stick (``ctx.results["saber"]``, or ``None``).

Each analyzer declares what it returns in ``result_type`` (``edgefx.Analyzer``); ``conforms`` checks
a value against such a declaration (``edgefx.testing.run_plugin`` does, on every frame).
Which landmark index is which part of a face: ``edgefx.vision.face_mesh``.
"""

from __future__ import annotations

import itertools
import types
import typing
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from edgefx.frame import View
from edgefx.vision.mask_ops import Box

BANDS = 6
"""Bands of rows ``PersonMask.bands`` cuts the mask's box into (measured best of 4-12 at 720p)."""


@dataclass(slots=True)
class Face:
    """One tracked face on one frame, in frame pixels.

    ``bbox`` (4,) float32 x0, y0, x1, y1 of the landmarks; ``landmarks`` (468, 3) float32 x, y, z
    (z: depth relative to the face centre, same scale as x); ``score`` the landmark model's face presence.
    """

    id: int
    bbox: np.ndarray
    score: float
    landmarks: np.ndarray


@dataclass(slots=True)
class Hand:
    """One tracked hand on one frame, in frame pixels.

    ``landmarks`` (21, 3) float32 x, y, z (MediaPipe's order: wrist, then 4 joints per finger from
    the thumb; z: depth relative to the wrist, same scale as x); ``score`` the landmark model's hand
    presence; ``handedness`` "Left" or "Right" as MediaPipe labels it (for a mirrored, selfie picture);
    ``gesture`` the one-hand gesture it shows (the ``hands`` plugin's ``gestures``) or ``None``.
    """

    id: int
    handedness: str
    score: float
    landmarks: np.ndarray
    bbox: np.ndarray
    gesture: str | None = None


@dataclass(frozen=True, slots=True)
class Saber:
    """The tracked stick in frame pixels: ``base`` (hilt) and ``tip`` as ``(x, y)``, ``confidence`` 0..1
    (lower while predicted through an occlusion), ``predicted`` (no measurement this frame) and the
    stick's measured ``width`` in frame pixels (0 when unknown)."""

    base: tuple[float, float]
    tip: tuple[float, float]
    confidence: float
    predicted: bool = False
    width: float = 0.0


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


def conforms(value: Any, form: Any) -> bool:
    """Whether ``value`` matches the type expression ``form``: a class, ``X | Y`` (``None`` allowed
    as ``X | None``), ``list[X]``, ``tuple[X, ...]``, ``dict[K, V]``, or ``Any`` / ``object`` (anything).
    Containers are checked item by item."""
    if form is Any or form is object:
        return True
    if form is None or form is type(None):
        return value is None
    origin, args = typing.get_origin(form), typing.get_args(form)
    if origin in (typing.Union, types.UnionType):
        return any(conforms(value, arg) for arg in args)
    if origin is None:
        return isinstance(value, form)
    if not isinstance(value, origin):
        return False
    if origin in (list, set, frozenset) and args:
        return all(conforms(item, args[0]) for item in value)
    if origin is tuple and args:
        if len(args) == 2 and args[1] is Ellipsis:
            return all(conforms(item, args[0]) for item in value)
        return len(value) == len(args) and all(conforms(v, a) for v, a in zip(value, args, strict=True))
    if origin is dict and args:
        return all(conforms(k, args[0]) and conforms(v, args[1]) for k, v in value.items())
    return True
