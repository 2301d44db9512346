"""Network outputs received by clients we did not write: Debian's ffmpeg as RTMP server and as
UDP MPEG-TS receiver decodes the frames, and the test checks the effect's pixels in them."""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.errors import SinkError
from edgefx.io.stream import StreamSink, output_protocols
from edgefx.registry import Registry
from edgefx.runtime.runner import RunResult, execute

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg")
W, H = 640, 360
FRAME_BYTES = W * H * 3


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def receive(url: str, out: Path, frames: int = 0, listen: bool = False) -> subprocess.Popen:
    """Debian's ffmpeg decoding ``url`` into raw BGR frames in ``out`` (``frames`` = 0: until killed)."""
    cmd = [FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-probesize", "200000", "-analyzeduration", "1000000"]
    cmd += ["-listen", "1"] if listen else []
    cmd += ["-i", url, *(["-frames:v", str(frames)] if frames else []), "-f", "rawvideo", "-pix_fmt", "bgr24", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def frames_in(path: Path) -> np.ndarray:
    data = np.fromfile(path, np.uint8) if path.exists() else np.zeros(0, np.uint8)
    return data[: len(data) // FRAME_BYTES * FRAME_BYTES].reshape(-1, H, W, 3)


def stats_box_visible(image: np.ndarray) -> bool:
    """The ``stats`` overlay at scale 1 darkens the top 78 rows (full width) to half and writes white
    text in it. testsrc2's cyan bar (right edge) is full brightness just below the box."""
    inside = np.median(image[45:75, 560:635].max(axis=2))
    below = np.median(image[95:130, 560:635].max(axis=2))
    text = int((image[:78].min(axis=2) > 200).sum())
    return bool(inside < 150 and below > 200 and text > 300)


def run_engine(output: str, seconds: float, audio: bool = True) -> tuple[threading.Thread, dict]:
    """``edgefx run`` in a thread: live testsrc2 (30 fps, 440 Hz tone) -> stats overlay -> ``output``."""
    url = f"testsrc:?live=1&size={W}x{H}&duration={seconds}" + ("&audio=1" if audio else "")
    settings = load_settings(None, {"input.url": url, "output.url": output, "run.effects": ["stats"]},
                             ["effects.stats.scale=1.0"])
    box: dict = {}

    def target() -> None:
        box["result"] = execute(settings, Registry(), on_open=lambda p: box.setdefault("pipeline", p))

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def finish(thread: threading.Thread, box: dict, timeout: float = 30) -> RunResult:
    thread.join(timeout)
    assert not thread.is_alive(), "the engine did not finish"
    return box["result"]


def test_udp_mpegts_decoded_by_ffmpeg_shows_the_effect(tmp_path: Path) -> None:
    port = free_port(socket.SOCK_DGRAM)
    out = tmp_path / "udp.bgr"
    # a large socket buffer: on a loaded machine the receiver may fall behind (UDP has no retransmit)
    receiver = receive(f"udp://127.0.0.1:{port}?timeout=20000000&buffer_size=8000000", out, frames=20)
    thread, box = run_engine(f"udp://127.0.0.1:{port}", seconds=4, audio=False)
    finish(thread, box)
    assert receiver.wait(10) == 0, receiver.stderr.read().decode()
    frames = frames_in(out)
    assert len(frames) == 20
    assert sum(stats_box_visible(f) for f in frames[-10:]) >= 8


def test_rtmp_flv_h264_aac_decoded_by_ffmpeg_shows_the_effect(tmp_path: Path) -> None:
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/key"
    recording = tmp_path / "rec.flv"
    server = subprocess.Popen([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-listen", "1", "-i", url,
                               "-c", "copy", "-t", "2.5", str(recording)], stderr=subprocess.PIPE)
    time.sleep(0.5)
    thread, box = run_engine(url, seconds=4)
    finish(thread, box)
    assert server.wait(10) == 0, server.stderr.read().decode()
    probe = json.loads(subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(recording)],
                                      capture_output=True, check=True).stdout)["streams"]
    codecs = {s["codec_type"]: s for s in probe}
    assert codecs["video"]["codec_name"] == "h264" and codecs["audio"]["codec_name"] == "aac"
    assert codecs["video"]["has_b_frames"] == 0  # zerolatency: no reordering delay
    decoded = tmp_path / "rec.bgr"
    subprocess.run([FFMPEG, "-loglevel", "error", "-i", str(recording), "-f", "rawvideo", "-pix_fmt", "bgr24",
                    str(decoded)], check=True)
    frames = frames_in(decoded)
    assert len(frames) >= 30
    assert all(stats_box_visible(f) for f in frames[::10])


def test_rtmp_server_killed_and_restarted_stream_resumes_queue_bounded(tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="edgefx.io.stream")
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/key"
    first, second = tmp_path / "first.bgr", tmp_path / "second.bgr"
    server = receive(url, first, listen=True)
    time.sleep(0.5)
    thread, box = run_engine(url, seconds=10)
    deadline = time.monotonic() + 10
    while len(frames_in(first)) < 15 and time.monotonic() < deadline:
        time.sleep(0.1)
    server.kill()  # the receiving server dies mid-stream
    server.wait()
    time.sleep(1.5)
    restarted = receive(url, second, frames=30, listen=True)
    assert restarted.wait(20) == 0, restarted.stderr.read().decode()
    result = finish(thread, box)
    sink = box["pipeline"].sink
    assert len(frames_in(first)) >= 15 and len(frames_in(second)) == 30
    assert stats_box_visible(frames_in(second)[-1])
    assert sink.reconnects >= 1
    assert sink.max_queued <= sink.queue_size and sink.dropped > 0
    assert result.summary["frames"] >= 0.8 * 30 * 10  # the loop went on at full rate while offline
    counted = result.summary["output_stats"]  # what --stats writes
    assert counted["reconnects"] == sink.reconnects and counted["dropped"] == sink.dropped
    assert counted["queue_peak"] <= counted["queue_size"]
    log = caplog.text
    assert "connection lost" in log and "reconnected (reconnect 1" in log and "dropped" in log


def test_a_server_that_accepts_and_never_answers_does_not_stall_the_loop(monkeypatch, caplog) -> None:
    """PyAV holds the GIL while it opens a connection (RTMP handshake): in a sender thread this froze
    the whole engine. The sender is a process, and a stuck one is killed and started again."""
    caplog.set_level(logging.INFO, logger="edgefx.io.stream")
    monkeypatch.setattr(StreamSink, "stall_seconds", 2.0)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel accepts connections; nobody ever answers the handshake
    try:
        thread, box = run_engine(f"rtmp://127.0.0.1:{silent.getsockname()[1]}/live/key", seconds=5, audio=False)
        result = finish(thread, box)
    finally:
        silent.close()
    sink = box["pipeline"].sink
    assert result.summary["frames"] >= 0.8 * 30 * 5  # the loop kept its rate
    assert sink.restarts >= 1 and sink.frames_written == 0 and sink.max_queued <= sink.queue_size
    assert "sender stuck for 2 s (the network does not answer): restarting the sender" in caplog.text


def test_srt_needs_a_build_with_libsrt_or_says_so(tmp_path: Path) -> None:
    settings = load_settings(None, {"input.url": "testsrc:?duration=0.2", "output.url": "srt://127.0.0.1:9"})
    if "srt" in (output_protocols() or {"srt"}):
        pytest.skip("this PyAV has srt: covered like udp")
    with pytest.raises(SinkError, match=r"cannot write srt://.*built without it") as info:
        execute(settings, Registry())
    assert "udp://" in info.value.hint


@pytest.mark.parametrize(("url", "message"), [("udp://127.0.0.1", "no port"), ("rtmp:///live/x", "no host")])
def test_bad_stream_urls_say_what_to_write(url: str, message: str) -> None:
    with pytest.raises(SinkError, match=message):
        StreamSink.open(url, None, None)


def test_a_run_whose_stream_never_connected_fails_and_says_so(capsys) -> None:
    """Nothing listens on the port: the loop goes on, and the run ends with exit code 3 and a message."""
    from edgefx.cli.main import main

    url = f"rtmp://127.0.0.1:{free_port()}/live/x"
    assert main(["run", "-i", "testsrc:?duration=0.5", "-o", url]) == 3
    out, err = capsys.readouterr()
    assert "output: 0 frames sent, " in out
    assert f"none of the 15 frames reached {url}: the stream never connected" in err


@pytest.mark.skipif(Path("/dev/video11").exists(), reason="this machine has a V4L2 memory-to-memory encoder")
def test_an_encoder_that_cannot_start_fails_the_stream_before_any_connection() -> None:
    """Retrying the connection would never help: the run stops at once and names the encoder."""
    settings = load_settings(None, {"input.url": "testsrc:?duration=0.2", "output.url": f"udp://127.0.0.1:{free_port()}",
                                    "output.codec": "h264_v4l2m2m"})
    with pytest.raises(SinkError, match="encoder h264_v4l2m2m could not start") as info:
        execute(settings, Registry())
    assert "output.codec=libx264" in info.value.hint


def edgefx_run(output: str, seconds: float) -> subprocess.Popen:
    """``edgefx run`` as a user starts it (its own process): live testsrc2 -> stats overlay -> ``output``."""
    return subprocess.Popen([sys.executable, "-m", "edgefx.cli", "run", "-i",
                             f"testsrc:?live=1&size={W}x{H}&duration={seconds}", "-o", output, "--effects", "stats",
                             "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_the_summary_counts_each_real_rtmp_reconnection(tmp_path: Path) -> None:
    """The receiver is killed and started again twice: the stream reconnects twice, and the summary says 2."""
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/key"
    received = [tmp_path / f"receiver{i}.bgr" for i in range(3)]
    server = receive(url, received[0], listen=True)
    time.sleep(0.5)
    run = edgefx_run(url, seconds=16)
    for i in (1, 2):
        deadline = time.monotonic() + 10
        while len(frames_in(received[i - 1])) < 10 and time.monotonic() < deadline:
            time.sleep(0.1)
        server.kill()
        server.wait()
        time.sleep(1.0)
        server = receive(url, received[i], listen=True)
    deadline = time.monotonic() + 10
    while len(frames_in(received[2])) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    out, _ = run.communicate(timeout=40)
    server.kill()
    server.wait()
    got = [len(frames_in(path)) for path in received]
    assert all(n >= 10 for n in got), (got, out)  # every receiver got the stream: 2 real reconnections
    summary = re.search(r"output: (\d+) frames sent, (\d+) dropped, (\d+) reconnects", out)
    assert summary is not None, out
    assert int(summary[3]) == len(received) - 1, out
    assert out.count("reconnected (reconnect") == 2


def test_a_udp_summary_does_not_claim_a_reconnect_count(tmp_path: Path) -> None:
    """UDP has no connection: a receiver that restarts gets the stream again without any reconnect,
    so the summary says that instead of "0 reconnects"."""
    port = free_port(socket.SOCK_DGRAM)
    url = f"udp://127.0.0.1:{port}"
    first, second = tmp_path / "first.bgr", tmp_path / "second.bgr"
    receiver = receive(f"{url}?timeout=20000000&buffer_size=8000000", first)
    run = edgefx_run(url, seconds=8)
    deadline = time.monotonic() + 10
    while len(frames_in(first)) < 10 and time.monotonic() < deadline:
        time.sleep(0.1)
    receiver.kill()
    receiver.wait()
    receiver = receive(f"{url}?timeout=20000000&buffer_size=8000000", second)
    out, _ = run.communicate(timeout=30)
    receiver.kill()
    receiver.wait()
    assert len(frames_in(first)) >= 10 and len(frames_in(second)) >= 10, out
    assert "reconnects" not in out.split("\n  output: ")[-1].splitlines()[0], out
    assert "udp has no connection: a receiver that restarts gets the stream again without a reconnect" in out
