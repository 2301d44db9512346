"""Issue 25, data lost: recordings killed or starved of disk space, outputs aimed at the input,
shuffled timestamps and file inputs sent to the network. Each test reproduces what a user did
and asserts that nothing is lost. Real encoders and Debian's ffmpeg as the other side; nothing
here measures the machine's speed."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from importlib.metadata import entry_points
from pathlib import Path

import av
import av.error
import numpy as np
import pytest

from edgefx import Effect, Frame, FrameContext, Layer
from edgefx.cli.main import main
from edgefx.config import load_settings
from edgefx.errors import SinkError, SourceError
from edgefx.io.inputs import URLSource
from edgefx.io.pacing import wants_pacing
from edgefx.io.sink import NullSink
from edgefx.io.source import SourceRequest
from edgefx.io.stream import StreamSink
from edgefx.registry import Registry, load_registry
from edgefx.runtime.pipeline import Pipeline
from edgefx.runtime.runner import execute

FFMPEG = shutil.which("ffmpeg")
needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg")
FPS = 30
KILLS = 20
SMALL = "testsrc:?size=160x120&rate=30&duration=60"


def decodable(path: Path) -> int:
    """Video frames a player gets out of ``path`` (what is cut off or broken is skipped)."""
    count = 0
    with contextlib.suppress(av.error.FFmpegError, OSError), av.open(str(path)) as c:
        stream = c.streams.video[0]
        for packet in c.demux(stream):
            with contextlib.suppress(av.error.FFmpegError):
                count += len(packet.decode())
    return count


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- 1. a recording killed at random moments ---------------------------------------------------------

def record(output: str, conn) -> None:
    """Child process: record the test pattern to ``output``, reporting each frame the sink took."""
    settings = load_settings(None, {"input.url": SMALL, "output.url": output})
    count = 0

    def taken(frame, ctx) -> None:
        nonlocal count
        count += 1
        conn.send(count)

    execute(settings, Registry([ep for ep in entry_points(group="edgefx") if ep.name == "io"]), on_frame=taken)


@pytest.fixture(scope="module")
def forkserver():
    """Children forked from one process that imported the engine and its inputs and outputs already
    (each kill costs a fork, not an interpreter start)."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["edgefx.runtime.runner", "edgefx.plugins.io", __name__])
    return ctx


@pytest.mark.parametrize("suffix", [".mp4", ".mov", ".mkv"])
def test_a_recording_killed_at_20_random_moments_keeps_all_but_the_last_second(forkserver, tmp_path, suffix):
    rng = random.Random(f"issue 25 {suffix}")
    figures = []
    for kill in range(KILLS):
        out = tmp_path / f"kill{kill}{suffix}"
        target = rng.randint(1, 150)  # frames the sink has taken when the kill comes
        ours, theirs = forkserver.Pipe(duplex=False)
        child = forkserver.Process(target=record, args=(str(out), theirs))
        child.start()
        theirs.close()
        processed = 0
        while processed < target and ours.poll(30):
            processed = ours.recv()
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        with contextlib.suppress(EOFError):
            while ours.poll(1):
                processed = ours.recv()
        kept = decodable(out)
        figures.append((processed, kept))
        if processed > FPS:  # MP4/MOV write their index with the first fragment (after half a second)
            assert out.exists() and kept > 0, f"kill {kill}: nothing on disk after {processed} frames"
    print(f"\n{suffix}: (frames processed, decodable after SIGKILL): {figures}")
    lost = [p - k for p, k in figures]
    assert all(p - k <= FPS for p, k in figures), f"{suffix} lost more than a second: {figures}"
    assert max(lost) <= FPS and sum(k for _, k in figures) > 0


