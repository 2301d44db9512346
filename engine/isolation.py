"""Keeping one misbehaving plugin from taking the run down.

A plugin that raises is logged with its name and the frame; after ``max_failures``
consecutive failures it is disabled for the rest of the run and the stream goes on.
"""

from __future__ import annotations

import logging

from edgefx.frame import Frame

log = logging.getLogger("edgefx.pipeline")


class Guard:
    """Counts consecutive failures per plugin and disables one that keeps failing."""

    def __init__(self, max_failures: int) -> None:
        self.max_failures = max_failures
        self.failures: dict[str, int] = {}
        self.disabled: dict[str, str] = {}

    def ok(self, name: str) -> None:
        self.failures[name] = 0

    def failed(self, name: str, stage: str, frame: Frame, exc: BaseException) -> None:
        count = self.failures.get(name, 0) + 1
        self.failures[name] = count
        log.error("plugin %s failed in %s on frame %d (t=%.3f s): %s: %s",
                  name, stage, frame.index, frame.time, type(exc).__name__, exc)
        if count >= self.max_failures:
            self.disabled[name] = f"{count} consecutive failures, last: {type(exc).__name__}: {exc}"
            log.error("plugin %s disabled for the rest of the run after %d consecutive failures", name, count)
