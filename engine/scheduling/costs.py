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
from bisect import bisect_left, insort
from collections import deque

from edgefx.runtime.metrics import percentile

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
QUIET_EVERY = 8
"""A key's quiet cost is looked for every this many timings (a median of its window each time)."""


class SortedWindow:
    """The last ``size`` values, kept in arrival order and sorted: a percentile is a lookup (the
    scheduler reads its noise margin from one on every frame)."""

    __slots__ = ("arrived", "ordered", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.arrived: deque[float] = deque()
        self.ordered: list[float] = []

    def __len__(self) -> int:
        return len(self.ordered)

    def add(self, value: float) -> None:
        """Keep ``value``; the oldest one leaves when the window is full."""
        if len(self.arrived) == self.size:
            del self.ordered[bisect_left(self.ordered, self.arrived.popleft())]
        self.arrived.append(value)
        insort(self.ordered, value)

    def percentile(self, share: float) -> float:
        """The value at ``share`` (0-1) of the sorted window (``percentile``, a measured value; the
        window must not be empty)."""
        return percentile(self.ordered, share, measured=True)


class Samples:
    """The last timings of one (plugin, level), each divided by the load index when it was taken,
    and the frame of the newest."""

    __slots__ = ("_p90", "added", "last_frame", "ms", "quiet", "raw")

    def __init__(self, window: int) -> None:
        self.ms: deque[float] = deque(maxlen=window)
        """The normalised timings."""
        self.raw: deque[float] = deque(maxlen=window)
        """The same timings as measured (for ``quiet``)."""
        self.added = 0
        self.last_frame = -1
        self.quiet = math.inf
        """The lowest median of the measured timings seen (looked at every ``QUIET_EVERY`` timings):
        this key's cost on a quiet machine."""
        self._p90: float | None = None

    def add(self, ms: float, load: float, frame: int, restart: bool) -> None:
        if restart:
            self.ms.clear()
            self.raw.clear()
        self.ms.append(ms / load)
        self.raw.append(ms)
        self._p90 = None
        self.added += 1
        n = len(self.raw)
        if n >= 5 and (n == 5 or self.added % QUIET_EVERY == 0):
            median = percentile(sorted(self.raw), 0.5, measured=True)
            if median < self.quiet:
                self.quiet = median
        self.last_frame = frame

    @property
    def p90(self) -> float:
        """p90 of the normalised timings, in ms (sorted when first asked for after a new timing:
        timings come every frame, prices are read every few frames)."""
        if self._p90 is None:
            self._p90 = percentile(sorted(self.ms), 0.9, measured=True)
        return self._p90


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
            entry = self.samples[key] = Samples(self.window)
        if level != CARRY and ms >= LOAD_MIN_MS and 0 < entry.quiet < math.inf:
            ratio = ms / entry.quiet
            ratio = LOAD_LIMITS[0] if ratio < LOAD_LIMITS[0] else LOAD_LIMITS[1] if ratio > LOAD_LIMITS[1] else ratio
            self.load += LOAD_SMOOTHING * (ratio - self.load)
        entry.add(ms, self.load, self.frame, self.frame - entry.last_frame > self.stale_frames)

    def next_frame(self) -> None:
        """Advance the frame counter (call once per frame)."""
        self.frame += 1

    def estimate(self, name: str, level: str, levels: tuple[str, ...] = ()) -> float:
        """p90 cost in ms of ``name`` at ``level`` (one of ``levels``, best first, or ``CARRY``)
        at the current load (see ``quiet_prices`` for levels not measured yet)."""
        if level == CARRY or level not in levels:
            return self.quiet_price(name, level) * self.load
        return self.quiet_prices(name, levels)[levels.index(level)] * self.load

    def quiet_price(self, name: str, level: str) -> float:
        """p90 cost in ms of ``name`` at ``level`` as measured (0 if never), on the quiet machine."""
        entry = self.samples.get((name, level))
        return 0.0 if entry is None else entry.p90

    def quiet_prices(self, name: str, levels: tuple[str, ...]) -> list[float]:
        """p90 cost in ms of ``name`` at each of ``levels`` (best first) and, last, of ``CARRY``,
        on the quiet machine (multiply by ``load`` for now).

        A level not measured yet is interpolated (geometrically) between the nearest measured
        better and cheaper levels, or taken as half the better level per step down (twice the
        cheaper one per step up) when only one side was measured. A plugin never measured costs
        0: it has to run once to be priced.
        """
        entries = [self.samples.get((name, level)) for level in levels]
        measured = [None if e is None else e.p90 for e in entries]
        known = [i for i, v in enumerate(measured) if v is not None]
        prices = []
        for i, value in enumerate(measured):
            if value is None and known:
                better = max((j for j in known if j < i), default=None)
                cheaper = min((j for j in known if j > i), default=None)
                value = _between(measured, i, better, cheaper)
            prices.append(value or 0.0)
        prices.append(self.quiet_price(name, CARRY))
        return prices


def _between(measured: list[float | None], i: int, better: int | None, cheaper: int | None) -> float:
    """The guessed price of unmeasured level ``i`` from the measured ``better``/``cheaper`` levels."""
    if better is not None and cheaper is not None:
        high, low = measured[better], measured[cheaper]
        if high <= 0 or low <= 0:
            return max(high, low)
        return high * (low / high) ** ((i - better) / (cheaper - better))
    if better is not None:
        return measured[better] * UNMEASURED_STEP ** (i - better)
    return measured[cheaper] / UNMEASURED_STEP ** (cheaper - i)
