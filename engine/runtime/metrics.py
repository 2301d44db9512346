"""Per-frame timings: total frame time and each plugin's share, summarised as medians and
percentiles, written as JSON by ``--stats``.

A stream may run for days, so nothing here grows with the run's length unless asked to: the
per-frame records are kept for the last ``RECENT_FRAMES`` frames (all of them when a ``--stats``
file wants them), and each timing's distribution is kept in bounded memory (``Distribution``).
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from edgefx.io.sink import write_file

RECENT_FRAMES = 3600
"""Per-frame records kept when a run does not write them all (two minutes at 30 fps)."""


def percentile(ordered: Sequence[float], share: float, *, measured: bool = False) -> float:
    """The value at ``share`` (0-1) of ``ordered`` (sorted, not empty), interpolated linearly between
    the two nearest values as ``numpy.percentile`` does; ``measured=True``: the value at that rank
    itself, rounded down (the scheduler prices plugins with a timing that happened). edgefx's one
    percentile helper: run summaries, the scheduler's cost estimates, ``edgefx bench`` figures and
    the stats overlay all use it."""
    if measured:
        return float(ordered[min(len(ordered) - 1, int(share * len(ordered)))])
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def percentiles(values: Sequence[float] | np.ndarray) -> dict[str, float]:
    """p50/p90/p99/max/mean of ``values`` (ms), rounded to 3 decimals; empty -> {}."""
    if len(values) == 0:
        return {}
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    p50, p90, p99 = (percentile(ordered, share) for share in (0.5, 0.9, 0.99))
    return _rounded(p50, p90, p99, float(ordered[-1]), float(ordered.mean()))


def _rounded(p50: float, p90: float, p99: float, top: float, mean: float) -> dict[str, float]:
    return {"p50": round(p50, 3), "p90": round(p90, 3), "p99": round(p99, 3), "max": round(top, 3),
            "mean": round(mean, 3)}


class RateMeter:
    """Events per second over the last ``window`` of them (frames drawn, frames sent): the one fps
    meter (the stats overlay and the control panel use it)."""

    def __init__(self, window: int = 60) -> None:
        self.stamps: deque[float] = deque(maxlen=window)

    def tick(self) -> None:
        """One event now."""
        self.stamps.append(time.perf_counter())

    def per_second(self) -> float:
        """The rate over the kept events (0 with fewer than two)."""
        stamps = list(self.stamps)
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else 0.0


class Distribution:
    """Every value of one timing (ms) of a run of any length, in bounded memory.

    The first ``exact`` values are kept as they are (percentiles exact, as ``percentiles`` gives);
    from then on they are counted in log-spaced bins 1% wide from 0.1 us to 100 s, so a percentile
    is within 0.5% of the true one. The count, mean and max stay exact.
    """

    SMALLEST_MS = 1e-4
    BIN_RATIO = 1.01
    BINS = math.ceil(math.log(1e9) / math.log(BIN_RATIO)) + 1

    __slots__ = ("_bins", "_buffer", "count", "exact", "maximum", "total")

    def __init__(self, exact: int = 4096) -> None:
        self.exact = exact
        self._buffer: list[float] = []
        self._bins: np.ndarray | None = None
        self.count = 0
        self.total = 0.0
        self.maximum = -math.inf

    def add(self, ms: float) -> None:
        """Count one value."""
        self._buffer.append(ms)
        self.count += 1
        self.total += ms
        if ms > self.maximum:
            self.maximum = ms
        if len(self._buffer) >= self.exact:
            self._bins = self._binned(self._buffer)
            self._buffer = []

    def _binned(self, values: list[float]) -> np.ndarray:
        """The bins with ``values`` counted in."""
        ratio = np.maximum(np.asarray(values, dtype=np.float64), self.SMALLEST_MS) / self.SMALLEST_MS
        index = np.minimum((np.log(ratio) / math.log(self.BIN_RATIO)).astype(np.int64), self.BINS - 1)
        counts = np.bincount(index, minlength=self.BINS)
        return counts if self._bins is None else self._bins + counts

    def summary(self) -> dict[str, float]:
        """p50/p90/p99/max/mean in ms, rounded to 3 decimals, as ``percentiles``; empty -> {}."""
        if self._bins is None:
            return percentiles(self._buffer)
        cumulative = np.cumsum(self._binned(self._buffer))
        ranks = np.array([0.5, 0.9, 0.99]) * (self.count - 1)
        index = np.searchsorted(cumulative, ranks, side="right")
        middle = self.SMALLEST_MS * self.BIN_RATIO ** (index + 0.5)
        return _rounded(*map(float, middle), self.maximum, self.total / self.count)


class Metrics:
    """Collects one record per processed frame; cheap enough to leave on for every run.

    ``keep``: per-frame records kept (the newest; ``None`` = all, for a ``--stats`` file).
    """

    def __init__(self, keep: int | None = RECENT_FRAMES) -> None:
        self.frames: deque[dict[str, Any]] = deque(maxlen=keep)
        self.count = 0
        self.totals = Distribution()
        self.stage_ms: dict[str, Distribution] = {}
        self.started = time.perf_counter()
        self.dropped = 0

    def record(self, index: int, media_time: float, total_ms: float, stages: dict[str, float],
               notes: dict[str, Any]) -> None:
        """Add the timings of one frame. ``stages`` maps stage/plugin name to ms."""
        entry: dict[str, Any] = {"index": index, "t": round(media_time, 4), "total_ms": round(total_ms, 3),
                                 "stages": {k: round(v, 3) for k, v in stages.items()}}
        if notes:
            entry["notes"] = notes
        self.frames.append(entry)
        self.count += 1
        self.totals.add(entry["total_ms"])
        for name, ms in stages.items():
            stage = self.stage_ms.get(name)
            if stage is None:  # staggered sizes: the stages fold (~0.4 ms each) on different frames
                stage = self.stage_ms[name] = Distribution(exact=4096 + 61 * (len(self.stage_ms) + 1))
            stage.add(ms)

    def recent_totals(self, n: int) -> list[float]:
        """Total ms of the last ``n`` frames (for overlays and schedulers)."""
        return [f["total_ms"] for f in islice(reversed(self.frames), n)][::-1]

    def summary(self) -> dict[str, Any]:
        """Frames, drops, wall-clock fps, frame-time percentiles and per-stage percentiles."""
        wall = time.perf_counter() - self.started
        return {
            "frames": self.count,
            "dropped": self.dropped,
            "wall_s": round(wall, 3),
            "fps": round(self.count / wall, 2) if wall > 0 else 0.0,
            "frame_ms": self.totals.summary(),
            "stages_ms": {name: ms.summary() for name, ms in sorted(self.stage_ms.items())},
        }

    def write_json(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write ``{"summary": ..., "frames": [...]}`` to ``path`` (folders are created)."""
        payload = {"summary": {**self.summary(), **(extra or {})}, "frames": list(self.frames)}
        write_file(path, json.dumps(payload, indent=1).encode(), "the stats file ")
