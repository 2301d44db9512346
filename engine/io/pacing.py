"""Real-time pacing: a file or demo input played at its own frame rate, for outputs that are
watched as they arrive (network streams, virtual cameras, the preview). Without it a file is
read as fast as the CPU allows and a stream's receiver gets bursts it cannot keep up with."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import av

from edgefx.frame import Frame
from edgefx.io.source import Item, Source, WrappedSource

MAX_LAG = 0.5
"""Seconds behind the media clock after which pacing starts counting again from now: a run that
fell behind (a slow frame, a stall) goes on at the input's rate instead of rushing to catch up."""


def wants_pacing(setting: str, source: Source, sink_class: type) -> bool:
    """``[run] realtime``: ``on``/``off``, or ``auto`` = pace a non-live input when the output is
    consumed in real time (the sink class says so with ``realtime = True``)."""
    if setting == "auto":
        return not source.info.live and bool(getattr(sink_class, "realtime", False))
    return setting == "on" and not source.info.live


class Paced(WrappedSource):
    """Wraps a source and hands each item on at its media time; ``stop`` ends a wait at once."""

    name = "paced"

    def __init__(self, source: Source, stop: threading.Event) -> None:
        super().__init__(source)
        self.stop = stop

    def __iter__(self) -> Iterator[Item]:
        origin: tuple[float, float] | None = None  # (media time, wall time) pacing counts from
        for item in self.source:
            t = media_time(item)
            if t is not None:
                now = time.monotonic()
                if origin is None or now - (origin[1] + t - origin[0]) > MAX_LAG:
                    origin = (t, now)
                delay = origin[1] + t - origin[0] - now
                if delay > 0 and self.stop.wait(delay):
                    return
            yield item


def media_time(item: Item) -> float | None:
    """When ``item`` is due, in seconds of media time (``None``: unknown, not paced)."""
    if isinstance(item, Frame):
        return item.time
    if isinstance(item, av.AudioFrame) and item.pts is not None and item.time_base is not None:
        return float(item.pts * item.time_base)
    return None
