"""``edgefx bench --only latency``: how much delay the engine adds, read from the pictures.

A sender process encodes a 30 fps live stream (x264 ultrafast, zerolatency, MPEG-TS over UDP on
127.0.0.1) and draws the wall-clock time into each frame as a row of 32 black and white blocks
(``draw_code``) just before encoding it. Wherever a frame comes out, the blocks are read back
(``read_code``) and the frame's age is now minus the drawn time. Three paths, no effects:

- **direct**: sender -> FFmpeg (the system's ``ffmpeg``, low-delay flags) -> reader: the
  delay of encoding, the network and decoding without edgefx, the baseline of the UDP path;
- **bare**: sender -> a bare PyAV decode loop (slice threads, as edgefx decodes a live input):
  the baseline of the null path;
- **null**: sender -> ``edgefx run`` (UDP in, null out): the age when the loop hands the frame
  to the output; added = null - bare;
- **udp**: sender -> ``edgefx run`` -> UDP out (MPEG-TS, x264) -> FFmpeg -> reader;
  added = udp - direct.

It also runs the demo job (``-c demo -o null``, models cached) as its own process and reports
the time from the process start to the first frame out (``time_to_first_frame_s``).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from edgefx.bench import Benchmark, BenchSettings

BITS = 32
BLOCK_W, BLOCK_H = 32, 16
"""Each bit of the time code is a BLOCK_W x BLOCK_H block in the top-left row of the frame."""
FPS = 30


def now_code() -> int:
    """The wall clock in ms, modulo 2**32 (the same clock in every process on the machine)."""
    return int(time.time() * 1000) & 0xFFFFFFFF


def draw_code(image: np.ndarray, code: int) -> None:
    """Draw ``code`` (32 bits) into ``image``'s top row of blocks, white = 1, in place."""
    for bit in range(BITS):
        image[:BLOCK_H, bit * BLOCK_W:(bit + 1) * BLOCK_W] = 255 if code >> bit & 1 else 0


