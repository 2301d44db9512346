"""The ``stats`` overlay: fps, frame time p50/p99, budget, what the scheduler degraded or
reused, and frames dropped, drawn in the top-left corner on top of everything.

The figures come from the running pipeline (handed over by ``edgefx_startup``) and from
the scheduler's notes on each frame. The text is recomputed every ``refresh`` frames; in
between only the cached lines are drawn, so the overlay costs a fraction of a millisecond.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx import hookimpl
from edgefx.contract import Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.options import Option
from edgefx.runtime.metrics import RateMeter, percentile

FONT = cv2.FONT_HERSHEY_SIMPLEX


def stats_lines(frame_ms: list[float], fps: float, notes: dict[str, Any], dropped: int) -> list[str]:
    """The overlay's text: one line each for speed, budget, degraded levels and reused results."""
    ordered = sorted(frame_ms)
    p50, p99 = (percentile(ordered, 0.5), percentile(ordered, 0.99)) if ordered else (0.0, 0.0)
    lines = [f"{fps:5.1f} fps  frame p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  dropped {dropped}"]
    budget = notes.get("budget_ms")
    lines.append(f"budget {budget:.1f} ms" if budget else "budget: none (full quality)")
    degraded = notes.get("degraded") or {}
    if degraded:
        lines.append("degraded: " + ", ".join(f"{k}={v}" for k, v in degraded.items()))
    reused = [*notes.get("reused", []), *(f"{n} (still)" for n in notes.get("unchanged", []))]
    if reused:
        lines.append("reused: " + ", ".join(reused))
    return lines


class StatsOverlay(Effect):
    """On-screen fps, frame time p50/p99, budget, degraded/reused plugins and dropped frames."""

    name = "stats"
    layer = Layer.OVERLAY
    options: ClassVar[dict[str, Option]] = {
        "refresh": Option(10, "recompute the text every N frames", min=1, max=300),
        "scale": Option(0.0, "text size (0 = from the frame height)", min=0.0, max=4.0),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.pipeline: Any = None
        self.lines: list[str] = []
        self.count = 0
        self.rate = RateMeter()

    def attach(self, pipeline: Any) -> None:
        """Read frame times and drops from this pipeline (called at startup)."""
        self.pipeline = pipeline

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        self.rate.tick()
        if self.count % self.settings["refresh"] == 0:
            self.lines = self._text(ctx)
        self.count += 1
        scale = self.settings["scale"] or frame.height / 1000.0
        thick = max(1, round(scale * 2))
        step = round(30 * scale) + 4
        width = min(frame.width, max(cv2.getTextSize(t, FONT, scale, thick)[0][0] for t in self.lines) + 16)
        box = frame.image[:step * len(self.lines) + 10, :width]
        np.right_shift(box, 1, out=box)  # darken the box in place so the text reads on any picture
        for i, text in enumerate(self.lines):
            cv2.putText(frame.image, text, (8, step * (i + 1)), FONT, scale, (255, 255, 255), thick, cv2.LINE_AA)

    def _text(self, ctx: FrameContext) -> list[str]:
        fps = self.rate.per_second()
        frame_ms: list[float] = []
        dropped = 0
        if self.pipeline is not None:
            frame_ms = self.pipeline.metrics.recent_totals(90)
            dropped = self.pipeline.source.dropped
        return stats_lines(frame_ms, fps, ctx.notes, dropped)


@hookimpl
def edgefx_effects():
    return [StatsOverlay]


@hookimpl
def edgefx_startup(pipeline):
    for effect in pipeline.effects.values():
        if isinstance(effect, StatsOverlay):
            effect.attach(pipeline)
