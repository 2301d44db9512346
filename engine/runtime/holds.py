"""How long each gesture or expression has been shown. The ``hands`` and ``expressions`` analyzers
publish a bus event per analyzed frame while one is shown, with the time it began; trigger rules
decide from ``held_s`` when to fire (``hold_s``) and how soon to fire again (``cooldown_s``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

from edgefx.events import Event, EventBus


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
