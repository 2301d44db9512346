"""Load-test plugins for the scheduler's tests and benchmarks: real image work with real,
level-dependent cost, so the budget scheduler can be exercised before (and alongside) the
built-in effects. Not registered as an entry point: ``edgefx.bench.scheduling.registry_with_loadtest``
adds them to a registry for the scheduler bench and tests only.

- analyzer ``loadtest_edges``: Canny edge density on a 16x9 grid; levels full / half / quarter
  (the resolution it works at); carry reuses the last grid.
- effect ``loadtest_glow``: bloom of the bright parts, drawn in place; levels full / half /
  quarter (the resolution of the blur); reads ``loadtest_edges`` to brighten busy cells.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx import hookimpl
from edgefx.contract import Analyzer, Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.options import Option

SCALES = {"full": 1.0, "half": 0.5, "quarter": 0.25}


def _scaled(image: np.ndarray, scale: float) -> np.ndarray:
    """``image`` (H, W, C) uint8 resized by ``scale`` (area filter); the array itself when scale is 1."""
    if scale == 1.0:
        return image
    return cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


class EdgeDensity(Analyzer):
    """Load test: fraction of Canny edge pixels per cell of a 16x9 grid (float32 (9, 16))."""

    name = "loadtest_edges"
    levels: ClassVar[tuple[str, ...]] = tuple(SCALES)
    options: ClassVar[dict[str, Option]] = {
        "passes": Option(2, "Canny passes per frame (more = costlier)", min=1, max=20),
    }

    def analyze(self, frame: Frame, ctx: FrameContext) -> np.ndarray:
        gray = cv2.cvtColor(_scaled(frame.image, SCALES[self.level]), cv2.COLOR_BGR2GRAY)
        edges = gray
        for i in range(self.settings["passes"]):
            edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.0 + i), 60, 140)
        return cv2.resize(edges, (16, 9), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


class Glow(Effect):
    """Load test: bloom of the bright parts of the picture, stronger where edges are dense."""

    name = "loadtest_glow"
    layer = Layer.FOREGROUND
    requires: ClassVar[tuple[str, ...]] = ("loadtest_edges",)
    levels: ClassVar[tuple[str, ...]] = tuple(SCALES)
    options: ClassVar[dict[str, Option]] = {
        "sigma": Option(12.0, "blur radius of the glow at full resolution (px)", min=1.0, max=100.0),
        "strength": Option(0.6, "how much glow is added", min=0.0, max=2.0),
    }

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        scale = SCALES[self.level]
        small = _scaled(frame.image, scale)
        bright = cv2.threshold(small, 170, 255, cv2.THRESH_TOZERO)[1]
        glow = cv2.GaussianBlur(bright, (0, 0), self.settings["sigma"] * scale)
        density: Any = ctx.get("loadtest_edges")
        gain = self.settings["strength"] * (1.0 + (float(density.mean()) if density is not None else 0.0))
        if scale != 1.0:
            glow = cv2.resize(glow, (frame.width, frame.height), interpolation=cv2.INTER_LINEAR)
        cv2.scaleAdd(glow, gain, frame.image, dst=frame.image)


@hookimpl
def edgefx_analyzers():
    return [EdgeDensity]


@hookimpl
def edgefx_effects():
    return [Glow]
