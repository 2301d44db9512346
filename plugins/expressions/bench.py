"""``edgefx bench`` figures of ``expressions``: per-frame time on a tracked real face, as a ratio to
the face-landmark model's own invoke time measured in the same loop."""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from typing import Any

from edgefx.bench import Benchmark, BenchSettings, opencv_threads, summarize_ms
from edgefx.frame import Frame, FrameContext


def bench_expressions(settings: BenchSettings) -> dict[str, Any]:
    """``expressions.analyze`` per frame on the faces bench's moving astronaut (faces run first,
    untimed), then the face-landmark model's invoke alone."""
    from edgefx.plugins.expressions.analyzer import ExpressionsAnalyzer
    from edgefx.testing import installed_analyzer, moving_face_frames

    count = 60 if settings.quick else 200
    frames = moving_face_frames(settings.width, settings.height, count)
    faces = installed_analyzer("faces", {"threads": settings.threads, "max_faces": 1})
    faces.start()
    assert faces.tracker is not None
    model = faces.tracker.landmarker.model
    expressions = ExpressionsAnalyzer({"calibration_s": 1.0})
    expressions.start()
    own, ref = [], []
    with opencv_threads(settings.threads):
        for i, image in enumerate(frames * 2):
            frame = Frame(image, i, Fraction(1, 30), i)
            ctx = FrameContext(frame)
            ctx.results["faces"] = faces.analyze(frame, ctx)
            t0 = time.perf_counter()
            expressions.analyze(frame, ctx)
            t1 = time.perf_counter()
            model.invoke()
            t2 = time.perf_counter()
            if i >= len(frames):  # first pass: warm-up and calibration
                own.append((t1 - t0) * 1000.0)
                ref.append((t2 - t1) * 1000.0)
    return {"size": f"{settings.width}x{settings.height}", "threads": settings.threads, "frames": len(own),
            "per_frame": summarize_ms(own), "face_landmark_invoke": summarize_ms(ref),
            "ratio_to_face_invoke": round(statistics.fmean(own) / statistics.fmean(ref), 3),
            "ratio_of_medians": round(statistics.median(own) / statistics.median(ref), 3),
            "target": "ratio_to_face_invoke (means, interleaved) <= 0.15, one thread"}


def expressions_benchmarks() -> list[Benchmark]:
    return [Benchmark("expressions", bench_expressions, "expressions analyzer per frame on one tracked face")]
