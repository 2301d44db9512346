"""Running ``edgefx bench``: the engine's benchmarks and every plugin's, a printed report and
``report.json``."""

from __future__ import annotations

import json
from typing import Any

from edgefx.batch.bench import batch_benchmarks
from edgefx.bench import Benchmark, BenchSettings
from edgefx.bench.core import core_benchmarks
from edgefx.bench.latency import latency_benchmarks
from edgefx.bench.outputs import outputs_benchmarks
from edgefx.bench.pipeline import pipeline_benchmarks
from edgefx.bench.scheduling import scheduler_benchmarks


def run_benchmarks(registry: Any, settings: BenchSettings, only: list[str] | None = None,
                   list_only: bool = False) -> int:
    """Run the engine's benchmarks and every plugin's, print a report, write ``report.json``."""
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
