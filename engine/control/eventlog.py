"""The control panel's log of recent events: triggers fired, words heard, hotkeys, reactions and
the panel's own changes, each with the ``[[triggers]]`` rules it fired.

``EventLog.add`` is called on the loop thread after the triggers handled the event (the control
plugin's ``edgefx_event``), so the rules an event fired are the ones added to ``TriggerTable.fired``
since the previous event. ``recent`` may be called from any thread.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

from edgefx.events import Event
from edgefx.runtime.triggers import HELD, TriggerTable

MAX_ENTRIES = 100
MERGE_S = 3.0
"""Changes of the same option from the panel this close together are one entry (``merge``)."""


class EventLog:
    """The last ``MAX_ENTRIES`` events as JSON-ready dicts (``at`` wall time, ``t`` media time,
    ``kind``, ``source``, ``text``, ``fired``: what the trigger rules did; ``merge``: for a panel
    change of an option, ``effect.option``; an entry with the same ``merge`` as the newest one,
    within ``MERGE_S``, replaces it)."""

    def __init__(self) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
        self._lock = threading.Lock()
        self._fired_seen = 0
        self._holds: set[tuple[str, str, Any]] = set()

    def add(self, event: Event, triggers: TriggerTable | None) -> dict[str, Any] | None:
        """Log ``event`` (``None`` when it is not worth a line: a gesture still held that fired nothing)."""
        fired = []
        if triggers is not None:
            for _t, index in triggers.fired[self._fired_seen:]:
                rule = triggers.rules[index]
                extra = f" {rule.option} = {rule.value!r}" if rule.action == "set" else ""
                fired.append(f"{rule.effect}: {rule.action}{extra}")
            self._fired_seen = len(triggers.fired)
        text = describe_event(event)
        if event.name in HELD:
            hold = (event.name, str(event.data.get("who")), event.data.get("since"))
            if hold in self._holds and not fired:
                return None
            self._holds.add(hold)
            if len(self._holds) > 4 * MAX_ENTRIES:
                self._holds.clear()
        data = event.data
        merge = f"{data.get('effect')}.{data.get('key')}" if event.name == "control" and "key" in data else None
        entry = {"at": round(time.time(), 3), "t": event.t, "kind": kind_of(event), "source": event.source,
                 "text": text, "fired": fired, "merge": merge}
        with self._lock:
            last = self._entries[-1] if self._entries else None
            if merge and last and last["merge"] == merge and entry["at"] - last["at"] < MERGE_S:
                self._entries.pop()  # a slider being dragged: one line with its latest value
            self._entries.append(entry)
        return entry

    def recent(self) -> list[dict[str, Any]]:
        """The logged entries, oldest first."""
        with self._lock:
            return list(self._entries)


def kind_of(event: Event) -> str:
    """A short category for the panel: panel, trigger, speech, hotkey, reaction, gesture, expression or event."""
    if event.name == "control":
        return "panel"
    if event.name == "keyword":
        return "speech"
    return event.name if event.name in ("trigger", "hotkey", "reaction", *HELD) else "event"


def describe_event(event: Event) -> str:
    """One line saying what happened."""
    data = event.data
    if event.name == "control":
        if data.get("action") == "enable":
            return f"{data.get('effect')} switched {'on' if data.get('value') else 'off'}"
        reply = data.get("reply")
        failed = reply.exception() if reply is not None and reply.done() else None
        return f"set {data.get('effect')}.{data.get('key')} = {data.get('value')!r}" + (
            f" (refused: {failed})" if failed is not None else "")
    if event.name in ("trigger", "keyword"):
        word = data.get("word", data.get("keyword"))
        confidence = data.get("confidence")
        heard = f" (confidence {confidence:.2f})" if isinstance(confidence, float) else ""
        return f"{'fired' if event.name == 'trigger' else 'heard'} {word!r}{heard}"
    if event.name == "hotkey":
        return f"key {data.get('key')!r}"
    if event.name == "reaction":
        return f"reaction {data.get('reaction')} {'on' if data.get('enabled', True) else 'off'}"
    if event.name in HELD:
        return f"{event.name} {data.get(event.name)} (face/hand {data.get('who')})"
    return f"event {event.name}"