def test_sighup_finishes_the_recording_like_sigterm(tmp_path):
    out = tmp_path / "hup.mp4"
    run = subprocess.Popen([sys.executable, "-m", "edgefx.cli", "run", "-i", SMALL + "&live=1", "-o", str(out),
                            "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while (not out.exists() or out.stat().st_size < 20_000) and time.monotonic() < deadline:
        time.sleep(0.1)  # until a few fragments are on disk
    run.send_signal(signal.SIGHUP)
    printed, err = run.communicate(timeout=60)
    assert run.returncode == 130, err.decode()
    assert b"SIGHUP received: finishing the output" in err
    data = out.read_bytes()
    assert b"moof" not in data and b"moov" in data  # the ordinary MP4 a normal close leaves
    written = int(re.search(rb"(\d+) written", printed).group(1))
    assert decodable(out) == written > FPS  # every frame, also the last fragment's


# -- 2. a full disk ----------------------------------------------------------------------------------

@pytest.fixture
def full_disk(tmp_path):
    """A 256 KiB tmpfs (needs root; skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_full_disk_keeps_every_frame_written_and_says_how_many(full_disk, suffix):
    out = full_disk / f"full{suffix}"
    settings = load_settings(None, {"input.url": "testsrc:?size=320x240&rate=30&duration=60", "output.url": str(out)})
    with pytest.raises(SinkError) as failure:
        execute(settings, load_registry())
    message = failure.value.message
    assert "No space left on device" in message and "plays" in message and ".mkv plays" not in failure.value.hint
    written, kept = map(int, re.search(r"after (\d+) frames; .* keeps the first (\d+) of them", message).groups())
    assert decodable(out) == kept  # the message tells the truth
    assert written - FPS <= kept <= written and kept > FPS


def test_no_room_for_the_index_rewrite_keeps_the_fragmented_file_whole(full_disk, caplog):
    out = full_disk / "almost.mp4"  # about 150 KB of the 256 KB: the ordinary copy does not fit
    settings = load_settings(None, {"input.url": "testsrc:?size=320x240&rate=30&duration=2.5", "output.url": str(out)})
    summary = execute(settings, load_registry()).summary
    assert summary["frames_written"] == decodable(out) == 75
    assert b"moof" in out.read_bytes() and list(full_disk.iterdir()) == [out]  # the half copy is gone
    assert "stays a fragmented MP4" in caplog.text


# -- 3. outputs aimed at the input ------------------------------------------------------------------

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """A 1 s video someone recorded (not by edgefx)."""
    path = tmp_path_factory.mktemp("input") / "clip.mp4"
    subprocess.run([FFMPEG or "ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30:duration=1",
                    "-c:v", "libx264", str(path)], check=True)
    return path


def cli(*argv: str) -> int:
    return main(["run", "--no-progress", *argv])


@needs_ffmpeg
@pytest.mark.parametrize("how", ["same path", "./ path", "symlink", "hard link", "--stats", "--contact-sheet"])
def test_an_output_that_is_the_input_is_refused_before_anything_is_opened(clip, tmp_path, monkeypatch, capsys, how):
    work = tmp_path / "work"
    work.mkdir()
    src = work / "video.mp4"
    shutil.copy(clip, src)
    before = sha(src)
    monkeypatch.chdir(work)
    args = {"same path": ["-i", "video.mp4", "-o", "video.mp4"],
            "./ path": ["-i", "video.mp4", "-o", f"./../{work.name}/video.mp4"],
            "symlink": ["-i", "link.mp4", "-o", "video.mp4"],
            "hard link": ["-i", "hard.mp4", "-o", "video.mp4"],
            "--stats": ["-i", "video.mp4", "-o", "out.mp4", "--stats", "video.mp4"],
            "--contact-sheet": ["-i", "video.mp4", "-o", "null", "--contact-sheet", "./video.mp4"]}[how]
    (work / "link.mp4").symlink_to(src)
    os.link(src, work / "hard.mp4")
    assert cli(*args) == 2
    assert "is the input file" in capsys.readouterr().err
    assert sha(src) == before and not (work / "out.mp4").exists()


def test_analyze_out_that_is_the_input_is_refused(clip, capsys):
    before = sha(clip)
    assert main(["analyze", str(clip), "--analyzers", "faces", "--out", str(clip)]) == 2
    assert "is the input file" in capsys.readouterr().err and sha(clip) == before


@needs_ffmpeg
def test_a_file_edgefx_did_not_write_is_replaced_only_with_overwrite(clip, tmp_path, capsys):
    theirs = tmp_path / "holiday.mp4"
    shutil.copy(clip, theirs)
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": 1}')
    before = sha(theirs)
    assert cli("-i", str(clip), "-o", str(theirs)) == 2
    assert "already exists and is not an earlier edgefx video output" in capsys.readouterr().err
    assert cli("-i", str(clip), "-o", "null", "--stats", str(notes)) == 2
    assert sha(theirs) == before and notes.read_text() == '{"mine": 1}'
    # edgefx's own earlier outputs are replaced by a re-run without asking
    ours, stats, sheet = tmp_path / "ours.mkv", tmp_path / "stats.json", tmp_path / "sheet.png"
    for _ in range(2):
        assert cli("-i", str(clip), "-o", str(ours), "--stats", str(stats), "--contact-sheet", str(sheet)) == 0
    # and --overwrite replaces anything that is not the input
    assert cli("-i", str(clip), "-o", str(theirs), "--overwrite") == 0
    assert sha(theirs) != before and decodable(theirs) == 30


# -- 4. timestamps out of order -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def xvid_avi(tmp_path_factory) -> Path:
    """MPEG-4 Part 2 with B-frames in AVI, as Xvid writes it (packed B-frames), by Debian's ffmpeg."""
    if FFMPEG is None or b"libxvid" not in subprocess.run([FFMPEG, "-v", "error", "-encoders"],
                                                          capture_output=True).stdout:
        pytest.skip("needs Debian's ffmpeg with libxvid")
    path = tmp_path_factory.mktemp("avi") / "xvid.avi"
    subprocess.run([FFMPEG, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25:duration=4",
                    "-c:v", "libxvid", "-bf", "2", "-q:v", "3", str(path)], check=True)
    return path


def test_an_avi_with_shuffled_timestamps_writes_every_frame_it_reads(xvid_avi, tmp_path):
    with av.open(str(xvid_avi)) as c:
        decoded = [(f.pts, f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    stamps = [pts for pts, _ in decoded]
    assert any(b <= a for a, b in itertools.pairwise(stamps)), "the input should decode with shuffled timestamps"
    out = tmp_path / "out.mp4"
    summary = execute(load_settings(None, {"input.url": str(xvid_avi), "output.url": str(out)}),
                      load_registry()).summary
    assert summary["frames_read"] == summary["frames_written"] == len(decoded)
    assert summary["frames_dropped"] == {} and summary["frames_restamped"] > 0
    with av.open(str(out)) as c:
        frames = [(float(f.time), f.to_ndarray(format="bgr24")) for f in c.decode(video=0)]
    assert len(frames) == len(decoded)
    times = [t for t, _ in frames]
    assert times == sorted(times) and len(set(times)) == len(times)
    for (_, a), (_, b) in zip(decoded, frames, strict=True):  # every picture, in the order it was shown
        mse = np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)
        assert 10 * np.log10(255 ** 2 / max(mse, 1e-9)) > 28


# -- 5. a file input sent to the network -----------------------------------------------------------

W, H, SECONDS = 320, 240, 3


@pytest.fixture(scope="module")
def file_input(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("net") / "clip.mp4"
    subprocess.run([FFMPEG or "ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                    f"testsrc2=size={W}x{H}:rate={FPS}:duration={SECONDS}", "-c:v", "libx264", str(path)], check=True)
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def frames_received(path: Path) -> int:
    return path.stat().st_size // (W * H * 3) if path.exists() else 0


@needs_ffmpeg
@pytest.mark.parametrize("kind", ["file", "demo"])
def test_a_file_sent_over_udp_is_paced_and_ffmpeg_receives_every_frame(file_input, tmp_path, kind):
    """Also the README's own example, ``-i demo: -o udp://...``."""
    source = {"input.url": str(file_input)} if kind == "file" else \
        {"input.url": f"demo:?seconds={SECONDS}", "input.width": W, "input.height": H}
    port, raw = free_port(socket.SOCK_DGRAM), tmp_path / "udp.bgr"
    receiver = subprocess.Popen([FFMPEG, "-v", "error", "-y", "-i",
                                 f"udp://127.0.0.1:{port}?timeout=10000000&buffer_size=8000000",
                                 "-frames:v", str(SECONDS * FPS), "-f", "rawvideo", "-pix_fmt", "bgr24", str(raw)],
                                stderr=subprocess.PIPE)
    time.sleep(0.5)
    summary = execute(load_settings(None, {**source, "output.url": f"udp://127.0.0.1:{port}"}),
                      load_registry()).summary
    receiver.wait(30)
    assert summary["frames_read"] == summary["frames_written"] == SECONDS * FPS
    assert summary["frames_dropped"] == {} and summary["output_stats"]["dropped"] == 0
    assert frames_received(raw) == SECONDS * FPS


@needs_ffmpeg
def test_a_file_sent_over_rtmp_is_paced_and_ffmpeg_receives_every_frame(file_input, tmp_path):
    port, flv = free_port(), tmp_path / "rec.flv"
    url = f"rtmp://127.0.0.1:{port}/live/key"
    server = subprocess.Popen([FFMPEG, "-v", "error", "-y", "-listen", "1", "-i", url, "-c", "copy", str(flv)],
                              stderr=subprocess.PIPE)
    time.sleep(0.5)
    summary = execute(load_settings(None, {"input.url": str(file_input), "output.url": url}), load_registry()).summary
    assert server.wait(30) == 0, server.stderr.read().decode()
    assert summary["frames_read"] == summary["frames_written"] == SECONDS * FPS
    assert summary["frames_dropped"] == {}
    assert decodable(flv) == SECONDS * FPS


class Slow(Effect):
    """Takes 100 ms a frame: the loop falls behind a 30 fps live input."""

    name = "slow"
    layer = Layer.OVERLAY

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        time.sleep(0.1)


@needs_ffmpeg
def test_a_udp_input_is_live_newest_frame_wins_and_drops_are_counted():
    port = free_port(socket.SOCK_DGRAM)
    sender = subprocess.Popen([FFMPEG, "-v", "error", "-re", "-f", "lavfi", "-i",
                               f"testsrc2=size={W}x{H}:rate={FPS}:duration=4", "-c:v", "libx264", "-tune",
                               "zerolatency", "-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"])
    source = URLSource.open(f"udp://127.0.0.1:{port}?timeout=3000000", SourceRequest())
    pipeline = Pipeline(source, NullSink(), {}, {"slow": Slow()})
    pipeline.start()
    with pytest.raises(SourceError, match="stopped at"):  # the sender ended: the read times out
        pipeline.run(threading.Event())
    source.close()
    sender.wait(30)
    summary = pipeline.summary()
    assert source.info.live and not wants_pacing("auto", source, StreamSink)
    assert summary["dropped"] > FPS  # about 2 of every 3 frames: the newest wins
    assert summary["frames"] + summary["dropped"] >= 2 * FPS
