"""Running a planned batch: skip what the manifest says is finished, keep every worker busy
(longest files first, so the last minutes are not one long file alone), retry a failed file once
on another worker, record each attempt, and sum up per worker."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from typing import Any, Protocol

from edgefx.batch.manifest import Manifest, Outcome
from edgefx.batch.plan import Job

ATTEMPTS = 2
"""A failed file is tried once more, on another worker."""


class Executor(Protocol):
    """Where files run (``edgefx.batch.executors``)."""

    workers: int
    where: str

    def submit(self, job: Job, attempt: int, avoid_node: str | None = None) -> Future[Outcome]: ...

    @staticmethod
    def crash_reason(exc: BaseException) -> str: ...

    def close(self, cancel: bool = False) -> None: ...


@dataclass(slots=True)
class BatchReport:
    """What a batch did: the final outcome per file run now, every attempt, the files skipped
    because an earlier run finished them, and the wall time."""

    final: list[Outcome] = field(default_factory=list)
    attempts: list[Outcome] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    wall_s: float = 0.0
    interrupted: bool = False

    @property
    def done(self) -> list[Outcome]:
        return [o for o in self.final if o.status == "done"]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.final if o.status == "failed"]

    def per_worker(self) -> dict[str, dict[str, Any]]:
        """Files, frames, busy seconds and frames per second of each worker (all attempts but those
        whose worker died: they are named among the failures)."""
        rows: dict[str, dict[str, Any]] = {}
        for o in (o for o in self.attempts if o.worker):
            row = rows.setdefault(o.worker, {"node": o.node, "files": 0, "frames": 0, "seconds": 0.0})
            row["files"] += 1
            row["frames"] += o.frames
            row["seconds"] += o.seconds
        for row in rows.values():
            row["seconds"] = round(row["seconds"], 2)
            row["fps"] = round(row["frames"] / row["seconds"], 1) if row["seconds"] else 0.0
        return rows


def run_batch(jobs: list[Job], executor: Executor, manifest: Manifest,
              on_outcome: Callable[[Outcome, bool], None] | None = None) -> BatchReport:
    """Run every job not finished yet; ``on_outcome(outcome, final)`` after each attempt.
    Ctrl-C stops the workers and returns what finished (``interrupted``); the files in work keep
    only their hidden temporary outputs and are done again by the next run."""
    report = BatchReport()
    finished = manifest.finished()
    report.skipped = [finished[str(j.input)] for j in jobs if str(j.input) in finished]
    todo = sorted((j for j in jobs if str(j.input) not in finished), key=_size, reverse=True)
    queue: deque[tuple[Job, int, str | None]] = deque((job, 1, None) for job in todo)
    running: dict[Future[Outcome], tuple[Job, int]] = {}
    start = time.perf_counter()
    try:
        while queue or running:
            while queue and len(running) < executor.workers:
                job, attempt, avoid = queue.popleft()
                running[executor.submit(job, attempt, avoid)] = (job, attempt)
            completed, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in completed:
                job, attempt = running.pop(future)
                outcome = _outcome(future, job, attempt, executor)
                outcome.settings = manifest.settings
                manifest.append(outcome)
                report.attempts.append(outcome)
                final = outcome.status == "done" or attempt >= ATTEMPTS
                if final:
                    report.final.append(outcome)
                else:
                    queue.appendleft((job, attempt + 1, outcome.node or None))
                if on_outcome is not None:
                    on_outcome(outcome, final)
    except KeyboardInterrupt:
        report.interrupted = True
    finally:
        executor.close(cancel=report.interrupted)
        report.wall_s = round(time.perf_counter() - start, 3)
    return report


def _outcome(future: Future[Outcome], job: Job, attempt: int, executor: Executor) -> Outcome:
    """The worker's outcome, or a failed one saying how the worker died."""
    exc = future.exception()
    if exc is None:
        return future.result()
    job.temp.unlink(missing_ok=True)
    return Outcome(str(job.input), str(job.output), "failed", attempt=attempt, reason=executor.crash_reason(exc))


def _size(job: Job) -> int:
    try:
        return job.input.stat().st_size
    except OSError:
        return 0


def summary_lines(report: BatchReport, where: str, out_dir: str) -> list[str]:
    """The summary table: counts, frames per second per worker, and every failure with its reason."""
    frames = sum(o.frames for o in report.done)
    fps = frames / report.wall_s if report.wall_s else 0.0
    total = len(report.final) + len(report.skipped)
    lines = [f"{total} files: {len(report.done)} done, {len(report.failed)} failed, {len(report.skipped)} skipped"
             f"{' (interrupted)' if report.interrupted else ''}; {frames} frames in {report.wall_s:.1f} s "
             f"({fps:.1f} fps) on {where} -> {out_dir}"]
    rows = report.per_worker()
    if rows:
        width = max(len("worker"), *(len(w) for w in rows))
        lines.append(f"  {'worker':<{width}}  {'node':<12}  {'files':>5}  {'frames':>7}  {'busy s':>8}  {'fps':>7}")
        for worker, r in sorted(rows.items()):
            lines.append(f"  {worker:<{width}}  {r['node'][:12]:<12}  {r['files']:>5}  {r['frames']:>7}  "
                         f"{r['seconds']:>8.2f}  {r['fps']:>7.1f}")
    for o in report.failed:
        lines.append(f"failed: {o.input} ({o.attempt} attempts): {o.reason}")
    retried = {o.input for o in report.done if o.attempt > 1}
    for o in report.attempts:
        if o.status == "failed" and o.input in retried:
            lines.append(f"retried: {o.input}: attempt {o.attempt} failed ({o.reason}), the next one finished")
    return lines
