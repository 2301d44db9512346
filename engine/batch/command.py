"""``edgefx batch -c PRESET INPUT... --out DIR [--workers N] [--ray [ADDRESS]]``."""

from __future__ import annotations

import argparse
import hashlib
import json
import signal
from dataclasses import asdict
from pathlib import Path
from typing import Any

BATCH_OVERRIDES: dict[str, Any] = {
    "input.threads": 1,  # decode on the worker's loop thread: one worker uses one core, no more
    "output.threads": 1,  # one encoder thread per worker: the workers are the parallelism
    "scheduler.budget_ms": 0.0,  # offline: every frame fresh at its best level, not degraded to keep up
    "scheduler.fps_target": 0.0,
    "control.enabled": False,  # no control panel per worker (they would all want its port)
    "run.stats": "",  # per-file timings go to the manifest (--stats)
}
"""What a batch sets on top of the preset (``--set`` still overrides them); analyzers that take a
``threads`` option also get 1 (one LiteRT thread per worker). A worker with a decode thread beside
its loop used 1.13 cores, which capped 2 workers on 2 cores near 1.77x."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The batch-only flags (the job flags -c/--set/--width/... come from the ``run`` command's set)."""
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders (walked) or quoted globs")
    parser.add_argument("--out", required=True, type=Path, help="output folder (mirrors the input folders)")
    parser.add_argument("--workers", type=int, default=0,
                        help="files at once (default: this machine's cores, or the Ray cluster's CPUs)")
    parser.add_argument("--ray", nargs="?", const="auto", metavar="ADDRESS",
                        help="run as Ray tasks on the cluster at ADDRESS (auto, HOST:PORT, ray://HOST:PORT); "
                             "needs pip install 'edgefx[cluster]'")
    parser.add_argument("--stats", action="store_true", help="per-file timings in the manifest")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_batch)


def batch_settings(args: argparse.Namespace, registry: Any):
    """The preset with the batch's overrides, then the command line's ``--set`` on top."""
    from edgefx.config import load_settings

    overrides = dict(BATCH_OVERRIDES)
    for name, cls in registry.analyzers.items():
        if "threads" in cls.options:
            overrides[f"analyzers.{name}.threads"] = 1
    for key in ("width", "height", "fps"):
        if getattr(args, key, None) is not None:
            overrides[f"input.{key}"] = getattr(args, key)
    return load_settings(args.config or "default", overrides, args.set)


def fingerprint(settings: Any, max_frames: int) -> str:
    """A short hash of everything that shapes the outputs (not the input and output names)."""
    data = asdict(settings)
    data.pop("origins")
    data["input"].pop("url")
    data["output"].pop("url")
    text = json.dumps({"settings": data, "max_frames": max_frames}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cmd_batch(args: argparse.Namespace, registry: Any) -> int:
    """Plan, run and sum up a batch; exit 0 when every file is done, 1 when some failed, 130 on Ctrl-C
    or SIGTERM (the workers are stopped; the next run does what was left)."""
    from tqdm import tqdm

    from edgefx.batch.driver import run_batch, summary_lines
    from edgefx.batch.executors import LocalExecutor, RayExecutor, local_cores
    from edgefx.batch.manifest import Manifest
    from edgefx.batch.plan import plan_jobs
    from edgefx.errors import ConfigError
    from edgefx.runtime.runner import create_plugins

    if args.workers < 0:
        raise ConfigError(f"--workers {args.workers} is negative", "give a count, or leave it out for all cores")
    settings = batch_settings(args, registry)
    create_plugins(settings, registry)  # a bad effect name or option stops here, before any worker starts
    jobs = plan_jobs(args.inputs, args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = Manifest(args.out.resolve(), fingerprint(settings, args.max_frames))
    todo = len(jobs) - len(manifest.finished())
    if args.ray is not None:
        executor = RayExecutor(args.ray, settings, args.workers, args.max_frames, args.stats)
    else:
        executor = LocalExecutor(settings, max(1, min(args.workers or local_cores(), todo)), args.max_frames,
                                 args.stats)
    bar = tqdm(total=todo, unit="file", desc="batch", disable=args.no_progress or not todo)
    frames = failed = 0

    def on_outcome(outcome, final: bool) -> None:
        nonlocal frames, failed
        if final:
            frames += outcome.frames if outcome.status == "done" else 0
            failed += outcome.status == "failed"
            bar.update(1)
            bar.set_postfix(frames=frames, failed=failed, refresh=False)

    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops like Ctrl-C
    try:
        report = run_batch(jobs, executor, manifest, on_outcome)
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.close()
    for line in summary_lines(report, executor.where, str(args.out)):
        print(line)
    print(f"manifest: {manifest.path}")
    if report.interrupted:
        return 130
    return 1 if report.failed else 0
