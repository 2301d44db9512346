"""Running cost estimates per plugin and quality level, measured as the loop runs.

Each (plugin, level) key keeps its last ``window`` timings. The estimate is the p90 of
that window (robust to the odd slow frame, unlike a mean).

Costs drift with the machine's load (a CPU hog, thermal throttling), and a level that is not
being run is not re-measured: priced before a hog it would look too cheap during it, priced
during the hog it would look too expensive once the hog is gone, and quality would not come
back. So the model also tracks a **load index**: how much slower than its quietest measured
median each timing is, smoothed over all plugins. Timings are stored divided by the index
at the time they were taken (what they would cost on the quiet machine) and estimates are
multiplied by the index now.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

CARRY = "carry"
"""Pseudo-level under which an analyzer's carry-forward path is timed."""
LOAD_SMOOTHING = 0.3
"""Weight of each new timing in the load index (exponential moving average)."""
LOAD_MIN_MS = 0.2
"""Timings shorter than this (carry paths, tiny effects) are too noisy to feed the load index."""
UNMEASURED_STEP = 0.5
"""A level never measured, next to a measured one only, is guessed at this share of the better one."""
LOAD_LIMITS = (0.25, 4.0)
"""Bounds of one timing's contribution to the load index."""


@dataclass(slots=True)
class Samples:
    """The last timings of one (plugin, level), divided by the load index when each was taken,
    and the frame of the newest one."""

    ms: deque[float]
    raw: deque[float]
    """The same timings as measured (for ``quiet``)."""
    last_frame: int = -1
    quiet: float = math.inf
    """The lowest median of the measured timings seen: this key's cost on a quiet machine."""
    _cache: tuple[float, float] | None = field(default=None, repr=False)

    def add(self, ms: float, load: float, frame: int, restart: bool) -> None:
        if restart:
            self.ms.clear()
        self.ms.append(ms / load)
        self.raw.append(ms)
        if len(self.raw) >= 5:
            self.quiet = min(self.quiet, sorted(self.raw)[len(self.raw) // 2])
        self.last_frame = frame
        self._cache = None

    def median_p90(self) -> tuple[float, float]:
        """(median, p90) in ms; cached until the next sample."""
        if self._cache is None:
            ordered = sorted(self.ms)  # at most ``window`` floats: cheaper than numpy here
            n = len(ordered)
            self._cache = (ordered[n // 2], ordered[min(n - 1, (9 * n) // 10)])
        return self._cache


class CostModel:
    """Per-plugin, per-level cost estimates (ms) from timings observed while running.

    ``window``: samples kept per key. ``stale_frames``: a key with no sample for this many
    frames starts a new window with its next sample (its old timings belong to another load).
    ``load`` is the load index (1.0 = as quiet as ever seen).
    """

    def __init__(self, window: int = 30, stale_frames: int = 90) -> None:
        self.window = window
        self.stale_frames = stale_frames
        self.samples: dict[tuple[str, str], Samples] = {}
        self.frame = 0
        self.load = 1.0

    def observe(self, name: str, level: str, ms: float) -> None:
        """Record that ``name`` at ``level`` (or ``CARRY``) took ``ms`` on the current frame."""
        key = (name, level)
        entry = self.samples.get(key)
        if entry is None:
            entry = self.samples[key] = Samples(deque(maxlen=self.window), deque(maxlen=self.window))
        if level != CARRY and ms >= LOAD_MIN_MS and 0 < entry.quiet < math.inf:
            ratio = min(LOAD_LIMITS[1], max(LOAD_LIMITS[0], ms / entry.quiet))
            self.load += LOAD_SMOOTHING * (ratio - self.load)
        entry.add(ms, self.load, self.frame, self.frame - entry.last_frame > self.stale_frames)

    def next_frame(self) -> None:
        """Advance the frame counter (call once per frame)."""
        self.frame += 1

    def estimate(self, name: str, level: str, levels: tuple[str, ...] = ()) -> float:
        """p90 cost in ms of ``name`` at ``level`` (one of ``levels``, best first, or ``CARRY``)
        at the current load.

        A level not measured yet is interpolated (geometrically) between the nearest measured
        better and cheaper levels, or taken as half the better level per step down (twice the
        cheaper one per step up) when only one side was measured. A plugin never measured costs
        0: it has to run once to be priced.
        """
        entry = self.samples.get((name, level))
        if entry is not None:
            return entry.median_p90()[1] * self.load
        if level == CARRY or level not in levels:
            return 0.0
        i = levels.index(level)
        better = next((j for j in range(i - 1, -1, -1) if (name, levels[j]) in self.samples), None)
        cheaper = next((j for j in range(i + 1, len(levels)) if (name, levels[j]) in self.samples), None)
        if better is not None and cheaper is not None:
            high, low = self.estimate(name, levels[better]), self.estimate(name, levels[cheaper])
            if high <= 0 or low <= 0:
                return max(high, low)
            return high * (low / high) ** ((i - better) / (cheaper - better))
        if better is not None:
            return self.estimate(name, levels[better]) * UNMEASURED_STEP ** (i - better)
        if cheaper is not None:
            return self.estimate(name, levels[cheaper]) / UNMEASURED_STEP ** (cheaper - i)
        return 0.0
