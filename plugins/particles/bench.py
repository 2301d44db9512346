"""``edgefx bench`` figures of ``particles``: render time per frame at the bench size, per kind and level."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from edgefx.bench import Benchmark, BenchSettings, summarize_ms, time_ms
from edgefx.frame import Frame, FrameContext


def bench_particles(settings: BenchSettings) -> dict[str, Any]:
    """Median ``apply`` ms with the screen full of particles (after 3 s of spawning), each kind and level."""
    from edgefx.plugins.particles.effect import Particles

    image = np.full((settings.height, settings.width, 3), 90, np.uint8)
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}"}
    repeat = 30 if settings.quick else 200
    for kind in ("snow", "sparks", "confetti", "hearts"):
        for level in ("full", "quarter"):
            effect = Particles({"kind": kind, "always_on": True, "seed": 1, "rate": 400.0})
            effect.set_level(level)
            index = [0]

            def step(effect: Particles = effect, index: list[int] = index) -> None:
                frame = Frame(image.copy(), index[0], Fraction(1, 30), index[0])
                index[0] += 1
                effect.apply(frame, FrameContext(frame))

            for _ in range(90):
                step()
            figures[f"{kind}@{level}"] = {**summarize_ms(time_ms(step, repeat)), "particles": effect.count}
    figures["target"] = "max = 300 (snowflake-sized; fewer of bigger kinds) <= 3 ms median at 720p, image copy included"
    return figures


def particles_benchmarks() -> list[Benchmark]:
    return [Benchmark("particles", bench_particles, "particles render per frame at 1280x720")]
