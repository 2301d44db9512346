"""Issue 25, item 9: bad input gets a message saying what to do, never a traceback, and the
message blames the right thing. ``gop_seconds = nan`` is covered with the NaN checks of options."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import pytest

from edgefx.cli.main import main
from edgefx.config import load_settings

EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, *argv: str) -> str:
    """Run the command line; it must exit 2 with a message (and a hint) and no traceback."""
    code, _out, err = cli(capsys, *argv)
    assert code == 2, err
    assert err.startswith("error: ") and "\n  -> " in err and "Traceback" not in err
    return err


def read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody may create files in: chmod 555, or for root (who ignores modes) sysfs."""
    if os.geteuid() == 0:
        return Path("/sys/edgefx-analysis")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "analysis"


def test_analyze_out_that_cannot_be_written(capsys, tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    for out, why in [(existing, "it is a file"), (existing / "sub", "Not a directory"),
                     (read_only_folder(tmp_path), "")]:
        err = refused(capsys, "analyze", "demo:?seconds=0.2", "-a", "faces", "--out", str(out))
        assert f"error: cannot write the analysis to {out}: {why}" in err
    assert existing.read_text() == "keep me"


def test_a_contact_sheet_that_is_no_image_is_refused_before_the_run(capsys, tmp_path):
    out = tmp_path / "out.mp4"
    err = refused(capsys, "run", "-i", "demo:?seconds=0.2", "-o", str(out), "--contact-sheet", str(tmp_path / "x.mp4"))
    assert "a contact sheet is an image" in err and ".png" in err
    assert not out.exists()  # nothing ran


@pytest.mark.parametrize("url", ["demo:?seconds=abc", "demo:?seconds=nan", "demo:?seconds=-3",
                                 "testsrc:?duration=inf"])
def test_input_seconds_that_are_no_number(capsys, tmp_path, url):
    key = url.split("?")[1].split("=")[0]
    err = refused(capsys, "run", "-i", url, "-o", str(tmp_path / "x.mp4"))
    assert "is not a number of seconds > 0" in err and f"?{key}=10" in err


def test_a_frame_rate_too_low(capsys, tmp_path):
    err = refused(capsys, "run", "-i", "demo:?seconds=0.2", "-o", str(tmp_path / "x.mp4"), "--fps", "0.0001")
    assert "fps = 0.0001: too low" in err and "command line" in err


def test_bad_presets(capsys, tmp_path):
    cases = {
        "extends.toml": (b"extends = 5\n", "extends.toml: extends = 5 must be a preset name or a .toml path"),
        "latin1.toml": (b'[run]\n\n# caf\xe9\neffects = []\n', "latin1.toml:3: not UTF-8 text (byte 0xe9)"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        err = refused(capsys, "run", "-c", str(tmp_path / name), "-i", "demo:?seconds=0.2", "-o", "null")
        assert message in err


def test_run_effects_that_are_no_names(capsys):
    err = refused(capsys, "run", "-i", "demo:?seconds=0.2", "-o", "null", "--set", "run.effects=[[1]]")
    assert "effects = [[1]]: must list plugin names as strings, not [1]" in err


def test_a_bad_set_is_blamed_on_the_command_line_not_the_preset(capsys):
    err = refused(capsys, "run", "-i", "demo:?seconds=0.2", "-o", "null", "--set", "input.width=abc")
    assert err.startswith("error: command line: --set input.width=abc: [input]: width = 'abc' is not allowed")
    assert "default.toml" not in err


def test_extends_is_resolved_from_the_presets_folder(tmp_path, monkeypatch):
    presets = tmp_path / "presets"
    presets.mkdir()
    (presets / "base.toml").write_text('[output]\ncrf = 30\n')
    (presets / "child.toml").write_text('extends = "base.toml"\n[input]\nurl = "demo:?seconds=1"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "base.toml").write_text('[output]\ncrf = 10\n')  # the cwd's file of that name must not win
    monkeypatch.chdir(elsewhere)
    settings = load_settings(str(presets / "child.toml"))
    assert settings.output["crf"] == 30 and settings.input["url"] == "demo:?seconds=1"


def test_testsrc_plays_as_long_as_max_frames_says(capsys):
    code, out, err = cli(capsys, "run", "-i", "testsrc:?size=64x48", "-o", "null", "--max-frames", "400",
                         "--no-progress")
    assert code == 0, err
    assert out.startswith("400 frames in ")


def test_a_control_panel_that_cannot_listen_is_an_error_before_the_run(capsys, tmp_path):
    out = tmp_path / "out.mp4"
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = refused(capsys, "run", "-i", "demo:?seconds=0.2", "-o", str(out), "--control", f"127.0.0.1:{port}")
    assert f"control panel cannot listen on 127.0.0.1:{port}" in err
    assert not out.exists()


def test_ctrl_c_on_a_udp_input_is_no_input_error(tmp_path):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = subprocess.Popen(["ffmpeg", "-v", "error", "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=30",
                               "-c:v", "libx264", "-preset", "ultrafast", "-g", "15", "-f", "mpegts",
                               f"udp://127.0.0.1:{port}?pkt_size=1316"])
    out = tmp_path / "udp.mkv"
    try:
        proc = subprocess.Popen([EDGEFX, "run", "-i", f"udp://127.0.0.1:{port}", "-o", str(out), "--no-progress"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while not out.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # frames are flowing
        sender.send_signal(signal.SIGINT)  # Ctrl-C in a terminal reaches the sender of the same group too
        proc.send_signal(signal.SIGINT)
        _stdout, stderr = proc.communicate(timeout=30)
    finally:
        sender.terminate()
        sender.wait(10)
    assert proc.returncode == 130, stderr
    assert "corrupt" not in stderr and "error:" not in stderr
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) >= 15
