"""Where a batch's files run: a local process pool (``pebble``, which replaces a worker that dies
and fails only the file it had) or Ray tasks on a cluster. Both hand back a
``concurrent.futures.Future`` of the file's ``Outcome``; a future that raises means the worker
itself died (``crash_reason`` says how)."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from concurrent.futures import Future
from typing import Any

from edgefx.batch.manifest import Outcome
from edgefx.batch.plan import Job
from edgefx.batch.work import init_worker, process_file
from edgefx.config import Settings
from edgefx.errors import ConfigError

log = logging.getLogger(__name__)


def local_cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class LocalExecutor:
    """``workers`` worker processes on this machine (spawned fresh: no state inherited from the
    command's process), each with one OpenCV, one LiteRT and one encoder thread."""

    def __init__(self, settings: Settings, workers: int, max_frames: int = 0, stats: bool = False) -> None:
        import pebble

        self.workers = workers
        self.where = f"{workers} local worker process(es)"
        self._args = (settings, max_frames, stats)
        self._pool = pebble.ProcessPool(max_workers=workers, initializer=init_worker,
                                        context=multiprocessing.get_context("spawn"))

    def submit(self, job: Job, attempt: int, avoid_node: str | None = None) -> Future[Outcome]:
        """Start ``job`` on the next free worker (all workers here share one node: ``avoid_node``
        is moot; a worker that died has been replaced by a fresh process)."""
        settings, max_frames, stats = self._args
        return self._pool.schedule(process_file, (settings, job, max_frames, attempt, stats))

    @staticmethod
    def crash_reason(exc: BaseException) -> str:
        """Why a future failed: a worker that died, with its exit code or signal."""
        import pebble

        if isinstance(exc, pebble.ProcessExpired):
            code = exc.exitcode
            how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
            return f"worker process {exc.pid} died ({how})"
        return f"{type(exc).__name__}: {exc}"

    def close(self, cancel: bool = False) -> None:
        """Wait for the workers to exit (``cancel``: stop them now, mid-file)."""
        if cancel:
            self._pool.stop()
        else:
            self._pool.close()
        self._pool.join()


def _ray_process_file(settings: Settings, job: Job, max_frames: int, attempt: int, stats: bool) -> Outcome:
    """``process_file`` inside a Ray task, with the Ray node the task ran on."""
    import ray

    init_worker()
    outcome = process_file(settings, job, max_frames, attempt, stats)
    outcome.node = ray.get_runtime_context().get_node_id()
    return outcome


class RayExecutor:
    """Each file a Ray task (one CPU) on the cluster at ``address`` (``auto``, ``HOST:PORT``,
    ``ray://HOST:PORT``; see ``ray.init``). Inputs and outputs must be on storage every node sees
    at the same paths; each node has edgefx and its models installed (``edgefx models fetch``)."""

    def __init__(self, address: str, settings: Settings, workers: int = 0, max_frames: int = 0,
                 stats: bool = False) -> None:
        try:
            import ray
        except ImportError:
            raise ConfigError("--ray needs Ray, which is not installed",
                              "pip install 'edgefx[cluster]' (on this machine and on every node)") from None
        self._ray = ray
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ConfigError(f"cannot join the Ray cluster at {address}: {exc}",
                              "start it with `ray start --head` (docs/batch.md), or give its address: "
                              "--ray HOST:6379") from None
        cpus = int(ray.cluster_resources().get("CPU", 0))
        if cpus < 1:
            ray.shutdown()
            raise ConfigError(f"the Ray cluster at {address} has no CPUs to run tasks on",
                              "start the nodes with --num-cpus N (N > 0)")
        self.workers = workers or cpus
        self.where = f"Ray cluster {address}: {len(self._nodes())} node(s), {cpus} CPU(s)"
        self._settings = ray.put(settings)
        self._args = (max_frames, stats)
        self._task = ray.remote(num_cpus=1, max_retries=0)(_ray_process_file)
        self._running: set[Any] = set()

    def _nodes(self) -> list[str]:
        return [n["NodeID"] for n in self._ray.nodes() if n["Alive"] and n["Resources"].get("CPU")]

    def submit(self, job: Job, attempt: int, avoid_node: str | None = None) -> Future[Outcome]:
        """Start ``job`` as a task; a retry prefers a node other than ``avoid_node`` (where it failed)."""
        options: dict[str, Any] = {}
        others = [n for n in self._nodes() if n != avoid_node] if avoid_node else []
        if others:
            from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(others[hash(job.input) % len(others)],
                                                                            soft=True)
        max_frames, stats = self._args
        ref = self._task.options(**options).remote(self._settings, job, max_frames, attempt, stats)
        self._running.add(ref)
        future = ref.future()
        future.add_done_callback(lambda _: self._running.discard(ref))
        return future

    @staticmethod
    def crash_reason(exc: BaseException) -> str:
        """Why a task failed: its worker process or node died (Ray's error, first line)."""
        text = str(exc).strip().splitlines()
        return f"{type(exc).__name__}: {text[0] if text else 'no details'}"

    def close(self, cancel: bool = False) -> None:
        """Disconnect from the cluster (``cancel``: stop the tasks still running first)."""
        if cancel:
            for ref in list(self._running):
                self._ray.cancel(ref, force=True)
        self._ray.shutdown()

