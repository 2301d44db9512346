"""The command line on bad input and on signals: clear messages, playable outputs."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import write_clip

EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([EDGEFX, *args], capture_output=True, text=True, timeout=timeout)


def count_frames(path: Path) -> int:
    with av.open(str(path)) as c:
        return sum(1 for _ in c.decode(video=0))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_signal_finishes_a_playable_file(tmp_path, sig, suffix):
    out = tmp_path / f"live{suffix}"
    proc = subprocess.Popen([EDGEFX, "run", "-i", "testsrc:?size=320x240&duration=60&live=1&audio=1",
                             "-o", str(out), "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(4)
    proc.send_signal(sig)
    _stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert "finishing the output" in stderr
    frames = count_frames(out)
    assert frames >= 45  # about 3 s of 30 fps after start-up
    with av.open(str(out)) as c:
        assert c.streams.audio, "audio track lost"


def test_truncated_input_reports_and_keeps_what_was_processed(tmp_path, astronaut_bgr):
    # A panning photo, so the bytes spread over all frames (a still clip is one big keyframe).
    panning = [np.roll(astronaut_bgr, 9 * i, axis=1) for i in range(90)]
    clip = write_clip(tmp_path / "full.mkv", panning, fps=30)
    data = clip.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out.mp4"
    done = run("run", "-i", str(cut), "-o", str(out), "--no-progress")
    assert done.returncode == 2
    assert "truncated" in done.stderr and str(cut) in done.stderr
    processed = int(done.stdout.split()[0])
    assert 10 < processed < 90
    assert count_frames(out) == processed


def test_corrupt_file_is_a_clear_error_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    out = tmp_path / "out.mp4"
    done = run("run", "-i", str(bad), "-o", str(out))
    assert done.returncode == 2
    assert f"cannot open input {bad}" in done.stderr and "ffprobe" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize(("source", "expected"), [
    ("nowhere.mp4", "input file not found: nowhere.mp4"),
    (".", "input . is a folder, not a video file"),
    ("v4l2:///dev/video9", "camera /dev/video9 does not exist"),
    ("udp://127.0.0.1:9?timeout=500000", "cannot open input udp://"),
])
def test_missing_inputs_say_what_to_do(tmp_path, source, expected):
    done = run("run", "-i", source, "-o", str(tmp_path / "x.mp4"), timeout=60)
    assert done.returncode == 2
    assert expected in done.stderr
    assert "->" in done.stderr  # the hint line


def test_bad_output_folder_and_type(tmp_path):
    done = run("run", "-i", "testsrc:?duration=1", "-o", str(tmp_path / "no" / "x.mp4"))
    assert done.returncode == 2 and "does not exist" in done.stderr and "mkdir" in done.stderr
    done = run("run", "-i", "testsrc:?duration=1", "-o", str(tmp_path / "x.avi"))
    assert done.returncode == 2 and "unsupported output type .avi" in done.stderr


@pytest.mark.skipif(Path("/dev/video11").exists(), reason="this machine has a V4L2 memory-to-memory encoder")
def test_an_encoder_that_cannot_start_is_named_before_the_first_frame(tmp_path):
    """The Pi 4 profile's hardware encoder, where its device is missing: no traceback, no file."""
    out = tmp_path / "x.mkv"
    done = run("run", "-i", "testsrc:?duration=1", "-o", str(out), "--set", "output.codec=h264_v4l2m2m")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "encoder h264_v4l2m2m could not start" in done.stderr and "output.codec=libx264" in done.stderr
    assert not out.exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_is_a_clear_error_not_a_traceback(tmp_path):
    """Every write to /dev/full fails with ENOSPC, as on a full disk."""
    out = tmp_path / "x.mkv"
    out.symlink_to("/dev/full")
    done = run("run", "-i", "testsrc:?duration=1", "-o", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "No space left on device" in done.stderr and "check free disk space" in done.stderr

    stats = tmp_path / "stats.json"
    stats.symlink_to("/dev/full")
    video = tmp_path / "y.mkv"
    done = run("run", "-i", "testsrc:?duration=1", "-o", str(video), "--stats", str(stats))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot write the stats file {stats}: No space left on device" in done.stderr
    assert count_frames(video) == 30  # the video was finished before the stats file failed


def test_stats_and_contact_sheet(tmp_path):
    import json

    stats, sheet = tmp_path / "s.json", tmp_path / "sheet.png"
    done = run("run", "-i", "demo:?seconds=1", "-o", str(tmp_path / "d.mp4"), "--stats", str(stats),
               "--contact-sheet", str(sheet), "--width", "640", "--height", "360")
    assert done.returncode == 0, done.stderr
    data = json.loads(stats.read_text())
    assert data["summary"]["frames"] == len(data["frames"]) == 30
    assert data["frames"][0]["stages"]["sink"] > 0
    assert sheet.stat().st_size > 10000


def test_udp_stream_input_is_live_and_decodes(tmp_path, astronaut_bgr):
    """A real network input: ffmpeg-free, a second PyAV process sends MPEG-TS over UDP on 127.0.0.1."""
    sender = tmp_path / "send.py"
    sender.write_text(
        "import av, time, numpy as np\n"
        "out = av.open('udp://127.0.0.1:23457?pkt_size=1316', 'w', format='mpegts')\n"
        "s = out.add_stream('mpeg2video', rate=30); s.width, s.height, s.pix_fmt = 320, 240, 'yuv420p'\n"
        "img = np.full((240, 320, 3), (0, 200, 0), np.uint8)\n"
        "for i in range(300):\n"
        "    f = av.VideoFrame.from_ndarray(img, format='bgr24'); f.pts = i\n"
        "    out.mux(s.encode(f)); time.sleep(1 / 30)\n"
        "out.mux(s.encode(None)); out.close()\n")
    out = tmp_path / "rx.mkv"
    receiver = subprocess.Popen([EDGEFX, "run", "-i", "udp://127.0.0.1:23457", "-o", str(out), "--max-frames", "60",
                                 "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    send = subprocess.Popen([sys.executable, str(sender)])
    _stdout, stderr = receiver.communicate(timeout=60)
    send.kill()
    assert receiver.returncode == 0, stderr
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="bgr24")
    assert abs(int(frame[120, 160, 1]) - 200) < 12 and frame[120, 160, 2] < 30


def test_a_reader_that_goes_away_is_not_a_traceback():
    """`edgefx plugins show speech | head -1`: the pipe is closed before the command writes; it stops quietly."""
    shown = subprocess.Popen([EDGEFX, "plugins", "show", "speech"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    shown.stdout.close()
    assert shown.wait(timeout=60) == 1
    assert b"Traceback" not in shown.stderr.read()


@pytest.mark.parametrize(("args", "expected"), [
    (("--effects", "backgroud"), "did you mean 'background'?"),
    (("--effects", "stats", "--set", "analyzers.persn.model=x"), "did you mean 'person'?"),
    (("--effects", "stats", "-c", "streamr"), "did you mean 'streamer'?"),
])
def test_a_typo_in_a_name_gets_did_you_mean(args, expected):
    done = run("run", "-i", "testsrc:?duration=0.2", "-o", "null", *args)
    assert done.returncode == 2 and expected in done.stderr, done.stderr


def test_without_o_the_default_output_folder_is_created_and_named(tmp_path):
    done = subprocess.run([EDGEFX, "run", "-i", "testsrc:?duration=0.2&size=160x90", "--effects", "stats",
                           "--no-progress"], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "no -o given: writing to out/demo.mp4" in done.stderr and "created the folder out" in done.stderr
    assert count_frames(tmp_path / "out" / "demo.mp4") > 0
