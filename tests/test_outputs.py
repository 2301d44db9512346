"""Recording and streaming at once (``-o rec.mkv -o rtmp://...``), received by Debian's ffmpeg:
both outputs decode, one encoder feeds both (the same packets), and a receiver killed for 5 s
costs the recording no frame."""

from __future__ import annotations

import hashlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from edgefx.config import load_settings
from edgefx.errors import ConfigError, SinkError
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

FFMPEG = shutil.which("ffmpeg")
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rtmp_server(url: str, out: Path) -> subprocess.Popen:
    """Debian's ffmpeg as the RTMP server, keeping what it receives (copied, not re-encoded)."""
    return subprocess.Popen([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-listen", "1", "-i", url,
                             "-c", "copy", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def video_packets(path: Path) -> list[str]:
    """A digest of each video packet in ``path``."""
    with av.open(str(path)) as c:
        return [hashlib.md5(bytes(p)).hexdigest() for p in c.demux(c.streams.video[0]) if p.size]


def decode(path: Path) -> tuple[int, int, str]:
    """Video and audio frames Debian's ffmpeg decodes from ``path``, and what it complained of."""
    run = subprocess.run([FFMPEG, "-hide_banner", "-v", "error", "-i", str(path), "-f", "null", "-"],
                         capture_output=True, text=True, timeout=60)
    with av.open(str(path)) as c:
        video = sum(1 for _ in c.decode(video=0))
    with av.open(str(path)) as c:
        audio = sum(1 for _ in c.decode(audio=0)) if c.streams.audio else 0
    return video, audio, run.stderr


def wait_for_growth(path: Path, size: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while (not path.exists() or path.stat().st_size < size) and time.monotonic() < deadline:
        time.sleep(0.1)


def test_record_and_stream_at_once_a_killed_receiver_costs_the_recording_no_frame(tmp_path: Path) -> None:
    url = f"rtmp://127.0.0.1:{free_port()}/live/key"
    rec, first, second = tmp_path / "rec.mkv", tmp_path / "received1.mkv", tmp_path / "received2.mkv"
    server = rtmp_server(url, first)
    time.sleep(0.5)
    run = subprocess.Popen([sys.executable, "-m", "edgefx.cli", "run", "-i",
                            "testsrc:?live=1&size=640x360&duration=14&audio=1", "-o", str(rec), "-o", url,
                            "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wait_for_growth(first, 100_000)
    server.send_signal(signal.SIGKILL)  # the receiver dies mid-stream ...
    server.wait()
    time.sleep(5.0)  # ... for 5 s
    server = rtmp_server(url, second)
    out, _ = run.communicate(timeout=60)
    server.wait(timeout=20)  # the stream ended: the receiver finishes its file
    assert run.returncode == 0, out

    # frames produced: what the encoder got. A live input on a busy machine may skip a few before
    # that (at the input, or newest-wins at the output thread), never because of the stream.
    produced = int(re.search(r"encoded once for 2 outputs: (\d+) frames", out)[1])
    assert produced > 300 and f"420 read, {produced} written" in out, out
    rec_video, rec_audio, complaints = decode(rec)
    assert rec_video == produced and rec_audio > 0 and complaints == "", (rec_video, produced, complaints)
    sent = re.search(r"-> rtmp://\S+: (\d+) frames sent, (\d+) dropped, (\d+) reconnects; ([\d.]+) CPU s", out)
    assert sent is not None and int(sent[3]) == 1, out  # the receiver came back: one reconnection
    assert int(sent[1]) + int(sent[2]) == produced, out  # every frame sent or counted as dropped
    assert re.search(r"-> \S+rec\.mkv: \d+ frames written; [\d.]+ CPU s", out), out

    got, got_audio, complaints = decode(second)
    assert got > 60 and got_audio > 0 and complaints == "", (got, complaints)
    recorded = set(video_packets(rec))
    for received in (first, second):  # encoded once: what went on air is the recording's packets
        packets = video_packets(received)
        assert packets and set(packets) <= recorded, received.name
    assert len(video_packets(first)) + len(video_packets(second)) < produced  # the gap: 5 s not on air


@pytest.mark.parametrize(("outputs", "message"), [
    (["rec.mkv", "preview"], "cannot be combined with other outputs"),
    (["rec.mkv", "rtmp:///live/key"], "has no host"),
    (["rec.mkv", "rec.avi"], "unsupported output type .avi"),
    (["rtmp://127.0.0.1/live/a", "rtmp://127.0.0.1/live/a"], "is given twice"),
])
def test_outputs_that_cannot_share_an_encoder_are_refused_before_anything_opens(
        tmp_path: Path, outputs: list[str], message: str) -> None:
    paths = [str(tmp_path / o) if not o.startswith(("rtmp", "preview")) else o for o in outputs]
    settings = load_settings(None, {"input.url": "testsrc:?duration=1", "output.url": paths[0],
                                    "output.also": paths[1:]})
    with pytest.raises((ConfigError, SinkError), match=re.escape(message)) as caught:
        execute(settings, Registry())
    assert caught.value.hint
    assert not list(tmp_path.iterdir())  # nothing was written
