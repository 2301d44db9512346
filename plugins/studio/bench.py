"""``edgefx bench`` figures of the studio effects: each effect's ``apply`` against the face-landmark
model's own ``invoke``, timed in turn on every frame of one run (so both share the machine's load).

The clip: scikit-image's astronaut, her face about 130 px high (a person a few metres away, so
``autoframe`` zooms in and resamples the whole picture on every frame) sliding over a grey canvas at
the bench size; the ``faces`` analyzer runs on each frame untimed, then each effect works on its own
fresh copy of the frame.
"""

from __future__ import annotations

import math
import statistics
import time
from fractions import Fraction
from typing import Any

import cv2
import numpy as np

from edgefx.bench import Benchmark, BenchSettings, opencv_threads, summarize_ms
from edgefx.frame import Frame, FrameContext
from edgefx.testing import FACE_CENTRE

LIMITS = {"autoframe": 0.5, "touchup": 1.0, "relight": 0.75}
"""Each effect's cost limit, as a ratio to the landmark model's invoke time."""


def studio_frames(width: int, height: int, count: int, face_px: float = 130.0) -> list[np.ndarray]:
    """``count`` BGR frames of the astronaut photo, her face about ``face_px`` high, drifting slowly."""
    from skimage import data

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    scale = face_px / 110.0  # the face is about 110 px high in the photo
    frames = []
    for i in range(count):
        phase = 2 * math.pi * i / max(1, count)
        m = cv2.getRotationMatrix2D(FACE_CENTRE, 0.0, scale)
        m[:, 2] += (width / 2 + 0.1 * width * math.sin(phase) - FACE_CENTRE[0],
                    height * 0.4 + 0.03 * height * math.cos(phase) - FACE_CENTRE[1])
        frames.append(cv2.warpAffine(photo, m, (width, height), borderValue=(90, 90, 90)))
    return frames


def bench_studio(settings: BenchSettings) -> dict[str, Any]:
    """Median ``apply`` time of ``autoframe``, ``touchup`` and ``relight`` per frame, each next to the
    landmark model's ``invoke`` timed right after it; the ratios of the medians are the figures."""
    from edgefx.plugins.studio.autoframe import AutoFrame
    from edgefx.plugins.studio.relight import Relight
    from edgefx.plugins.studio.touchup import TouchUp
    from edgefx.testing import installed_analyzer

    count = 60 if settings.quick else 200
    frames = studio_frames(settings.width, settings.height, count)
    analyzer = installed_analyzer("faces", {"threads": settings.threads, "max_faces": 1})
    analyzer.start()
    assert analyzer.tracker is not None
    model = analyzer.tracker.landmarker.model
    autoframe = AutoFrame()
    autoframe.attach({"faces": analyzer})
    effects = {"autoframe": autoframe, "touchup": TouchUp(), "relight": Relight()}
    times: dict[str, list[float]] = {name: [] for name in (*effects, "landmark_model")}
    zooms = []
    with opencv_threads(settings.threads):
        for i, image in enumerate(frames * 2):
            frame = Frame(image.copy(), i, Fraction(1, 30), i)
            ctx = FrameContext(frame)
            faces = analyzer.analyze(frame, ctx)
            for name, effect in effects.items():
                copy = Frame(image.copy(), i, Fraction(1, 30), i)
                one = FrameContext(copy, results={"faces": faces}, age={"faces": 0})
                t0 = time.perf_counter()
                effect.apply(copy, one)
                ms = (time.perf_counter() - t0) * 1000.0
                t0 = time.perf_counter()
                model.invoke()
                model_ms = (time.perf_counter() - t0) * 1000.0
                if i >= len(frames) and faces:  # the first pass warms up caches, tracker and framing
                    times[name].append(ms)
                    times["landmark_model"].append(model_ms)
                    if name == "autoframe" and one.view is not None:
                        zooms.append(settings.width / one.view.width)
    model_median = statistics.median(times["landmark_model"])
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}", "threads": settings.threads,
                               "autoframe_zoom": round(statistics.median(zooms), 2) if zooms else 1.0}
    for name in (*effects, "landmark_model"):
        figures[name] = summarize_ms(times[name])
    for name, limit in LIMITS.items():
        ratio = statistics.median(times[name]) / model_median
        figures[f"{name}_ratio"] = round(ratio, 3)
        figures[f"{name}_within"] = ratio <= limit
    figures["target"] = ", ".join(f"{name} <= {limit}x the landmark model's invoke" for name, limit in LIMITS.items())
    return figures


def studio_benchmarks() -> list[Benchmark]:
    return [Benchmark("studio", bench_studio, "autoframe, touchup, relight per frame vs the landmark model, 1280x720")]
