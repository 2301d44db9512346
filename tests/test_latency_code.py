"""The latency bench's time code (``edgefx.bench.latency``) survives a real x264 encode and decode."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from edgefx.bench.latency import draw_code, read_code


def test_the_time_code_reads_back_after_x264_ultrafast() -> None:
    codes = [0, 1, 0xFFFFFFFF, 0x89ABCDEF, 1733318400 & 0xFFFFFFFF]
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt, ctx.time_base = 1280, 720, "yuv420p", Fraction(1, 30)
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "30"}
    ctx.open()
    packets = []
    rng = np.random.default_rng(1)
    for i, code in enumerate(codes):
        image = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)  # noise around the code: hard to compress
        draw_code(image, code)
        assert read_code(image) == code
        frame = av.VideoFrame.from_ndarray(image, format="bgr24")
        frame.pts = i
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    decoder = av.CodecContext.create("h264", "r")
    decoded = [f for p in packets for f in decoder.decode(p)] + list(decoder.decode(None))
    assert [read_code(f.to_ndarray(format="bgr24")) for f in decoded] == codes
    assert [read_code(f.to_ndarray(format="gray")) for f in decoded] == codes
