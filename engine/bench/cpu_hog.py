"""A competing process for the scheduler benchmarks: one CPU core burnt flat out, on demand."""

from __future__ import annotations

import subprocess
import sys


class CpuHog:
    """Another process burning one CPU core flat out, started and stopped on demand."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        if self.proc is None:
            self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
