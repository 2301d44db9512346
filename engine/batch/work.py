"""What a worker does with one file: ``edgefx run``'s own code path (``edgefx.runtime.runner.execute``) with
the file as the input and a temporary name as the output, renamed to the final name only when
the whole input went through (a final name that holds a file edgefx did not write is refused, as
``edgefx run`` refuses it, unless ``output.overwrite``). Any failure is returned as a ``failed``
outcome with its reason; the temporary file is removed, so nothing half-written is left."""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import time
from typing import Any

import cv2

from edgefx.batch.manifest import Outcome
from edgefx.batch.plan import Job
from edgefx.config import Settings
from edgefx.errors import EdgefxError

log = logging.getLogger(__name__)
_registry: Any = None


def init_worker() -> None:
    """Once per worker process: OpenCV on one thread (one core per worker) and log lines that say
    which worker wrote them."""
    cv2.setNumThreads(1)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s [worker %(process)d]: %(message)s")


def registry() -> Any:
    """The plugin registry, loaded once per worker process."""
    global _registry
    if _registry is None:
        from edgefx.registry import load_registry

        _registry = load_registry()
    return _registry


def file_settings(settings: Settings, job: Job) -> Settings:
    """The batch's settings with this file as the input and its temporary name as the output."""
    return dataclasses.replace(settings, input={**settings.input, "url": str(job.input)},
                               output={**settings.output, "url": str(job.temp)})


def process_file(settings: Settings, job: Job, max_frames: int = 0, attempt: int = 1,
                 stats: bool = False) -> Outcome:
    """Run ``settings`` over ``job.input`` into ``job.output``; never raises for a bad file."""
    from edgefx.io.protect import check_outputs
    from edgefx.runtime.runner import execute

    outcome = Outcome(str(job.input), str(job.output), "failed", attempt=attempt,
                      worker=f"{socket.gethostname()}:{os.getpid()}", node=socket.gethostname())
    start = time.perf_counter()
    try:
        check_outputs(str(job.input), {"output": (job.output, "video")}, settings.output["overwrite"])
        job.output.parent.mkdir(parents=True, exist_ok=True)
        job.temp.unlink(missing_ok=True)  # left by a killed batch: ours by its name
        result = execute(file_settings(settings, job), registry(), max_frames=max_frames)
        outcome.seconds = round(time.perf_counter() - start, 3)
        outcome.frames = result.summary.get("frames", 0)
        if result.source_error is not None:
            outcome.reason = _reason(result.source_error)
        elif result.interrupted:
            outcome.reason = "interrupted by a signal before the end of the input"
        else:
            os.replace(job.temp, job.output)
            outcome.status = "done"
        if stats:
            outcome.timings = {k: result.summary[k] for k in ("wall_s", "fps", "frame_ms", "stages_ms")
                               if k in result.summary}
    except EdgefxError as exc:  # a bad option, a missing model, an input that does not open
        outcome.reason = _reason(exc)
    except Exception as exc:  # a bug must fail this file only: the batch goes on
        log.exception("%s failed", job.input)
        outcome.reason = f"{type(exc).__name__}: {exc}"
    finally:
        outcome.seconds = outcome.seconds or round(time.perf_counter() - start, 3)
        if outcome.status != "done":
            job.temp.unlink(missing_ok=True)
    return outcome


def _reason(exc: Exception) -> str:
    """An edgefx error's message and what to do next, on one line."""
    if isinstance(exc, EdgefxError):
        return f"{exc.message} -> {exc.hint}" if exc.hint else exc.message
    return str(exc)
