"""The data that travels through the loop: one video frame and what analyzers found in it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

import cv2
import numpy as np

from edgefx.events import Event


@dataclass(slots=True)
class Frame:
    """One decoded video frame.

    ``image`` is the single pixel array of the frame: ``(H, W, 3)`` uint8, BGR,
    C-contiguous and writable. Effects draw on it in place. ``pts`` and
    ``time_base`` come from the source unchanged so the sink keeps timing and
    audio sync; ``index`` counts frames taken from the source (dropped ones included).
    ``change`` is how much the picture changed since the source's previous one (mean absolute
    difference of a sparse sample, 0-255, summed over pictures dropped in between; inf for the
    first), measured by the source where it made the picture (``edgefx.vision.change``); ``None`` when the
    source does not measure it (the scheduler's similarity gate then measures it itself).
    """

    image: np.ndarray
    pts: int
    time_base: Fraction
    index: int
    change: float | None = None

    @property
    def time(self) -> float:
        """Presentation time in seconds."""
        return float(self.pts * self.time_base)

    @property
    def height(self) -> int:
        return self.image.shape[0]

    @property
    def width(self) -> int:
        return self.image.shape[1]


@dataclass(frozen=True, slots=True)
class View:
    """How an effect reframed the picture (e.g. ``autoframe``): the crop ``x, y, width, height`` of the
    picture it had (pixels, top-left corner; ``source`` is that picture's width and height) was scaled
    to ``size`` (width, height).

    ``points`` maps coordinates from the picture before into the picture after, ``crop`` cuts any image
    covering the picture before (at any resolution); ``then`` composes two views.
    """

    x: float
    y: float
    width: float
    height: float
    size: tuple[int, int]
    source: tuple[int, int]

    @property
    def scale(self) -> tuple[float, float]:
        """Output pixels per input pixel, (x, y)."""
        return self.size[0] / self.width, self.size[1] / self.height

    def points(self, xy: np.ndarray) -> np.ndarray:
        """``(..., 2+)`` pixel coordinates (pixel centres at whole numbers, as OpenCV has them) mapped into
        the new picture (float32); columns after x and y (a depth z in x's units) are scaled like x."""
        sx, sy = self.scale
        out = np.array(xy, dtype=np.float32, copy=True)
        out[..., 0] = (out[..., 0] - self.x + 0.5) * sx - 0.5
        out[..., 1] = (out[..., 1] - self.y + 0.5) * sy - 0.5
        out[..., 2:] *= sx
        return out

    def crop(self, image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """The part of ``image`` (covering the whole picture before, at any resolution) this view keeps,
        resized bilinearly to ``size`` (width, height)."""
        fx, fy = image.shape[1] / self.source[0], image.shape[0] / self.source[1]
        m = np.array([[size[0] / (self.width * fx), 0.0, 0.0], [0.0, size[1] / (self.height * fy), 0.0]])
        m[0, 2] = -self.x * fx * m[0, 0] + 0.5 * (m[0, 0] - 1.0)  # pixel centres, as cv2.resize maps them
        m[1, 2] = -self.y * fy * m[1, 1] + 0.5 * (m[1, 1] - 1.0)
        return cv2.warpAffine(image, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def then(self, other: View) -> View:
        """This view followed by ``other`` (a crop of the picture this view made)."""
        sx, sy = self.scale
        return View(self.x + other.x / sx, self.y + other.y / sy, other.width / sx, other.height / sy, other.size,
                    self.source)


class Reframes(Protocol):
    """What ``FrameContext.reframe`` needs of an analyzer (``edgefx.Analyzer`` has it)."""

    def reframe(self, result: Any, view: View) -> Any: ...


@dataclass(slots=True)
class FrameContext:
    """What is known about one frame: analyzer results, their age, and the events due now.

    ``results[name]`` is the latest result of analyzer ``name`` (``None`` when it has
    nothing, e.g. no face). ``age[name]`` is how many frames ago that result was
    computed fresh: 0 means on this frame. ``events`` are the bus events due at this
    frame's media time. ``notes`` is free space for per-frame diagnostics (the
    scheduler writes what it degraded or reused there). ``view`` is ``None`` while the picture is
    the source's; after an effect cropped and scaled it (``reframe``), the ``View`` from source pixels
    to the picture's, and every result in ``results`` is in the picture's pixels.
    """

    frame: Frame
    results: dict[str, Any] = field(default_factory=dict)
    age: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    view: View | None = None

    def reframe(self, view: View, analyzers: Mapping[str, Reframes]) -> None:
        """Record that the picture was reframed by ``view`` and map every result onto it with its
        analyzer's ``reframe`` (new objects: the analyzers' own last results stay in source pixels)."""
        for name, result in self.results.items():
            if result is not None and name in analyzers:
                self.results[name] = analyzers[name].reframe(result, view)
        self.view = view if self.view is None else self.view.then(view)

    def get(self, name: str, default: Any = None) -> Any:
        """The result of analyzer ``name``, or ``default`` when it has none."""
        value = self.results.get(name)
        return default if value is None else value
