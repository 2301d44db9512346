"""The event bus: speech, hotkeys and the control API publish; the loop delivers per frame.

Events carry media time. An event stamped with a media time is held until the
frame at or after that time (so on a file the effect starts on the frame where
the word ended); an event with ``t=None`` is "now" and is delivered with the next frame.

Also here, for analyzers that publish and effects that listen: ``Holds`` (how long each gesture or
expression has been shown: the ``hands`` and ``expressions`` analyzers publish a bus event per analyzed
frame while one is shown, with the time it began; trigger rules decide from ``held_s`` when to fire)
and ``event_word`` (the word of a ``keyword``/``trigger`` event).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Hashable, Iterable
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


TRIGGER_EVENTS = ("keyword", "trigger")
"""Event names triggers listen to; the word is ``data["word"]`` (or ``data["keyword"]``)."""


def event_word(event: Event) -> str:
    """The spoken or fired word of a ``keyword``/``trigger`` event, lower case ("" for other events)."""
    if event.name not in TRIGGER_EVENTS:
        return ""
    return str(event.data.get("word", event.data.get("keyword")) or "").strip().lower()


class Holds:
    """Start times of what is shown now, keyed by (what, who): ``update`` with this frame's set."""

    def __init__(self, event: str, field: str, source: str) -> None:
        self.event, self.field, self.source = event, field, source
        self.since: dict[tuple[str, Hashable], float] = {}

    def update(self, shown: Iterable[tuple[str, Hashable]], t: float, bus: EventBus | None) -> list[Event]:
        """Note what is ``shown`` at time ``t`` (``(name, who)`` pairs; ``who`` a face or hand id, or a
        tuple of ids), publish one event for each on ``bus``; returns the events."""
        now = set(shown)
        self.since = {key: self.since.get(key, t) for key in now}
        events = []
        for (name, who), since in sorted(self.since.items(), key=lambda item: str(item[0])):
            data = {self.field: name, "who": list(who) if isinstance(who, tuple) else who,
                    "since": round(since, 6), "held_s": round(t - since, 6)}
            events.append(Event(self.event, t, self.source, data))
        if bus is not None:
            for event in events:
                bus.publish(event)
        return events
