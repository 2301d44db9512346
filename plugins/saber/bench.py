"""``edgefx bench`` figures of ``saber``: analyzer and render time per frame at the bench size on one
thread, and the analyzer's accuracy on the ground-truth sequences."""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from edgefx.bench import Benchmark, BenchSettings, opencv_threads, summarize_ms, time_ms
from edgefx.frame import Frame, FrameContext


def _frames(settings: BenchSettings, count: int) -> list[Frame]:
    """The swinging stick with a hand over the bikes clip, at the bench size."""
    from edgefx.plugins.saber.groundtruth import render_sequence

    seq = render_sequence("circle", count, size=(settings.width, settings.height), background="bikes", seed=21)
    return [Frame(t.image, i, Fraction(1, 30), i) for i, t in enumerate(seq)]


def bench_saber_analyzer(settings: BenchSettings) -> dict[str, Any]:
    """Median ``analyze`` time per frame while tracking, per level."""
    from edgefx.plugins.saber.analyzer import SaberAnalyzer
    from edgefx.plugins.saber.evaluate import calibrated_color

    frames = _frames(settings, 30 if settings.quick else 90)
    color = calibrated_color()
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}", "threads": settings.threads}
    with opencv_threads(settings.threads):
        for level in SaberAnalyzer.levels:
            analyzer = SaberAnalyzer({"color": color})
            analyzer.start()
            analyzer.set_level(level)
            samples, found = [], 0
            for _ in range(1 if settings.quick else 3):
                for frame in frames:
                    t0 = time.perf_counter()
                    analyzer.analyze(frame, FrameContext(frame))
                    samples.append((time.perf_counter() - t0) * 1000.0)
                    found += analyzer.tracker is not None and analyzer.tracker.filter is not None
            figures[level] = {**summarize_ms(samples), "tracked_frames": found}
    figures["target"] = "analyzer <= 3 ms median at 1280x720, one thread"
    return figures


def bench_saber_render(settings: BenchSettings) -> dict[str, Any]:
    """Median ``apply`` time of the lit blade (with the smear from the previous frame), per level."""
    from edgefx.plugins.saber.effect import SaberEffect
    from edgefx.results import Saber

    w, h = settings.width, settings.height
    image = _frames(settings, 1)[0].image
    repeat = 30 if settings.quick else 200
    figures: dict[str, Any] = {"size": f"{w}x{h}", "threads": settings.threads}
    with opencv_threads(settings.threads):
        frame = Frame(image, 0, Fraction(1, 30), 0)  # drawn over and over: the cost does not depend on it
        for level in SaberEffect.levels:
            effect = SaberEffect({"ignite_s": 0.0})
            effect.set_level(level)
            swing = iter(np.tile(np.radians(np.linspace(-40, 40, 16)), 1000))

            def render(e: SaberEffect = effect, angles: Iterator[float] = swing) -> None:
                a, base = next(angles), (0.5 * w, 0.85 * h)
                ctx = FrameContext(frame)
                ctx.results["saber"] = Saber(base, (base[0] + 0.5 * h * np.sin(a), base[1] - 0.5 * h * np.cos(a)), 1.0)
                ctx.age["saber"] = 0
                e.apply(frame, ctx)

            figures[level] = summarize_ms(time_ms(render, repeat))
    figures["target"] = "render <= 2 ms median at 1280x720, one thread"
    return figures


def bench_saber_accuracy(settings: BenchSettings) -> dict[str, Any]:
    """The ground-truth figures (``evaluate.figures``) at 640x360, and (not in quick runs) the wider
    set of scenes over every background with its untuned split (``evaluate.scene_figures``)."""
    from edgefx.plugins.saber.evaluate import figures, scene_figures

    return {**figures(frames=60 if settings.quick else 90, stress=not settings.quick),
            **({} if settings.quick else {"scenes": scene_figures()}),
            "target": "pooled median <= 0.02, p95 <= 0.05 of the diagonal; recovery <= 5 frames; "
                      "false reports <= 0.01"}


def saber_benchmarks() -> list[Benchmark]:
    return [Benchmark("saber_analyzer", bench_saber_analyzer, "saber analyzer per frame, tracking, 1280x720"),
            Benchmark("saber_render", bench_saber_render, "lightsaber blade render per frame (glow, smear), 1280x720"),
            Benchmark("saber_accuracy", bench_saber_accuracy, "saber endpoint error, recovery, false reports")]
