"""Keeping one misbehaving plugin from taking the run down.

What counts as a plugin's failure: raising anything in one of its calls, including
``SystemExit`` and ``KeyboardInterrupt`` (``CONTAINED``), and, for an effect, leaving
``frame.image`` as anything but the same array with the same shape and dtype (``FrameCheck``;
the frame is then restored). Each failure is logged with the plugin's name and the frame; the
first one of each plugin also with its traceback.

The policy that disables a plugin for the rest of the run (the stream goes on without it, and
the run summary lists it under ``disabled_plugins`` with the reason):

- failures: ``max_failures`` in a row (``[run] max_failures``), or ``rate[0]`` of its last
  ``rate[1]`` calls (4 of 5 by default), so a plugin failing on most frames is stopped too;
- stalls: ``stall[0]`` of its last ``stall[1]`` calls (5 of 10) each took more than
  ``stall_factor`` (10) times its expected time or the frame budget, whichever is longer. A
  plugin that slow holds the whole stream below a tenth of its frame rate.

Its expected time is its ``expected_ms`` attribute when it declares one, else the stream's frame
budget (1000 / fps). A call over ``overrun_factor`` (4) times that counts as an overrun: the first
is logged, and ``slow_report()`` (the summary's ``slow_plugins``) lists every plugin that overran
``report_after`` times or more. Plugins that failed but were not disabled are listed under
``failing_plugins`` (``failing_report()``).
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from edgefx.frame import Frame

log = logging.getLogger("edgefx.runtime.pipeline")

CONTAINED: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)
"""What a plugin may raise without ending the run (a real Ctrl-C reaches the run's signal handler,
not a plugin, so a ``KeyboardInterrupt`` inside a plugin call is the plugin's own)."""


@dataclass(slots=True)
class Overruns:
    """How often one plugin took far longer than expected, and its worst time."""

    count: int = 0
    worst_ms: float = 0.0
    budget_ms: float = 0.0


@dataclass(slots=True)
class Record:
    """One plugin's failures: in a row, in total, the recent calls (True = failed) and the first error."""

    in_a_row: int = 0
    total: int = 0
    recent: deque[bool] = field(default_factory=deque)
    stalls: deque[bool] = field(default_factory=deque)
    first: str = ""


class FrameCheck:
    """What an effect must leave as it found it: ``frame.image`` is the same array object, with the
    same shape and dtype. Made once per frame; ``violation`` costs three comparisons, and ``restore``
    puts the frame's own array back, so no pixels are copied (an effect that replaced the array or
    changed its shape or dtype in place left the pixels of the original buffer alone)."""

    __slots__ = ("dtype", "image", "shape", "spare")

    def __init__(self, image: np.ndarray) -> None:
        self.image, self.shape, self.dtype = image, image.shape, image.dtype
        self.spare = image.view()  # a second header on the same pixels, for an in-place shape/dtype change

    def violation(self, frame: Frame) -> str | None:
        """What is wrong with ``frame.image`` now, or ``None`` when it is as it should be."""
        image = frame.image
        if image is self.image and image.shape == self.shape and image.dtype == self.dtype:
            return None
        if not isinstance(image, np.ndarray):
            return f"frame.image was replaced by {type(image).__name__}"
        found = f"{image.dtype} {tuple(image.shape)}"
        wanted = f"{self.dtype} {tuple(self.shape)}"
        if image is self.image:
            return f"frame.image was changed in place to {found} (must stay {wanted})"
        return f"frame.image was replaced by another array ({found}; draw on the frame's own {wanted} array in place)"

    def restore(self, frame: Frame) -> None:
        """Give ``frame`` its own array back (the same pixel buffer)."""
        if self.image.shape != self.shape or self.image.dtype != self.dtype:
            self.image, self.spare = self.spare, self.spare.view()
        frame.image = self.image


class Guard:
    """Counts each plugin's failures, overruns and stalls and disables it by the policy above."""

    def __init__(self, max_failures: int, overrun_factor: float = 4.0, report_after: int = 3,
                 rate: tuple[int, int] = (4, 5), stall_factor: float = 10.0,
                 stall: tuple[int, int] = (5, 10)) -> None:
        self.max_failures = max_failures
        self.overrun_factor = overrun_factor
        self.report_after = report_after
        self.rate = rate
        self.stall_factor = stall_factor
        self.stall = stall
        self.records: dict[str, Record] = {}
        self.disabled: dict[str, str] = {}
        self.overruns: dict[str, Overruns] = {}

    def _record(self, name: str) -> Record:
        record = self.records.get(name)
        if record is None:
            record = self.records[name] = Record(recent=deque(maxlen=self.rate[1]),
                                                 stalls=deque(maxlen=self.stall[1]))
        return record

    def ok(self, name: str) -> None:
        """``name`` ran without failing: its in-a-row count starts again."""
        record = self._record(name)
        record.in_a_row = 0
        record.recent.append(False)

    def failed(self, name: str, stage: str, frame: Frame | float, exc: BaseException | str) -> None:
        """``name`` failed in ``stage`` on ``frame`` (or on the audio at that media time in seconds;
        raised ``exc``, or broke the frame as ``exc`` says): log it (the first time with the traceback)
        and disable the plugin when the policy says so."""
        record = self._record(name)
        record.in_a_row += 1
        record.total += 1
        record.recent.append(True)
        what = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        first = record.total == 1
        if first:
            record.first = what
        where = f"audio at {frame:.3f} s" if isinstance(frame, float) else f"frame {frame.index} (t={frame.time:.3f} s)"
        log.error("plugin %s failed in %s on %s: %s%s", name, stage, where, what,
                  " (its first failure; the traceback follows)" if first and not isinstance(exc, str) else "",
                  exc_info=exc if first and isinstance(exc, BaseException) else None)
        if name in self.disabled:
            return
        if record.in_a_row >= self.max_failures:
            self._disable(name, f"{record.in_a_row} consecutive failures, last: {what}")
        elif sum(record.recent) >= self.rate[0]:
            self._disable(name, f"failed on {sum(record.recent)} of its last {len(record.recent)} calls, last: {what}")

    def _disable(self, name: str, why: str) -> None:
        self.disabled[name] = why
        log.error("plugin %s disabled for the rest of the run: %s", name, why)

    def overrun(self, name: str, ms: float, budget_ms: float, frame_ms: float = 0.0) -> None:
        """Record that ``name`` took ``ms`` where ``budget_ms`` was expected (``frame_ms``: the frame
        budget): counts overruns (over ``overrun_factor`` x ``budget_ms``) and stalls (over
        ``stall_factor`` x the longer of the two), and disables a plugin that stalls on ``stall[0]``
        of its last ``stall[1]`` calls."""
        record = self._record(name)
        limit_ms = self.stall_factor * max(budget_ms, frame_ms)
        stalled = ms > limit_ms
        record.stalls.append(stalled)
        if stalled and name not in self.disabled and sum(record.stalls) >= self.stall[0]:
            self._disable(name, f"far over its time: {sum(record.stalls)} of its last {len(record.stalls)} calls "
                                f"took more than {limit_ms:.0f} ms ({self.stall_factor:g}x its expected "
                                f"{max(budget_ms, frame_ms):.1f} ms; this one {ms:.0f} ms)")
        if ms <= self.overrun_factor * budget_ms:
            return
        slow = self.overruns.setdefault(name, Overruns(budget_ms=budget_ms))
        slow.count += 1
        slow.worst_ms = max(slow.worst_ms, ms)
        if slow.count == 1:
            log.warning("plugin %s took %.1f ms, %.0fx its expected %.1f ms (reported in the run summary "
                        "as slow_plugins if it keeps happening)", name, ms, ms / budget_ms, budget_ms)

    def slow_report(self) -> dict[str, dict[str, float]]:
        """Plugins that overran ``report_after`` times or more: count, worst ms, expected ms."""
        return {name: {"overruns": r.count, "worst_ms": round(r.worst_ms, 3), "expected_ms": round(r.budget_ms, 3)}
                for name, r in self.overruns.items() if r.count >= self.report_after}

    def failing_report(self) -> dict[str, dict[str, int | str]]:
        """Plugins that failed at least once and were not disabled: how often, and the first error."""
        return {name: {"failures": r.total, "first": r.first} for name, r in self.records.items()
                if r.total and name not in self.disabled}
