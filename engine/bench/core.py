"""The engine's own benchmark: passthrough speed and engine overhead against a bare PyAV loop.

Both loops read the same 1280x720 H.264 clip, convert each frame to one BGR array and
back, and encode with the same x264 settings into the same kind of file, in the same run,
alternating, so machine noise hits both alike. Overhead = engine time / bare time - 1.
"""

from __future__ import annotations

import statistics
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from edgefx.bench import Benchmark, BenchSettings
from edgefx.io.demo import DemoSource
from edgefx.io.sink import FileSink, SinkRequest
from edgefx.io.source import SourceRequest


def make_clip(settings: BenchSettings) -> Path:
    """The benchmark input: the demo scene encoded once to H.264 (cached in ``out_dir``)."""
    path = settings.out_dir / f"input_{settings.width}x{settings.height}_{settings.frames}.mp4"
    if path.exists():
        return path
    source = DemoSource(SourceRequest(settings.width, settings.height, 30.0), settings.frames / 30.0, False)
    sink = FileSink.open(str(path), source.info, SinkRequest())
    for frame in source:
        sink.write(frame)
    sink.close()
    return path


def bare_loop(clip: Path, out: Path) -> float:
    """Decode -> BGR array -> encode with PyAV alone; returns seconds."""
    request = SinkRequest()
    t0 = time.perf_counter()
    with av.open(str(clip)) as src, av.open(str(out), "w") as dst:
        vin = src.streams.video[0]
        vin.thread_type = "AUTO"
        vs = dst.add_stream("libx264", rate=vin.average_rate)
        vs.width, vs.height, vs.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        vs.time_base = vs.codec_context.time_base = vin.time_base
        vs.codec_context.gop_size = round(request.gop_seconds * float(vin.average_rate))
        vs.options = {"preset": request.preset, "tune": "zerolatency", "crf": str(request.crf)}
        for frame in src.decode(vin):
            image = frame.to_ndarray(format="bgr24")
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts, vf.time_base = frame.pts, frame.time_base or Fraction(1, 30)
            dst.mux(vs.encode(vf))
        dst.mux(vs.encode(None))
    return time.perf_counter() - t0


def engine_loop(clip: Path, out: Path) -> tuple[float, dict[str, Any]]:
    """The same job through ``edgefx run`` with no plugins; returns seconds and the run summary."""
    from edgefx.config import load_settings
    from edgefx.registry import load_registry
    from edgefx.runtime.runner import execute

    settings = load_settings(None, {"input.url": str(clip), "output.url": str(out)})
    registry = load_registry()
    t0 = time.perf_counter()
    result = execute(settings, registry)
    return time.perf_counter() - t0, result.summary


def bench_passthrough(settings: BenchSettings) -> dict[str, Any]:
    """Median of alternating runs of both loops; overhead in percent."""
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    clip = make_clip(settings)
    rounds = 1 if settings.quick else 3
    bare, engine = [], []
    summary: dict[str, Any] = {}
    for _ in range(rounds):
        bare.append(bare_loop(clip, settings.out_dir / "bare.mp4"))
        seconds, summary = engine_loop(clip, settings.out_dir / "engine.mp4")
        engine.append(seconds)
    b, e = statistics.median(bare), statistics.median(engine)
    n = settings.frames
    return {
        "size": f"{settings.width}x{settings.height}", "frames": n, "rounds": rounds,
        "bare_fps": round(n / b, 1), "engine_fps": round(n / e, 1),
        "bare_ms_per_frame": round(1000 * b / n, 2), "engine_ms_per_frame": round(1000 * e / n, 2),
        "engine_overhead_pct": round(100 * (e / b - 1), 1),
        "engine_sink_p50_ms": summary.get("stages_ms", {}).get("sink", {}).get("p50"),
        "target": "engine overhead <= 10% over the bare loop",
    }


def core_benchmarks() -> list[Benchmark]:
    """Benchmarks of the engine itself (plugins add theirs through ``edgefx_benchmarks``)."""
    return [Benchmark("passthrough", bench_passthrough,
                      "no plugins at 1280x720: engine vs bare PyAV decode -> array -> encode")]
