"""The x264 encoder as a unit with speed levels: under a frame budget, a file output steps its
preset down (veryfast -> superfast -> ultrafast) while encoding takes the time the frame needs,
and back up when there is room again.

An open libx264 encoder cannot change its preset, so a level change opens a new encoder and
switches to it between two frames (its first frame is a keyframe). That is only correct when the
new encoder writes the same parameter sets (SPS/PPS) as the open one, since an MP4's or MKV's
header holds them for the whole file. The levels are chosen to keep them: ``veryfast`` and
``superfast`` write identical ones, and ``ultrafast`` does with CABAC, the 8x8 transform and
weighted prediction kept on (``cabac=1:8x8dct=1:weightp=1``, which ultrafast alone switches off).
Every switch checks this (the new encoder's ``extradata`` against the open one's) and refuses a
level whose headers would differ, so the file stays valid whatever the build of x264. (A
container without global headers, MPEG-TS, carries the parameter sets with each keyframe, where
H.264 lets them change; there the check always passes.)

When to switch (``EncoderGovernor``): over the last ``WINDOW`` frames, the median time of the
sink's convert + encode is compared with the frame budget. On one core the encoder shares that
core with analysis and effects, so it steps down once it takes more than half the budget; with
cores to spare it runs beside them and only bounds the frame rate past 90% of the budget. It steps
back up when it has stayed under a third of that limit for ``UP_WINDOW`` frames, which the
slower level (about 1.5-2.5x the cost) still fits, so the level does not swing.
"""

from __future__ import annotations

import logging
import os
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import av

log = logging.getLogger(__name__)

X264_LEVELS: dict[str, dict[str, str]] = {
    "veryfast": {"preset": "veryfast"},
    "superfast": {"preset": "superfast"},
    "ultrafast": {"preset": "ultrafast", "x264-params": "cabac=1:8x8dct=1:weightp=1"},
}
"""Speed levels, slowest (best) first: the x264 options of each, all writing the same parameter sets."""
WINDOW = 30
"""Frames whose median encode time decides a step down."""
UP_WINDOW = 90
"""Frames whose median must stay low before a step back up."""


def process_cores() -> int:
    """CPU cores this process may run on (``taskset`` and cgroups included where the OS says)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class EncoderGovernor:
    """Says when to step the encoder's level down (faster) or up, from its per-frame times."""

    def __init__(self, budget_ms: float, cores: int) -> None:
        self.limit_ms = budget_ms * (0.5 if cores <= 1 else 0.9)
        """A median encode time above this steps down; a third of it steps back up."""
        self.times: list[float] = []

    def step(self, ms: float, can_faster: bool, can_slower: bool) -> int:
        """``+1``: step to the next faster level, ``-1``: back to a slower one, ``0``: stay."""
        self.times.append(ms)
        del self.times[:-UP_WINDOW]
        if can_faster and len(self.times) >= WINDOW and statistics.median(self.times[-WINDOW:]) > self.limit_ms:
            self.times.clear()
            return 1
        if can_slower and len(self.times) >= UP_WINDOW and statistics.median(self.times) < self.limit_ms / 3:
            self.times.clear()
            return -1
        return 0


class AdaptiveEncoder:
    """A stream's video encoder whose level ``EncoderGovernor`` may change between frames.

    ``open_level(options)`` opens a new encoder context like the stream's, with these x264
    options (``X264_LEVELS``) replacing the preset. Without a budget, for another codec or a preset
    outside ``X264_LEVELS``, it is the stream's encoder and nothing changes."""

    def __init__(self, stream: av.VideoStream, codec: str, preset: str, extra: Mapping[str, str],
                 budget_ms: float, open_level: Callable[[Mapping[str, str]], av.VideoCodecContext]) -> None:
        self.stream = stream
        self.context = stream.codec_context
        names = list(X264_LEVELS)
        adaptable = codec == "libx264" and preset in X264_LEVELS and "x264-params" not in extra and budget_ms > 0
        self.levels = names[names.index(preset):] if adaptable else [preset]
        self.level = preset
        self.governor = EncoderGovernor(budget_ms, process_cores()) if len(self.levels) > 1 else None
        self.open_level = open_level
        self.changes = 0
        self.frames: Counter[str] = Counter()

    def encode(self, frame: av.VideoFrame, convert_ms: float = 0.0) -> list[av.Packet]:
        """Encode one frame; ``convert_ms``: what preparing it took (counted with the encode)."""
        t0 = time.perf_counter()
        packets = list(self.context.encode(frame))
        self.frames[self.level] += 1
        if self.governor is not None:
            at = self.levels.index(self.level)
            ms = convert_ms + (time.perf_counter() - t0) * 1000.0
            step = self.governor.step(ms, at + 1 < len(self.levels), at > 0)
            if step:
                packets += self._switch(self.levels[at + step])
        return self._own(packets)

    def flush(self) -> list[av.Packet]:
        """The packets the encoder still holds (at the end)."""
        return self._own(list(self.context.encode(None)))

    def _own(self, packets: list[av.Packet]) -> list[av.Packet]:
        """``packets`` marked as the stream's (a new encoder's packets belong to the same stream)."""
        for packet in packets:
            packet.stream = self.stream
        return packets

    def _switch(self, level: str) -> list[av.Packet]:
        """Open an encoder at ``level`` and switch to it if its parameter sets are the open one's;
        returns what the old encoder still held."""
        new = self.open_level(X264_LEVELS[level])
        if bytes(new.extradata or b"") != bytes(self.context.extradata or b""):
            log.info("encoder: level %s would change the stream's parameter sets; staying at %s", level, self.level)
            self.levels.remove(level)
            return []
        flushed = list(self.context.encode(None))
        log.info("encoder: %s -> %s (median convert + encode %s the limit of %.1f ms)", self.level, level,
                 "over" if self.levels.index(level) > self.levels.index(self.level) else "under a third of",
                 self.governor.limit_ms if self.governor else 0.0)
        self.context, self.level = new, level
        self.changes += 1
        return flushed

    def stats(self) -> dict[str, Any]:
        """The level now, the changes, and the frames encoded at each level."""
        return {"level": self.level, "levels": list(self.levels), "changes": self.changes,
                "frames": dict(self.frames)}
