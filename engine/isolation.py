"""Keeping one misbehaving plugin from taking the run down.

A plugin that raises is logged with its name and the frame; after ``max_failures``
consecutive failures it is disabled for the rest of the run and the stream goes on.

A plugin that takes many times its expected time is reported: its expected time is its
``expected_ms`` attribute when it declares one, else the stream's frame budget
(1000 / fps). Each frame where it takes more than ``overrun_factor`` times that counts as
an overrun; the first is logged, and ``slow_report()`` (in the run summary as
``slow_plugins``) lists every plugin that overran ``report_after`` times or more.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from edgefx.frame import Frame

log = logging.getLogger("edgefx.pipeline")


@dataclass(slots=True)
class Overruns:
    """How often one plugin took far longer than expected, and its worst time."""

    count: int = 0
    worst_ms: float = 0.0
    budget_ms: float = 0.0


class Guard:
    """Counts consecutive failures per plugin and disables one that keeps failing; counts overruns."""

    def __init__(self, max_failures: int, overrun_factor: float = 4.0, report_after: int = 3) -> None:
        self.max_failures = max_failures
        self.overrun_factor = overrun_factor
        self.report_after = report_after
        self.failures: dict[str, int] = {}
        self.disabled: dict[str, str] = {}
        self.overruns: dict[str, Overruns] = {}

    def ok(self, name: str) -> None:
        """``name`` ran without raising: its consecutive-failure count starts again."""
        self.failures[name] = 0

    def failed(self, name: str, stage: str, frame: Frame, exc: BaseException) -> None:
        """``name`` raised in ``stage`` on ``frame``: log it; disable the plugin after ``max_failures`` in a row."""
        count = self.failures.get(name, 0) + 1
        self.failures[name] = count
        log.error("plugin %s failed in %s on frame %d (t=%.3f s): %s: %s",
                  name, stage, frame.index, frame.time, type(exc).__name__, exc)
        if count >= self.max_failures:
            self.disabled[name] = f"{count} consecutive failures, last: {type(exc).__name__}: {exc}"
            log.error("plugin %s disabled for the rest of the run after %d consecutive failures", name, count)

    def overrun(self, name: str, ms: float, budget_ms: float) -> None:
        """Record that ``name`` took ``ms`` where ``budget_ms`` was expected; counts only
        times over ``overrun_factor`` x ``budget_ms``."""
        if ms <= self.overrun_factor * budget_ms:
            return
        record = self.overruns.setdefault(name, Overruns(budget_ms=budget_ms))
        record.count += 1
        record.worst_ms = max(record.worst_ms, ms)
        if record.count == 1:
            log.warning("plugin %s took %.1f ms, %.0fx its expected %.1f ms (reported in the run summary "
                        "as slow_plugins if it keeps happening)", name, ms, ms / budget_ms, budget_ms)

    def slow_report(self) -> dict[str, dict[str, float]]:
        """Plugins that overran ``report_after`` times or more: count, worst ms, expected ms."""
        return {name: {"overruns": r.count, "worst_ms": round(r.worst_ms, 3), "expected_ms": round(r.budget_ms, 3)}
                for name, r in self.overruns.items() if r.count >= self.report_after}