def read_code(image: np.ndarray) -> int:
    """The code ``draw_code`` drew (any channel count; survives lossy coding: block centres)."""
    row = image[BLOCK_H // 2]
    centres = row[BLOCK_W // 2::BLOCK_W][:BITS]
    values = centres if centres.ndim == 1 else centres[:, 0]
    return sum(1 << bit for bit, v in enumerate(values) if v > 127)


def age_ms(code: int) -> int:
    """How long ago (ms) the frame carrying ``code`` was drawn."""
    return (now_code() - code) & 0xFFFFFFFF


def send(url: str, seconds: float, width: int, height: int) -> None:
    """The sender process: a paced 30 fps H.264 MPEG-TS stream to ``url`` with time codes."""
    import av

    base = np.tile(np.linspace(40, 200, width, dtype=np.uint8)[None, :, None], (height, 1, 3))
    with av.open(url, "w", format="mpegts") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = FPS
        stream.options = {"preset": "ultrafast", "tune": "zerolatency", "bf": "0"}
        start = time.perf_counter()
        for index in range(round(seconds * FPS)):
            time.sleep(max(0.0, start + index / FPS - time.perf_counter()))
            image = base.copy()
            draw_code(image, now_code())
            frame = av.VideoFrame.from_ndarray(image, format="bgr24")
            frame.pts, frame.time_base = index, Fraction(1, FPS)
            out.mux(stream.encode(frame))


def start_sender(port: int, seconds: float, width: int, height: int) -> subprocess.Popen:
    code = (f"from edgefx.bench.latency import send; send('udp://127.0.0.1:{port}?pkt_size=1316', "
            f"{seconds}, {width}, {height})")
    return subprocess.Popen([sys.executable, "-c", code])


class Receiver:
    """The system's FFmpeg receiving MPEG-TS on ``port``; a thread reads the time-code strip of each
    frame and records its age (ms) in ``ages``."""

    def __init__(self, port: int, width: int) -> None:
        self.width = width
        self.ages: list[int] = []
        self.proc = subprocess.Popen(
            # a short probe: the default one reads 5 s of a live stream before the first frame
            ["ffmpeg", "-v", "error", "-flags", "low_delay", "-probesize", "100000", "-analyzeduration", "100000",
             "-i", f"udp://127.0.0.1:{port}?timeout=5000000", "-vf", f"crop={width}:{BLOCK_H}:0:0",
             "-f", "rawvideo", "-pix_fmt", "gray", "-flush_packets", "1", "-"],
            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        size = self.width * BLOCK_H
        assert self.proc.stdout is not None
        while len(data := self.proc.stdout.read(size)) == size:
            self.ages.append(age_ms(read_code(np.frombuffer(data, np.uint8).reshape(BLOCK_H, self.width))))

    def finish(self) -> list[int]:
        """Wait for FFmpeg to end (its input times out after the sender stops); the ages."""
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)
        return self.ages


def bare_decode(port: int, frames: int) -> list[int]:
    """A bare PyAV loop decoding the stream on ``port`` (slice threads): each frame's age."""
    import av

    ages: list[int] = []
    with av.open(f"udp://127.0.0.1:{port}?timeout=5000000", options={"probesize": "100000",
                                                                     "analyzeduration": "100000"}) as c:
        c.streams.video[0].thread_type = "SLICE"
        for frame in c.decode(video=0):
            ages.append(age_ms(read_code(frame.to_ndarray(format="gray"))))
            if len(ages) >= frames:
                break
    return ages


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def through_edgefx(port_in: int, output: str, frames: int) -> tuple[list[int], dict[str, Any]]:
    """``edgefx run`` from ``udp://127.0.0.1:port_in`` to ``output``, no effects, ``frames`` frames;
    the age of each frame as the loop hands it to the output, and the run summary."""
    from edgefx.config import load_settings
    from edgefx.registry import load_registry
    from edgefx.runtime.runner import execute

    ages: list[int] = []
    settings = load_settings(None, {"input.url": f"udp://127.0.0.1:{port_in}?timeout=5000000", "input.audio": False,
                                    "output.url": output})
    result = execute(settings, load_registry(), max_frames=frames,
                     on_frame=lambda frame, ctx: ages.append(age_ms(read_code(frame.image))))
    return ages, result.summary


def stats(ages: list[int], skip: int = FPS) -> dict[str, float]:
    """Median and p95 (ms) of the ages after the first ``skip`` frames (start-up)."""
    kept = sorted(ages[skip:]) or [0]
    return {"median_ms": float(statistics.median(kept)), "p95_ms": float(kept[round(0.95 * (len(kept) - 1))]),
            "frames": len(kept)}


def first_frame_seconds(out_dir: Path) -> dict[str, Any]:
    """The demo job to null in its own process: seconds from its start to the first frame out."""
    stats_file = Path(tempfile.mkdtemp(dir=out_dir)) / "stats.json"
    edgefx = Path(sys.executable).with_name("edgefx")
    subprocess.run([str(edgefx), "run", "-c", "demo", "-o", "null", "--set", "input.url=demo:?seconds=1",
                    "--stats", str(stats_file)], check=True, capture_output=True)
    summary = json.loads(stats_file.read_text())["summary"]
    return {"time_to_first_frame_s": summary["time_to_first_frame_s"],
            "job_open_to_first_frame_s": summary["start_to_first_frame_s"]}


def bench_latency(settings: BenchSettings) -> dict[str, Any]:
    """The three paths (see the module), then the time to the first frame."""
    seconds = 4.0 if settings.quick else 10.0
    width, height = settings.width, settings.height
    frames = round(seconds * FPS) - FPS  # the sender runs a little longer than edgefx reads
    figures: dict[str, Any] = {"fps": FPS, "size": f"{width}x{height}", "load_average": os.getloadavg()[0]}

    port = free_port()
    receiver = Receiver(port, width)
    time.sleep(0.5)
    start_sender(port, seconds, width, height).wait()
    direct = stats(receiver.finish())

    port = free_port()
    sender = start_sender(port, seconds + 2, width, height)
    bare = stats(bare_decode(port, frames))
    sender.wait()

    port = free_port()
    sender = start_sender(port, seconds + 2, width, height)
    null_ages, null_summary = through_edgefx(port, "null", frames)
    sender.wait()
    null = stats(null_ages)

    port_in, port_out = free_port(), free_port()
    receiver = Receiver(port_out, width)
    sender = start_sender(port_in, seconds + 2, width, height)
    _ages, udp_summary = through_edgefx(port_in, f"udp://127.0.0.1:{port_out}", frames)
    sender.wait()
    udp = stats(receiver.finish())

    processing = null_summary["frame_ms"].get("p50", 0.0)
    figures.update({
        "direct": direct, "bare": bare, "null": null, "udp": udp,
        "null_added_median_ms": null["median_ms"] - bare["median_ms"],
        "null_added_p95_ms": null["p95_ms"] - bare["p95_ms"],
        "null_bound_ms": round(1000 / FPS + processing, 2),
        "udp_added_median_ms": udp["median_ms"] - direct["median_ms"],
        "udp_added_p95_ms": udp["p95_ms"] - direct["p95_ms"],
        "udp_output": {k: udp_summary["output_stats"].get(k) for k in ("frames_written", "dropped", "queue_size",
                                                                       "handoff_dropped")},
        "udp_stages_p50_ms": {k: v["p50"] for k, v in udp_summary["stages"].items() if k != "slowest"},
        **first_frame_seconds(settings.out_dir),
        "target": "null_added_median_ms <= null_bound_ms (one frame + processing); udp_added_median_ms <= 100; "
                  "time_to_first_frame_s <= 0.5",
    })
    return figures


def latency_benchmarks() -> list[Benchmark]:
    """The latency benchmark (time codes in the pictures)."""
    return [Benchmark("latency", bench_latency,
                      "added latency read from time codes: UDP in -> null / UDP out vs FFmpeg direct; first frame")]
