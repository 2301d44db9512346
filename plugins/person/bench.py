"""``edgefx bench`` figures of ``person``: analyzer time, temporal stability on a still scene and
ghosting behind a moving person, on the real astronaut photo.

The scenes are built from the photo so the truth is known: ``still_frames`` repeats it with sensor
noise (any change of the mask is flicker); ``moving_frames`` slides the astronaut, cut out with the
model's own still mask, in front of a real brick wall at a known speed (the true mask is that
mask, shifted).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import cv2
import numpy as np

from edgefx.bench import Benchmark, BenchSettings, summarize_ms, time_ms
from edgefx.frame import Frame, FrameContext
from edgefx.plugins.person.analyzer import PersonAnalyzer
from edgefx.plugins.person.mask import TemporalSmoother

NOISE_SIGMA = 3.0
"""Sensor noise of the still scene, in 8-bit grey levels (a decent webcam in good light)."""


def still_frames(size: tuple[int, int], count: int, seed: int = 0) -> list[np.ndarray]:
    """The astronaut photo covering ``size=(width, height)``, ``count`` times with fresh Gaussian noise."""
    from edgefx.testing import photo
    base = photo("astronaut", size).astype(np.float32)
    rng = np.random.default_rng(seed)
    return [np.clip(base + rng.normal(0.0, NOISE_SIGMA, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def cutout_mask() -> np.ndarray:
    """The astronaut's person mask (uint8, 255 = person): the model alone (no smoothing) on the still
    photo, which the tests check against an eye-verified fixture (IoU >= 0.9)."""
    from edgefx.testing import photo
    image = photo("astronaut")
    analyzer = _analyzer(0.0)
    frame = Frame(image, 0, Fraction(1, 30), 0)
    mask = analyzer.analyze(frame, FrameContext(frame)).full(frame.height, frame.width)
    return np.where(mask >= 128, 255, 0).astype(np.uint8)


def moving_frames(size: tuple[int, int], count: int, speed: float) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The astronaut (cut out with ``cutout_mask``, scaled to the frame height) sliding right by
    ``speed`` px per frame in front of scikit-image's brick wall; returns (frames, true masks)."""
    from edgefx.testing import photo
    height = size[1]
    person = photo("astronaut")
    mask = cutout_mask()
    scale = height / person.shape[0]
    person = cv2.resize(person, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    mask = cv2.resize(mask, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    from skimage import data
    backdrop = cv2.cvtColor(cv2.resize(data.brick(), size, interpolation=cv2.INTER_LINEAR), cv2.COLOR_GRAY2BGR)
    frames, truths = [], []
    for i in range(count):
        m = np.float32([[1, 0, speed * i], [0, 1, 0]])
        layer = cv2.warpAffine(person, m, size)
        alpha = cv2.warpAffine(mask, m, size)
        a = alpha.astype(np.float32)[:, :, None] / 255.0
        frames.append((layer * a + backdrop * (1.0 - a)).astype(np.uint8))
        truths.append(alpha)
    return frames, truths


def masks(analyzer: PersonAnalyzer, frames: list[np.ndarray]) -> list[np.ndarray]:
    """The analyzer's mask of each frame in turn, at frame size."""
    out = []
    for i, image in enumerate(frames):
        frame = Frame(image, i, Fraction(1, 30), i)
        out.append(analyzer.analyze(frame, FrameContext(frame)).full(frame.height, frame.width))
    return out


def mean_change(series: list[np.ndarray], skip: int = 3) -> float:
    """Mean absolute change of the mask between consecutive frames (8-bit levels), after ``skip`` frames."""
    return float(np.mean([cv2.absdiff(a, b).mean() for a, b in zip(series[skip:], series[skip + 1:], strict=False)]))


def lag_px(series: list[np.ndarray], truths: list[np.ndarray], skip: int = 5) -> tuple[float, float]:
    """How far the mask lags a person moving right, in pixels per image row the person spans,
    averaged over frames after ``skip``: (trail, gap). Trail: mask pixels (>= 128) left of the true
    person's leftmost pixel (a ghost left behind). Gap: true person pixels right of the mask's
    rightmost pixel in that row (the leading edge not yet reached)."""
    trails, gaps = [], []
    columns = np.arange(truths[0].shape[1])[None, :]
    for mask, truth in zip(series[skip:], truths[skip:], strict=True):
        rows = np.flatnonzero((truth >= 128).any(axis=1))
        person, found = truth[rows] >= 128, mask[rows] >= 128
        left = np.argmax(person, axis=1)
        right = np.where(found.any(axis=1), found.shape[1] - 1 - np.argmax(found[:, ::-1], axis=1), -1)
        trails.append(np.count_nonzero(found & (columns < left[:, None])) / len(rows))
        gaps.append(np.count_nonzero(person & (columns > right[:, None])) / len(rows))
    return float(np.mean(trails)), float(np.mean(gaps))


def bench_person(settings: BenchSettings) -> dict[str, Any]:
    """Analyzer time per level at the bench size; stability and ghosting with and without smoothing."""
    size = (settings.width, settings.height)
    repeat = 30 if settings.quick else 200
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}", "threads": settings.threads}
    image = still_frames(size, 1)[0]
    for level in PersonAnalyzer.levels:
        analyzer = PersonAnalyzer({"threads": settings.threads})
        analyzer.start()
        analyzer.set_level(level)
        frame = Frame(image, 0, Fraction(1, 30), 0)
        figures[f"analyze@{level}"] = summarize_ms(time_ms(lambda a=analyzer, f=frame: a.analyze(f, FrameContext(f)),
                                                           repeat))
    still = still_frames(size, 20 if settings.quick else 40)
    change = {"raw": mean_change(masks(_analyzer(0.0), still)), "smoothed": mean_change(masks(_analyzer(None), still))}
    figures["still_mean_abs_change"] = {k: round(v, 4) for k, v in change.items()}
    figures["still_change_ratio"] = round(change["raw"] / max(change["smoothed"], 1e-9), 2)
    for speed in (4.0, 12.0, 24.0):
        frames, truths = moving_frames(size, 24, speed=speed)
        for name, analyzer in (("raw", _analyzer(0.0)), ("smoothed", _analyzer(None)),
                               ("plain_ema", _analyzer(None, adaptive=False))):
            trail, gap = lag_px(masks(analyzer, frames), truths)
            figures[f"moving_{speed:g}px_per_frame_{name}"] = {"trail_px": round(trail, 2), "gap_px": round(gap, 2)}
    figures["target"] = ("analyze + background blur <= 6 ms median at 1280x720 (see background bench); "
                         "still change >= 3x lower smoothed; moving: smoothed trail and gap within 1 px of raw "
                         "(plain_ema: the same smoothing without adaptation, for contrast)")
    return figures


def _analyzer(strength: float | None, adaptive: bool = True) -> PersonAnalyzer:
    """A started analyzer; ``strength`` None keeps the default smoothing. ``adaptive=False`` makes
    the smoothing a plain EMA (for comparison: what ghosting looks like)."""
    analyzer = PersonAnalyzer({} if strength is None else {"smoothing": strength})
    analyzer.start()
    if not adaptive:
        analyzer.smoother = TemporalSmoother(analyzer.settings["smoothing"], change=(2.0, 3.0), motion=(2.0, 3.0))
    return analyzer


def person_benchmarks() -> list[Benchmark]:
    return [Benchmark("person", bench_person, "person analyzer time per level, mask stability and ghosting")]
