"""``edgefx bench`` figures of ``face_mask``: render time per frame for one face at the bench size."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from edgefx.bench import Benchmark, BenchSettings, summarize_ms, time_ms
from edgefx.frame import Frame, FrameContext


def bench_face_mask(settings: BenchSettings) -> dict[str, Any]:
    """Median ``apply`` time of each mask (and with accessories) on one tracked face."""
    from edgefx.plugins.face_mask.assets import available
    from edgefx.plugins.face_mask.effect import FaceMask
    from edgefx.testing import installed_analyzer, moving_face_frames

    image = moving_face_frames(settings.width, settings.height, 1)[0]
    analyzer = installed_analyzer("faces", {"max_faces": 1})
    analyzer.start()
    frame = Frame(image.copy(), 0, Fraction(1, 30), 0)
    ctx = FrameContext(frame)
    for _ in range(3):
        ctx.results["faces"] = analyzer.analyze(frame, ctx)
    ctx.age["faces"] = 0
    repeat = 30 if settings.quick else 200
    figures: dict[str, Any] = {"size": f"{settings.width}x{settings.height}",
                               "face_bbox": [round(float(v)) for v in ctx.results["faces"][0].bbox]}
    cases = [(name, {"mask": name}, "full") for name in available("mask")]
    cases += [("tiger@coarse", {"mask": "tiger"}, "coarse"),
              ("tiger+glasses+hat", {"mask": "tiger", "accessories": ["glasses", "hat"]}, "full"),
              ("accessories_only", {"mask": "none", "accessories": ["glasses", "hat", "moustache"]}, "full")]
    for label, options, level in cases:
        effect = FaceMask(options)
        effect.start()
        effect.set_level(level)
        figures[label] = summarize_ms(time_ms(lambda e=effect: e.apply(frame, ctx), repeat))
    figures["target"] = "one mask on one face <= 3 ms median at 1280x720"
    return figures


def face_mask_benchmarks() -> list[Benchmark]:
    return [Benchmark("face_mask", bench_face_mask, "face_mask render per frame, one face at 1280x720")]
