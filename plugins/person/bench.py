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


def trail_width(series: list[np.ndarray], truths: list[np.ndarray], skip: int = 5) -> float:
    """Ghost behind a person moving right: per image row, mask pixels set (>= 128) left of the true
    person's leftmost pixel, averaged over the rows and frames (after ``skip``): the width in pixels
    of the trail left behind."""
    widths = []
    for mask, truth in zip(series[skip:], truths[skip:], strict=True):
        rows = np.flatnonzero((truth >= 128).any(axis=1))
        left = np.argmax(truth[rows] >= 128, axis=1)
        behind = np.arange(truth.shape[1])[None, :] < left[:, None]
        widths.append(np.count_nonzero((mask[rows] >= 128) & behind) / max(1, len(rows)))
    return float(np.mean(widths))


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
    frames, truths = moving_frames(size, 20 if settings.quick else 40, speed=12.0)
    trails = {"raw": trail_width(masks(_analyzer(0.0), frames), truths),
              "smoothed": trail_width(masks(_analyzer(None), frames), truths),
              "plain_ema": trail_width(masks(_analyzer(None, adaptive=False), frames), truths)}
    figures["moving_12px_per_frame_trail_px"] = {k: round(v, 2) for k, v in trails.items()}
    figures["target"] = ("analyze + background blur <= 6 ms median at 1280x720 (see background bench); "
                         "still change >= 3x lower smoothed; smoothed trail no wider than raw + 1 px")
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
