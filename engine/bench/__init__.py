"""``edgefx bench``: performance figures, collected from the engine and from every plugin.

Each benchmark returns a dict of figures; the report is printed and written as JSON.
Timings on shared machines are noisy: benchmarks report medians (and p90/p99 where
useful) of many repetitions, and ratios measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2


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

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return {"median_ms": round(statistics.median(ordered), 3), "p90_ms": round(pct(90), 3),
            "p99_ms": round(pct(99), 3), "n": len(ordered)}


def run_benchmarks(registry: Any, settings: BenchSettings, only: list[str] | None = None,
                   list_only: bool = False) -> int:
    """Run the engine's benchmarks and every plugin's, print a report, write ``report.json``."""
    import json

    from edgefx.batch.bench import batch_benchmarks
    from edgefx.bench.core import core_benchmarks
    from edgefx.bench.latency import latency_benchmarks
    from edgefx.bench.outputs import outputs_benchmarks
    from edgefx.bench.pipeline import pipeline_benchmarks
    from edgefx.bench.scheduling import scheduler_benchmarks

    benches: list[Benchmark] = [*core_benchmarks(), *pipeline_benchmarks(), *latency_benchmarks(),
                                  *scheduler_benchmarks(), *batch_benchmarks(),
                                  *outputs_benchmarks()]
    benches.extend(registry.benchmarks())
    if list_only:
        for b in benches:
            print(f"{b.name:<24} {b.description}")
        return 0
    chosen = [b for b in benches if not only or b.name in only]
    if only and len(chosen) != len(set(only)):
        missing = set(only) - {b.name for b in chosen}
        print(f"unknown benchmark(s): {', '.join(sorted(missing))}; see `edgefx bench --list`")
        return 2
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {}
    for bench in chosen:
        print(f"== {bench.name}: {bench.description}", flush=True)
        try:
            figures = bench.run(settings)
        except Exception as exc:
            figures = {"error": f"{type(exc).__name__}: {exc}"}
        report[bench.name] = figures
        for key, value in figures.items():
            print(f"   {key}: {value}")
    path = settings.out_dir / "report.json"
    path.write_text(json.dumps(report, indent=1))
    print(f"report: {path}")
    return 1 if any("error" in r for r in report.values()) else 0
