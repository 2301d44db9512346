"""``edgefx bench``: performance figures, collected from the engine and from every plugin.

This module is what a plugin's benchmark uses (``Benchmark``, ``BenchSettings`` and timing helpers);
the engine's own benchmarks are its submodules, and ``edgefx.bench.suite`` runs them all.
Each benchmark returns a dict of figures; the report is printed and written as JSON.
Timings on shared machines are noisy: benchmarks report medians (and p90/p99 where
useful) of many repetitions, and ratios measured in the same run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2

from edgefx.runtime.metrics import percentile


@dataclass(frozen=True, slots=True)
class BenchSettings:
    """What a benchmark should measure at: frame size, repetitions, threads, where to write."""

    width: int = 1280
    height: int = 720
    frames: int = 300
    threads: int = 1
    out_dir: Path = Path("out/bench")
    quick: bool = False


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One named benchmark: ``run(settings)`` returns its figures."""

    name: str
    run: Callable[[BenchSettings], dict[str, Any]]
    description: str = ""


@contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """OpenCV on ``count`` threads inside the block; the count it had is restored after."""
    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def time_ms(fn: Callable[[], Any], repeat: int, warmup: int = 3) -> list[float]:
    """Call ``fn`` ``warmup + repeat`` times; return the last ``repeat`` durations in ms."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000.0)
    return out


def summarize_ms(samples: list[float]) -> dict[str, float]:
    """Median, p90 and p99 of a list of milliseconds, rounded to 3 decimals."""
    ordered = sorted(samples)
    return {"median_ms": round(percentile(ordered, 0.5), 3), "p90_ms": round(percentile(ordered, 0.9), 3),
            "p99_ms": round(percentile(ordered, 0.99), 3), "n": len(ordered)}
