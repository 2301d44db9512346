"""``edgefx bench --only pipeline``: what overlapping the stages buys on the demo job.

The demo job (``configs/demo.toml``: 1280x720 demo input, background blur, face mask, stats
overlay, written to mp4) runs with ``[run] overlap`` off and on, alternating in one process so
machine noise hits both alike:

- with ``output.threads = 1`` (the shape of a board where the encoder and the effects each need
  about one core): the throughput ratio, and whether both outputs decode to the same frames;
- with the encoder's default threads: wall time against process CPU time / cores (1.0 = every
  core busy all the time).

Each run is timed from the first frame's arrival (models are loaded before) to the finished
file. The stats overlay recomputes its text only on the first frame (``refresh = 300``) so the
pictures do not depend on timing. It also measures how much of a Python thread's speed survives
next to an encoding thread (``encode_gil_free``: 1.0 = PyAV holds no GIL while encoding).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from edgefx.bench import Benchmark, BenchSettings


def cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def demo_job(out: Path, frames: int, overlap: bool, threads: int) -> dict[str, Any]:
    """One run of the demo job; returns wall and CPU seconds from the first frame to the closed
    file, fps over that time, and the run summary."""
    from edgefx.config import load_settings
    from edgefx.registry import load_registry
    from edgefx.runtime.runner import execute

    settings = load_settings("demo", {"input.url": f"demo:?seconds={frames / 30.0}", "output.url": str(out),
                                      "output.overwrite": True, "output.threads": threads,
                                      "run.overlap": overlap, "effects.stats.refresh": 300})
    marks: dict[str, float] = {}

    def first_frame(frame: Any, ctx: Any) -> None:
        if "wall" not in marks:
            marks["wall"], marks["cpu"] = time.perf_counter(), time.process_time()

    result = execute(settings, load_registry(), on_frame=first_frame)
    wall, cpu = time.perf_counter() - marks["wall"], time.process_time() - marks["cpu"]
    done = result.summary["frames"] - 1  # timed from the first frame's end
    return {"wall_s": wall, "cpu_s": cpu, "fps": done / wall, "summary": result.summary}


def differing_frames(a: Path, b: Path) -> tuple[int, int]:
    """Decode both videos; returns (frames compared, frames whose pixels differ or that only one has)."""
    with av.open(str(a)) as ca, av.open(str(b)) as cb:
        fa = [f.to_ndarray(format="yuv420p") for f in ca.decode(video=0)]
        fb = [f.to_ndarray(format="yuv420p") for f in cb.decode(video=0)]
    differ = sum(not np.array_equal(x, y) for x, y in zip(fa, fb, strict=False)) + abs(len(fa) - len(fb))
    return max(len(fa), len(fb)), differ


def encode_gil_free(seconds: float = 1.5) -> float:
    """Speed of a pure-Python loop while another thread encodes 720p x264 (one encoder thread),
    relative to its speed alone: near 1.0 on a machine with a spare core when PyAV releases the
    GIL while converting and encoding; near 0.5 or below if it held it."""
    def spin() -> int:
        n, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            n += 1
        return n

    image = np.random.default_rng(0).integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    stop = threading.Event()

    def encode() -> None:
        ctx = av.CodecContext.create("libx264", "w")
        ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = 1280, 720, "yuv420p", Fraction(1, 30)
        ctx.thread_count, ctx.options = 1, {"preset": "veryfast", "tune": "zerolatency"}
        ctx.open()
        pts = 0
        while not stop.is_set():
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts, pts = pts, pts + 1
            ctx.encode(vf.reformat(format="yuv420p"))

    alone = spin()
    worker = threading.Thread(target=encode, daemon=True)
    worker.start()
    time.sleep(0.3)
    beside = spin()
    stop.set()
    worker.join()
    return beside / alone


def bench_pipeline(settings: BenchSettings) -> dict[str, Any]:
    """The A/B described in the module docstring."""
    frames = 90 if settings.quick else 240
    rounds = 1 if settings.quick else 3
    out = settings.out_dir
    one: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
    for r in range(rounds):  # alternate which goes first
        for overlap in ((False, True) if r % 2 == 0 else (True, False)):
            one[overlap].append(demo_job(out / f"pipeline_{'on' if overlap else 'off'}.mp4", frames, overlap, 1))
    compared, differ = differing_frames(out / "pipeline_off.mp4", out / "pipeline_on.mp4")
    fps_off = statistics.median(r["fps"] for r in one[False])
    fps_on = statistics.median(r["fps"] for r in one[True])
    default = [demo_job(out / "pipeline_default_threads.mp4", frames, True, 0) for _ in range(rounds)]
    best = min(default, key=lambda r: r["wall_s"] / (r["cpu_s"] / cores()))
    stage = best["summary"]["output_stats"].get("output_stage", {})
    return {
        "frames": frames, "rounds": rounds, "cores": cores(), "load_average": os.getloadavg()[0],
        "one_encoder_thread_fps_off": round(fps_off, 1), "one_encoder_thread_fps_on": round(fps_on, 1),
        "overlap_speedup": round(fps_on / fps_off, 2),
        "frames_compared": compared, "frames_differing": differ,
        "default_threads_fps": round(best["fps"], 1),
        "default_threads_wall_s": round(best["wall_s"], 2), "default_threads_cpu_s": round(best["cpu_s"], 2),
        "wall_over_cpu_per_core": round(best["wall_s"] / (best["cpu_s"] / cores()), 3),
        "wall_over_cpu_per_core_runs": [round(r["wall_s"] / (r["cpu_s"] / cores()), 3) for r in default],
        "output_thread_encode_p50_ms": stage.get("encode_ms", {}).get("p50"),
        "loop_frame_p50_ms": best["summary"]["frame_ms"].get("p50"),
        "encode_gil_free": round(encode_gil_free(), 2),
        "target": "overlap_speedup >= 1.4 with frames_differing == 0; wall_over_cpu_per_core <= 1.1",
    }


BUILT_IN_EFFECTS = "background,face_mask,stats,particles,person_front,lightsaber,autoframe,touchup,relight"
"""Every effect edgefx ships."""


def one_core_run(output: str, stats: Path, frames: int, budget_ms: float, adapt_preset: bool = True) -> dict[str, Any]:
    """``edgefx run`` of every built-in effect on the 1280x720 demo input with ``--budget-ms``, as
    its own process on one core (``taskset -c 0`` where it exists); returns p50/p99 frame time after
    a 30-frame warm-up, the share of frames on which the person mask was computed fresh (not reused
    and not skipped as unchanged), the scheduler's counts and the encoder's levels.
    ``adapt_preset``: ``[output] adapt_preset`` (the encoder's speed follows the budget)."""
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    cmd = [*pin, sys.executable, "-m", "edgefx.cli", "run", "-i", f"demo:?seconds={frames / 30.0}",
           "--set", "input.width=1280", "--set", "input.height=720", "--effects", BUILT_IN_EFFECTS,
           "--set", f"output.adapt_preset={str(adapt_preset).lower()}",
           "--budget-ms", str(budget_ms), "-o", output, "--overwrite", "--stats", str(stats)]
    subprocess.run(cmd, check=True, capture_output=True)
    data = json.loads(stats.read_text())
    totals = [f["total_ms"] for f in data["frames"][30:]]
    person = data["summary"]["scheduler"]["plugins"].get("person", {})
    fresh = sum(n for level, n in person.items() if level not in ("reused", "unchanged"))
    p99 = float(np.percentile(totals, 99))
    return {"p50_ms": round(float(np.median(totals)), 2), "p99_ms": round(p99, 2),
            "p99_over_budget": round(p99 / budget_ms, 3),
            "person_fresh_share": round(fresh / data["summary"]["frames"], 3), "person": person,
            "load_index": data["summary"]["scheduler"].get("load_index"),
            "encoder": data["summary"].get("output_stats", {}).get("encoder")}


def bench_budget_one_core(settings: BenchSettings) -> dict[str, Any]:
    """Every built-in effect at 1280x720 on one core with ``--budget-ms 33``, recorded to mp4 and
    to null (issue 27)."""
    frames = 150 if settings.quick else 300
    out = settings.out_dir
    mp4 = str(out / "budget_one_core.mp4")
    figures: dict[str, Any] = {"cores": 1, "budget_ms": 33.0, "frames": frames, "effects": BUILT_IN_EFFECTS}
    # the encoder's levels as an A/B: adaptive and fixed-preset runs alternate, as whole processes
    runs: dict[str, list[dict[str, Any]]] = {"mp4": [], "mp4_fixed_preset": []}
    for _ in range(1 if settings.quick else 2):
        runs["mp4"].append(one_core_run(mp4, out / "budget_one_core_mp4.json", frames, 33.0))
        runs["mp4_fixed_preset"].append(one_core_run(mp4, out / "budget_one_core_fixed.json", frames, 33.0, False))
    for key, done in runs.items():
        figures[key] = done[0] if len(done) == 1 else done
    figures["null"] = one_core_run("null", out / "budget_one_core_null.json", frames, 33.0)
    figures["target"] = "p99 <= 1.1 x budget on both; person mask fresh on >= 25% of frames (mp4), >= 50% (null)"
    return figures


def pipeline_benchmarks() -> list[Benchmark]:
    """The pipeline's benchmarks (stage overlap, one core under a budget)."""
    return [Benchmark("pipeline", bench_pipeline,
                      "demo job, overlap off vs on (one encoder thread, same frames); CPU use, default threads"),
            Benchmark("budget_one_core", bench_budget_one_core,
                      "every built-in effect, 1280x720, one core, --budget-ms 33: to mp4 and to null")]
