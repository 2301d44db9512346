"""``edgefx bench`` figures of ``faces``: per-frame time while tracking one face at the bench size."""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from typing import Any

import numpy as np

from edgefx.bench import Benchmark, BenchSettings, opencv_threads, summarize_ms, time_ms
from edgefx.frame import Frame, FrameContext
from edgefx.testing import moving_face_frames


def bench_faces(settings: BenchSettings) -> dict[str, Any]:
    """Median ``analyze`` time per frame over a moving-face sequence (detector runs included), OpenCV
    and LiteRT on ``settings.threads`` threads, for the default detector mode ``auto`` and, frame by
    frame in turn (A/B in one run), for ``short`` (the default before ``auto``).

    Each frame is handed over freshly written, as the loop hands over a frame the source has just
    decoded and converted (not one that sat in memory since the clip was made). After each tracked
    frame the landmark model runs once more alone on that frame's crop, so the time around the model
    (``overhead_ms``: median of the per-frame differences) is measured under the same machine load
    as the frame itself.
    """
    from edgefx.plugins.faces.analyzer import FacesAnalyzer

    count = 60 if settings.quick else 200
    frames = moving_face_frames(settings.width, settings.height, count)
    analyzers = {mode: FacesAnalyzer({"threads": settings.threads, "max_faces": 1, "model": mode})
                 for mode in ("auto", "short")}
    times: dict[str, dict[str, list[float]]] = {mode: {"all": [], "tracking": [], "model": []} for mode in analyzers}
    for analyzer in analyzers.values():
        analyzer.start()
    with opencv_threads(settings.threads):
        for i, image in enumerate(frames * 2):
            for mode, analyzer in analyzers.items():
                tracker = analyzer.tracker
                assert tracker is not None
                frame = Frame(image.copy(), i, Fraction(1, 30), i)
                runs = tracker.detector_runs
                t0 = time.perf_counter()
                faces = analyzer.analyze(frame, FrameContext(frame))
                ms = (time.perf_counter() - t0) * 1000.0
                if i < len(frames):
                    continue  # first pass warms up caches and the tracker
                times[mode]["all"].append(ms)
                if tracker.detector_runs == runs and faces:
                    times[mode]["tracking"].append(ms)
                    times[mode]["model"].append(time_ms(tracker.landmarker.model.invoke, 1, warmup=0)[0])
    tracker = analyzers["auto"].tracker
    assert tracker is not None
    t_det = []
    for image in frames[:20]:
        t0 = time.perf_counter()
        tracker.detector.stages[0].detect(image)
        t_det.append((time.perf_counter() - t0) * 1000.0)
    auto, short = times["auto"], times["short"]
    return {
        "size": f"{settings.width}x{settings.height}", "threads": settings.threads, "frames": len(auto["all"]),
        "tracking": summarize_ms(auto["tracking"]), "all_frames": summarize_ms(auto["all"]),
        "detector_only": summarize_ms(t_det),
        "landmark_model_only": summarize_ms(auto["model"]),
        "overhead_ms": round(statistics.median(np.subtract(auto["tracking"], auto["model"])), 3),
        "detector_share": round(tracker.detector_runs / (2 * count), 3),
        "fallback_runs": tracker.fallback_runs,
        "tracking_short": summarize_ms(short["tracking"]),
        "tracking_auto_vs_short": round(statistics.median(auto["tracking"]) / statistics.median(short["tracking"]), 3),
        "target": "tracking median <= 3 ms at 1280x720, one thread, one face; auto <= 1.1x short while tracking",
    }


def faces_benchmarks() -> list[Benchmark]:
    return [Benchmark("faces", bench_faces, "faces analyzer per frame at 1280x720 tracking one moving face")]
