"""The data that travels through the loop: one video frame and what analyzers found in it."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

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
    first), measured by the source where it made the picture (``edgefx.io.change``); ``None`` when the
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


@dataclass(slots=True)
class FrameContext:
    """What is known about one frame: analyzer results, their age, and the events due now.

    ``results[name]`` is the latest result of analyzer ``name`` (``None`` when it has
    nothing, e.g. no face). ``age[name]`` is how many frames ago that result was
    computed fresh: 0 means on this frame. ``events`` are the bus events due at this
    frame's media time. ``notes`` is free space for per-frame diagnostics (the
    scheduler writes what it degraded or reused there).
    """

    frame: Frame
    results: dict[str, Any] = field(default_factory=dict)
    age: dict[str, int] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def get(self, name: str, default: Any = None) -> Any:
        """The result of analyzer ``name``, or ``default`` when it has none."""
        value = self.results.get(name)
        return default if value is None else value
