"""Other processes' CPU share (real /proc/stat readings) and OpenCV's thread count following it."""

from __future__ import annotations

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


def test_a_busy_process_next_to_us_counts_and_our_own_work_does_not():
    before = read_usage()
    burn(0.6)  # this process busy: not "others"
    mine = others_cores(before, read_usage())
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        start = read_usage()
        time.sleep(1.0)
        theirs = others_cores(start, read_usage())
    finally:
        hog.kill()
        hog.wait()
    assert mine < 0.5, mine
    assert theirs > 0.6, theirs


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
