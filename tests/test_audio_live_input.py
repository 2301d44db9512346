"""A live audio input that stalls or stops never holds up or shortens what goes on air.

The microphone here is a real capture path without a microphone: FFmpeg's ``lavfi`` device
reading a named pipe of raw 16-bit samples (``lavfi:amovie=FIFO:f=s16le``, which FFmpeg reads at
44.1 kHz mono) that a thread feeds in real time with a tone, as a sound card delivers samples, and
that pauses (a stalled USB microphone) or closes (one that is unplugged) part-way. The video is
a file paced at its frame rate, as a camera would deliver it.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg")
RATE = 48000
"""The sample rate on air."""
MIC_RATE, CHUNK = 44100, 441
"""What the pipe carries (FFmpeg's raw s16le default), in 10 ms chunks."""
SECONDS = 5.0
"""Length of the video."""


def feed(fifo: Path, parts: list[tuple[str, float]]) -> threading.Thread:
    """A thread that writes ``parts`` to ``fifo`` in real time: ``("tone", s)`` writes s seconds of a
    440 Hz tone in 10 ms chunks, ``("pause", s)`` writes nothing for s seconds; then it closes."""

    def run() -> None:
        with open(fifo, "wb", buffering=0) as pipe:
            sent, started = 0, time.monotonic()
            for kind, seconds in parts:
                if kind == "pause":
                    time.sleep(seconds)
                    started += seconds
                    continue
                for _ in range(round(seconds * MIC_RATE / CHUNK)):
                    t = (sent + np.arange(CHUNK)) / MIC_RATE
                    pipe.write((0.5 * 32767 * np.sin(2 * math.pi * 440 * t)).astype("<i2").tobytes())
                    sent += CHUNK
                    time.sleep(max(0.0, started + sent / MIC_RATE - time.monotonic()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def sound(path: Path) -> tuple[float, float, np.ndarray]:
    """The audio track of ``path``: its start and end (s) and its samples (mono)."""
    chunks, start, end = [], None, 0.0
    with av.open(str(path)) as c:
        for frame in c.decode(audio=0):
            start = float(frame.pts * frame.time_base) if start is None else start
            end = float(frame.pts * frame.time_base) + frame.samples / frame.sample_rate
            chunks.append(frame.to_ndarray().reshape(len(frame.layout.channels), -1).mean(axis=0))
    return start or 0.0, end, np.concatenate(chunks)


def video_end(path: Path) -> float:
    with av.open(str(path)) as c:
        last = [float(f.pts * f.time_base) for f in c.decode(video=0)][-1]
    return last + 1 / 30


def loud_share(samples: np.ndarray, t0: float, t1: float) -> float:
    """Share of 20 ms windows between t0 and t1 (s) that carry the tone."""
    window = samples[int(t0 * RATE):int(t1 * RATE)]
    windows = window[: len(window) // 960 * 960].reshape(-1, 960)
    return float((np.abs(windows).max(axis=1) > 0.1).mean())


def on_air(tmp_path: Path, parts: list[tuple[str, float]]) -> tuple[Path, str]:
    video = tmp_path / "camera.mkv"
    subprocess.run([FFMPEG, "-hide_banner", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s=320x180:r=30:d={SECONDS}", "-c:v", "libx264", "-pix_fmt", "yuv420p", str(video)],
                   check=True, timeout=60)
    fifo = tmp_path / "mic.fifo"
    os.mkfifo(fifo)
    writer = feed(fifo, parts)
    out = tmp_path / "on-air.mkv"
    run = subprocess.run([sys.executable, "-m", "edgefx.cli", "run", "-i", str(video), "-o", str(out), "--realtime",
                          "--set", f"input.audio_url=lavfi:amovie={fifo}:f=s16le", "--no-progress"],
                         capture_output=True, text=True, timeout=60)
    writer.join(timeout=10)
    assert run.returncode == 0, run.stdout + run.stderr
    return out, run.stderr


def test_an_unplugged_microphone_leaves_silence_on_air_to_the_end(tmp_path: Path) -> None:
    out, log = on_air(tmp_path, [("tone", 2.0)])
    start, end, samples = sound(out)
    print(f"audio {start:.3f}-{end:.3f} s, video to {video_end(out):.3f} s")
    assert start < 0.05 and abs(end - video_end(out)) < 0.1, (start, end)  # a continuous track to the end
    assert loud_share(samples, 0.3, 1.5) > 0.9  # the tone while the microphone ran
    assert loud_share(samples, 2.8, SECONDS - 0.2) == 0.0  # silence after it was unplugged
    assert "stopped" in log and "silence goes on air" in log, log


def test_a_stalled_microphone_does_not_hold_up_the_picture_and_comes_back(tmp_path: Path) -> None:
    out, log = on_air(tmp_path, [("tone", 1.5), ("pause", 1.5), ("tone", 2.0)])
    start, end, samples = sound(out)
    print(f"audio {start:.3f}-{end:.3f} s, video to {video_end(out):.3f} s")
    assert abs(end - video_end(out)) < 0.1 and start < 0.05, (start, end)
    assert loud_share(samples, 0.3, 1.3) > 0.9
    assert loud_share(samples, 2.1, 2.9) == 0.0  # the stall: silence, not a pause in the picture
    assert loud_share(samples, 3.6, SECONDS - 0.2) > 0.9  # the sound is back, about when it came back
    assert "delivered nothing" in log and "is back after" in log, log
