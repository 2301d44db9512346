"""The event bus: speech, hotkeys and the control API publish; the loop delivers per frame.

Events carry media time. An event stamped with a media time is held until the
frame at or after that time (so on a file the effect starts on the frame where
the word ended); an event with ``t=None`` is "now" and is delivered with the next frame.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: ``name`` (e.g. ``"keyword"``, ``"hotkey"``, ``"trigger"``),
    media time ``t`` in seconds (``None`` = now), who published it, and free-form data."""

    name: str
    t: float | None = None
    source: str = ""
    data: dict[str, Any] = field(default_factory=dict)


class EventBus:
    """Thread-safe: any thread may ``publish``; the loop calls ``due`` once per frame."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._timed: list[tuple[float, int, Event]] = []
        self._now: list[Event] = []
        self._seq = itertools.count()

    def publish(self, event: Event) -> None:
        """Queue ``event`` for the frame at its media time (or the next frame when ``t`` is None)."""
        with self._lock:
            if event.t is None:
                self._now.append(event)
            else:
                heapq.heappush(self._timed, (event.t, next(self._seq), event))

    def due(self, media_time: float) -> list[Event]:
        """Remove and return every event due at or before ``media_time``, in time order."""
        with self._lock:
            out = self._now
            self._now = []
            while self._timed and self._timed[0][0] <= media_time:
                out.append(heapq.heappop(self._timed)[2])
            return out
