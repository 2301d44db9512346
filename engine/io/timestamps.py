"""Strictly increasing video timestamps from any input, and from the first item of an output,
without dropping a frame."""

from __future__ import annotations

import heapq
from collections import deque
from fractions import Fraction

import av

from edgefx.frame import Frame

FILE_WINDOW = 4
"""Frames a file input holds back to sort their timestamps (deeper than packed B-frames reorder)."""


class Restamp:
    """Hands decoded video frames on with strictly increasing ``pts``; none is dropped.

    Some files decode with their timestamps out of order or repeated: an AVI with packed
    B-frames (Xvid, DivX) gives 3 4 6 5 7 9 8 ... The pictures themselves come in display
    order, only their stamps are shuffled, so the stamps of the last ``window`` frames are
    sorted and handed out in that order. A stamp still not newer than the previous one is moved
    one tick after it. A live input uses ``window`` 0: nothing waits, stamps are only moved.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self.restamped = 0
        """Frames whose ``pts`` was changed."""
        self._frames: deque[av.VideoFrame] = deque()
        self._stamps: list[int] = []
        self._last: int | None = None

    def push(self, frame: av.VideoFrame) -> list[av.VideoFrame]:
        """Take one decoded frame; returns the frames now ready, in order (a frame without a
        ``pts`` waits its turn and is left without one: the source numbers it)."""
        self._frames.append(frame)
        if frame.pts is not None:
            heapq.heappush(self._stamps, frame.pts)
        ready = []
        while len(self._frames) > self.window:
            ready.append(self._stamp(self._frames.popleft()))
        return ready

    def flush(self) -> list[av.VideoFrame]:
        """The frames still held back (at the end of the input)."""
        ready = [self._stamp(f) for f in self._frames]
        self._frames.clear()
        return ready

    def _stamp(self, frame: av.VideoFrame) -> av.VideoFrame:
        if frame.pts is None:
            return frame
        pts = heapq.heappop(self._stamps)
        if self._last is not None and pts <= self._last:
            pts = self._last + 1
        if pts != frame.pts:
            frame.pts = pts
            self.restamped += 1
        self._last = pts
        return frame


class OutputClock:
    """An output's timestamps, counted from its first item (video or audio), so a recording of a
    camera starts at 0 rather than at the device clock's offset. Video ``pts`` are strictly
    increasing: a frame not newer than the last is moved one tick after it, never dropped."""

    def __init__(self, time_base: Fraction) -> None:
        self.time_base = time_base
        self.origin: float | None = None
        """Media time (s) of the output's first item."""
        self.restamped = 0
        """Video frames moved to keep ``pts`` increasing."""
        self._last = -1

    def video_pts(self, frame: Frame) -> int:
        """``frame``'s pts in ``time_base``, from the output's start."""
        if self.origin is None:
            self.origin = frame.time
        pts = frame.pts if frame.time_base == self.time_base else round(frame.time / self.time_base)
        pts -= round(self.origin / self.time_base)
        if pts <= self._last:  # a muxer takes only newer timestamps: move it just after, never drop it
            pts = self._last + 1
            self.restamped += 1
        self._last = pts
        return pts

    def shift_audio(self, frame: av.AudioFrame) -> bool:
        """Move ``frame``'s pts to the output's start; ``False``: it sounds before that start."""
        if frame.pts is None or frame.time_base is None:
            return True
        if self.origin is None:
            self.origin = float(frame.pts * frame.time_base)
        frame.pts -= round(self.origin / frame.time_base)
        return frame.pts >= 0
