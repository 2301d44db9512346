"""Running cost estimates per plugin and quality level, measured as the loop runs.

Each (plugin, level) key keeps its last ``window`` timings. The estimate is the p90 of
that window (robust to the odd slow frame, unlike a mean). A level priced during a load
spike (a CPU hog, thermal throttling) and not run since would look too expensive forever,
so once its newest sample is ``stale_frames`` old its estimate may decay a little every
frame (never below three quarters), which lets the scheduler try it again when frames have time to
spare; the sample taken then replaces the old window.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

CARRY = "carry"
STALE_DECAY = 0.97
STALE_FLOOR = 0.75
"""Pseudo-level under which an analyzer's carry-forward path is timed."""


@dataclass(slots=True)
class Samples:
    """The last timings of one (plugin, level) and the frame number of the newest one."""

    ms: deque[float]
    last_frame: int = -1
    load: float = 1.0
    """The load reference's median when the newest sample was taken (see ``CostModel``)."""
    _cache: tuple[float, float] | None = field(default=None, repr=False)

    def add(self, ms: float, frame: int, restart: bool, load: float) -> None:
        if restart:
            self.ms.clear()
        self.ms.append(ms)
        self.last_frame, self.load = frame, load
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

    ``window``: samples kept per key. ``stale_frames``: after this many frames without a
    sample a key's estimate is stale and its next sample starts a new window. ``reference``:
    a key measured on every frame (the engine's own time); a stale estimate is scaled by
    how much the reference's median changed since (between 0.5x and 3x), so a level last
    priced before a CPU hog started (or while it ran) follows the machine's load.
    """

    def __init__(self, window: int = 30, stale_frames: int = 60, reference: tuple[str, str] | None = None) -> None:
        self.window = window
        self.stale_frames = stale_frames
        self.reference = reference
        self.samples: dict[tuple[str, str], Samples] = {}
        self.frame = 0

    def observe(self, name: str, level: str, ms: float) -> None:
        """Record that ``name`` at ``level`` (or ``CARRY``) took ``ms`` on the current frame."""
        key, load = (name, level), self._load()
        entry = self.samples.get(key)
        if entry is None:
            entry = self.samples[key] = Samples(deque(maxlen=self.window))
        entry.add(ms, self.frame, self.frame - entry.last_frame > self.stale_frames, load)

    def _load(self) -> float:
        ref = self.samples.get(self.reference) if self.reference else None
        return ref.median_p90()[0] if ref is not None else 1.0

    def next_frame(self) -> None:
        """Advance the frame counter (call once per frame)."""
        self.frame += 1

    def estimate(self, name: str, level: str, levels: tuple[str, ...] = (), decay: bool = True) -> float:
        """p90 cost in ms of ``name`` at ``level`` (one of ``levels``, best first, or ``CARRY``).

        Unmeasured levels borrow the nearest more expensive measured level's cost (an upper
        bound, since cheaper levels come later), else the nearest cheaper one's. A plugin
        never measured costs 0: it has to run once to be priced. ``decay=False`` keeps stale
        estimates as measured (the scheduler only lets them decay when it has time to spare).
        """
        entry = self.samples.get((name, level))
        if entry is not None:
            p90 = entry.median_p90()[1]
            late = self.frame - entry.last_frame - self.stale_frames
            if late <= 0:
                return p90
            p90 *= min(3.0, max(0.5, self._load() / max(entry.load, 1e-6)))
            return p90 * max(STALE_FLOOR, STALE_DECAY ** late) if decay else p90
        if level == CARRY or level not in levels:
            return 0.0
        i = levels.index(level)
        for j in [*range(i - 1, -1, -1), *range(i + 1, len(levels))]:
            if (name, levels[j]) in self.samples:
                return self.estimate(name, levels[j], levels, decay)
        return 0.0
