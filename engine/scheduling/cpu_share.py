"""How many CPU cores other processes keep busy, and OpenCV's thread count that follows it.

OpenCV splits a resize or a blur over its worker threads and waits for the last one. When
another process keeps a core busy, one of those workers waits for a time slice and the step
takes several ms longer than planned: frame-time spikes the scheduler cannot predict. With one
thread fewer per busy core the same work takes a little longer every frame, predictably.

The share is read from Linux's ``/proc/stat`` (every CPU's busy time) minus this process's own
CPU time; elsewhere it is unknown and nothing changes.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import cv2

log = logging.getLogger(__name__)

PROC_STAT = Path("/proc/stat")
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
KEEP_FREE = 0.3
"""A core counts as ours while others use less than this much of it (one timer tick is 0.01 s)."""

Reading = tuple[float, float, float]
"""(CPU seconds busy on the whole machine, CPU seconds of this process, wall seconds)."""


def read_usage() -> Reading | None:
    """The machine's busy CPU time (user, nice, system, irq, softirq and steal of every core),
    this process's CPU time (all its threads) and the wall clock; ``None`` without ``/proc/stat``."""
    try:
        with PROC_STAT.open("rb") as stat:
            fields = [int(v) for v in stat.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    busy = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    own = os.times()
    return busy / TICKS_PER_S, own.user + own.system, time.monotonic()


def others_cores(before: Reading, after: Reading) -> float:
    """Cores other processes kept busy on average between two readings (>= 0)."""
    wall = after[2] - before[2]
    if wall <= 0:
        return 0.0
    return max(0.0, ((after[0] - before[0]) - (after[1] - before[1])) / wall)


class ThreadFollower:
    """Sets OpenCV's thread count to the cores other processes leave free: at least 1, at most
    ``most`` (default: the count OpenCV has when this is made). Call ``update`` now and then (it
    reads ``/proc/stat``) and ``restore`` at the end. ``read`` and ``set_threads`` are injectable
    for tests.
    """

    def __init__(self, cpus: int | None = None, most: int | None = None,
                 read: Callable[[], Reading | None] = read_usage,
                 set_threads: Callable[[int], None] = cv2.setNumThreads) -> None:
        self.cpus = cpus or os.cpu_count() or 1
        self.read, self.set_threads = read, set_threads
        self.most = most or cv2.getNumThreads()
        self.threads = self.most
        self.others = 0.0
        self.changes = 0
        self._last = read()

    def update(self) -> int:
        """Re-measure the others' share since the last call and set the thread count; returns it."""
        now = self.read()
        if now is None or self._last is None:
            return self.threads
        self.others, self._last = others_cores(self._last, now), now
        threads = max(1, min(self.most, int(self.cpus - self.others + KEEP_FREE)))
        if threads != self.threads:
            log.info("other processes keep %.1f of %d CPU cores busy: OpenCV on %d thread(s) "
                     "(a parallel step would wait for a busy core)", self.others, self.cpus, threads)
            self.set_threads(threads)
            self.threads = threads
            self.changes += 1
        return threads

    def restore(self) -> None:
        """Back to the thread count OpenCV had at the start."""
        if self.threads != self.most:
            self.set_threads(self.most)
            self.threads = self.most
