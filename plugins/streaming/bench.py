"""The ``stream_sink`` benchmark: what a network output costs the loop next to a file output."""

from __future__ import annotations

import socket
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from edgefx.bench import BenchSettings, summarize_ms
from edgefx.frame import Frame
from edgefx.io.demo import demo_canvas
from edgefx.io.info import StreamInfo
from edgefx.io.sink import FileSink, Sink, SinkRequest
from edgefx.io.stream import StreamSink


def bench_stream_sink(settings: BenchSettings) -> dict[str, Any]:
    """What a network output costs the loop (``write``: copy + enqueue) next to a file output that
    encodes inline, and how many frames the sender thread gets out when frames come at 30 fps."""
    w, h = settings.width, settings.height
    info = StreamInfo(w, h, Fraction(30), Fraction(1, 30), True)
    image = demo_canvas(w, h)
    count = 60 if settings.quick else min(settings.frames, 300)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nobody listens: UDP sends never fail, like a far receiver
    figures: dict[str, Any] = {"size": f"{w}x{h}", "frames": count}
    with tempfile.TemporaryDirectory() as tmp:
        sinks: dict[str, Sink] = {"stream_udp": StreamSink.open(f"udp://127.0.0.1:{port}", info, SinkRequest()),
                                  "file_mkv": FileSink.open(str(Path(tmp) / "b.mkv"), info, SinkRequest())}
        for label, sink in sinks.items():
            samples, start = [], time.perf_counter()
            for i in range(count):
                time.sleep(max(0.0, start + i / 30 - time.perf_counter()))
                t0 = time.perf_counter()
                sink.write(Frame(image, i, info.time_base, i))
                samples.append((time.perf_counter() - t0) * 1000.0)
            sink.close()
            figures[f"{label}_write"] = summarize_ms(samples)
        stream = sinks["stream_udp"]
        figures["stream_sent"], figures["stream_dropped"] = stream.frames_written, stream.dropped
    figures["target"] = "stream write median <= 2 ms at 1280x720 and nothing dropped at 30 fps"
    return figures

