"""``edgefx bench`` figures of ``hands``: per-frame time while tracking a hand and while no hand is
in view, as ratios to the face-landmark model's own invoke time measured in the same loop."""

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

HAND_PHOTO = "/usr/share/doc/opencv-doc/opencv4/html/Histogram_Comparison_Source_0.jpg"
"""A real open hand (Debian's opencv-doc)."""


def moving_hand_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    """``count`` BGR frames of a real open hand (about 40% of the frame height) sliding and turning."""
    photo = cv2.imread(HAND_PHOTO)
    if photo is None:
        raise FileNotFoundError(f"{HAND_PHOTO} is missing: apt-get install opencv-doc")
    h, w = photo.shape[:2]
    scale = 0.4 * height / h * 2.0
    frames = []
    for i in range(count):
        phase = 2 * math.pi * i / max(1, count)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), 15 * math.sin(phase), scale)
        m[:, 2] += (width / 2 + 0.2 * width * math.sin(phase) - w / 2, height / 2 - h / 2)
        frames.append(cv2.warpAffine(photo, m, (width, height), borderValue=(90, 90, 90)))
    return frames


def interleaved_ms(analyze, frames: list[np.ndarray], reference) -> tuple[list[float], list[float], list[float]]:
    """Per frame: ``analyze(frame)`` wall ms and CPU ms of this thread, then ``reference()`` wall ms
    right after (same machine state). Each frame is handed over freshly copied, as the loop hands
    over a just-decoded frame."""
    own, cpu, ref = [], [], []
    for i, image in enumerate(frames):
        frame = Frame(image.copy(), i, Fraction(1, 30), i)
        t0, c0 = time.perf_counter(), time.thread_time()
        analyze(frame)
        t1, c1 = time.perf_counter(), time.thread_time()
        reference()
        t2 = time.perf_counter()
        own.append((t1 - t0) * 1000.0)
        cpu.append((c1 - c0) * 1000.0)
        ref.append((t2 - t1) * 1000.0)
    return own, cpu, ref


class WorkerCpu:
    """Wraps the palm detector's ``infer`` (run on the tracker's worker thread) to add up its CPU ms."""

    def __init__(self, infer) -> None:
        self.infer, self.ms = infer, 0.0

    def __call__(self, placement):
        c0 = time.thread_time()
        try:
            return self.infer(placement)
        finally:
            self.ms += (time.thread_time() - c0) * 1000.0


def bench_hands(settings: BenchSettings) -> dict[str, Any]:
    """Hands analyzer per frame while tracking one real hand, and over frames with no hand in view
    (the scikit-image astronaut moving, as in the faces bench: the detector runs every
    ``search_interval`` frames), each against the face-landmark model's invoke right after each
    frame. Means, not medians: the detector and landmark runs come every few frames. The palm search
    runs on the tracker's worker thread; its CPU time is added to ``cpu_ratio_to_face_invoke``."""
    from edgefx.plugins.hands.analyzer import HandsAnalyzer
    from edgefx.testing import installed_analyzer, moving_face_frames

    count = 60 if settings.quick else 200
    faces = installed_analyzer("faces", {"threads": settings.threads})
    faces.start()
    face_model = faces.tracker.landmarker.model  # the reference: the face-landmark model's invoke
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}", "threads": settings.threads}
    hand = moving_hand_frames(settings.width, settings.height, count)
    scenes = {"tracking": (hand, {}), "no_hand": (moving_face_frames(settings.width, settings.height, count), {}),
              "tracking_every_frame": (hand, {"landmark_interval": 1})}
    with opencv_threads(settings.threads):
        for scene, (frames, extra) in scenes.items():
            analyzer = HandsAnalyzer({"threads": settings.threads, "max_hands": 2, **extra})
            analyzer.start()
            tracker = analyzer.tracker
            assert tracker is not None
            found = []

            def run(frame: Frame, analyzer=analyzer, found=found) -> None:
                found.append(len(analyzer.analyze(frame, FrameContext(frame))))

            interleaved_ms(run, frames[: count // 4], face_model.invoke)  # warm-up
            runs = tracker.detector_runs
            found.clear()
            worker = WorkerCpu(tracker.detector.infer)
            tracker.detector.infer = worker
            own, cpu, ref = interleaved_ms(run, frames, face_model.invoke)
            analyzer.close()  # waits for a search under way, so its CPU is counted
            cpu_mean = (sum(cpu) + worker.ms) / len(frames)
            figures[scene] = {
                "per_frame": summarize_ms(own), "mean_ms": round(statistics.fmean(own), 3),
                "cpu_mean_ms": round(cpu_mean, 3),
                "face_landmark_invoke": summarize_ms(ref),
                "ratio_to_face_invoke": round(statistics.fmean(own) / statistics.fmean(ref), 3),
                "cpu_ratio_to_face_invoke": round(cpu_mean / statistics.fmean(ref), 3),
                "detector_share": round((tracker.detector_runs - runs) / len(frames), 3),
                "frames_with_a_hand": round(sum(1 for n in found if n) / len(found), 3),
            }
    figures["target"] = ("ratio_to_face_invoke (mean per frame on the calling thread / mean face-landmark invoke, "
                         "interleaved) and cpu_ratio_to_face_invoke (CPU of both threads, the palm worker's "
                         "included): <= 2.0 tracking, <= 0.25 no_hand; 1280x720, one LiteRT thread; "
                         "tracking_every_frame is for information")
    return figures


def hands_benchmarks() -> list[Benchmark]:
    return [Benchmark("hands", bench_hands, "hands analyzer per frame at 1280x720: tracking a hand, no hand in view")]
