"""Deciding, per frame, which analyzers run fresh and which carry their last result forward.

The loop asks the scheduler once per frame (``plan``) and tells it what each plugin
cost (``observe``). ``RunEverything`` is the policy when no budget is set: every
analyzer runs fresh on every frame at its best level.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from edgefx.frame import FrameContext
from edgefx.plugin import Analyzer, Effect


@dataclass(slots=True)
class Plan:
    """This frame's decisions: which analyzers run fresh (the rest carry forward)."""

    fresh: set[str]
    notes: dict[str, object] = field(default_factory=dict)


class Scheduler(Protocol):
    """What the loop needs from a scheduler."""

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        """Decide for the frame in ``ctx``; may also set analyzer levels and effect options."""
        ...

    def observe(self, name: str, ms: float, fresh: bool) -> None:
        """Record that plugin ``name`` took ``ms`` on this frame (``fresh``: ran its model)."""
        ...

    def frame_done(self, total_ms: float) -> None:
        """Record the whole frame's time."""
        ...


class RunEverything:
    """No budget: every analyzer fresh, every frame."""

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        return Plan(set(analyzers))

    def observe(self, name: str, ms: float, fresh: bool) -> None:
        pass

    def frame_done(self, total_ms: float) -> None:
        pass
