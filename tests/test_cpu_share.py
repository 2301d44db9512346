"""Other processes' CPU share (real /proc/stat readings) and OpenCV's thread count following it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from edgefx.scheduling.cpu_share import ThreadFollower, others_cores, read_usage

pytestmark = pytest.mark.skipif(read_usage() is None, reason="no /proc/stat (not Linux)")


def burn(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def others_over(seconds: float, work=time.sleep) -> float:
    """Cores other processes kept busy while this process did ``work(seconds)``."""
    before = read_usage()
    work(seconds)
    return others_cores(before, read_usage())


def test_a_busy_process_next_to_us_counts_and_our_own_work_does_not():
    """Compared with the other processes' use just before, so the machine's other jobs do not
    decide it; a hog is only seen when a core is free for it (else it takes from the others)."""
    baseline = others_over(0.6)
    mine = others_over(0.6, burn)  # this process busy: not "others"
    assert mine < baseline + 0.5, (mine, baseline)
    free = (os.cpu_count() or 1) - max(baseline, others_over(0.3))
    if free < 0.9:
        pytest.skip(f"other processes keep {baseline:.1f} cores busy: no free core for a hog to show")
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        theirs = others_over(1.0)
    finally:
        hog.kill()
        hog.wait()
    assert theirs > baseline + 0.6, (theirs, baseline)


def test_threads_follow_the_cores_others_leave_free():
    readings = iter([(0.0, 0.0, 0.0),     # at start
                     (1.5, 0.5, 1.0),     # others kept 1.0 core busy for 1 s
                     (2.3, 1.2, 2.0),     # 0.1 core
                     (5.2, 1.2, 3.0)])    # 2.9: both cores (never fewer than 1 thread)
    set_to: list[int] = []
    follower = ThreadFollower(cpus=2, most=2, read=lambda: next(readings), set_threads=set_to.append)
    assert [follower.update(), follower.update(), follower.update()] == [1, 2, 1]
    assert follower.others == pytest.approx(2.9)
    follower.restore()
    assert set_to == [1, 2, 1, 2] and follower.changes == 3


def test_without_proc_stat_nothing_changes():
    set_to: list[int] = []
    follower = ThreadFollower(cpus=4, most=4, read=lambda: None, set_threads=set_to.append)
    assert follower.update() == 4 and set_to == []
