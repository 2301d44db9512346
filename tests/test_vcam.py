"""Virtual camera up to the device open (v4l2loopback cannot be loaded in this container): each
problem's message, pixel format checks, and consumer detection with real processes holding a
stand-in file open."""

from __future__ import annotations

import errno
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import pytest

from edgefx.config import load_settings
from edgefx.errors import SinkError
from edgefx.io.info import StreamInfo
from edgefx.io.sink import SinkRequest
from edgefx.io.vcam import MODPROBE, ConsumerGate, V4l2Sink, check_device, consumers, open_error
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

INFO = StreamInfo(640, 360, Fraction(30), Fraction(1, 30), True)
LOOPBACK_LOADED = Path("/sys/module/v4l2loopback").exists()


def test_pyav_has_the_v4l2_output_muxer() -> None:
    assert av.ContainerFormat("v4l2").is_output


@pytest.mark.skipif(LOOPBACK_LOADED, reason="v4l2loopback is loaded here")
def test_run_to_a_missing_loopback_says_how_to_load_it_and_writes_nothing(tmp_path: Path) -> None:
    settings = load_settings(None, {"input.url": "testsrc:?duration=0.5", "output.url": "v4l2:///dev/video10"})
    with pytest.raises(SinkError) as info:
        execute(settings, Registry())
    assert "v4l2loopback not loaded" in info.value.message
    assert info.value.hint == f"load it: {MODPROBE}" and "exclusive_caps=1" in MODPROBE


def test_module_loaded_but_no_such_device(tmp_path: Path) -> None:
    module = tmp_path / "v4l2loopback"
    module.mkdir()
    with pytest.raises(SinkError, match="/dev/video42 does not exist; v4l2loopback devices") as info:
        check_device(Path("/dev/video42"), module_dir=module)
    assert "video_nr=42" in info.value.hint


def test_a_plain_file_is_not_a_video_device(tmp_path: Path) -> None:
    fake = tmp_path / "video10"
    fake.write_bytes(b"")
    with pytest.raises(SinkError, match="not a video device"):
        check_device(fake)


def test_a_character_device_that_is_not_v4l2_is_named() -> None:
    with pytest.raises(SinkError, match="/dev/null is not a V4L2 device") as info:
        check_device(Path("/dev/null"))  # VIDIOC_QUERYCAP answers ENOTTY
    assert "v4l2loopback" in info.value.hint


@pytest.mark.parametrize(("code", "text"), [(errno.EBUSY, "busy: another program is writing"),
                                            (errno.EACCES, "no permission"), (errno.ENODEV, "cannot open")])
def test_open_errors_say_what_is_wrong(code: int, text: str) -> None:
    err = open_error(Path("/dev/video10"), OSError(code, "x"))
    assert text in err.message and err.hint


@pytest.mark.parametrize(("target", "size", "message"), [
    ("v4l2:///dev/video10?pixel_format=rgb24", (640, 360), "pixel format 'rgb24' is not supported"),
    ("v4l2:///dev/video10", (641, 360), "yuv420p needs an even frame size"),
    ("v4l2:///dev/video10?pixel_format=yuyv422", (640, 361), "v4l2loopback not loaded" if not LOOPBACK_LOADED
     else "video10"),
    ("v4l2:video10", (640, 360), "does not name a device")])
def test_pixel_format_and_size_are_checked_before_the_device(target: str, size: tuple[int, int],
                                                             message: str) -> None:
    info = StreamInfo(*size, Fraction(30), Fraction(1, 30), True)
    with pytest.raises(SinkError, match=message):
        V4l2Sink.open(target, info, SinkRequest())


def reader(path: Path) -> subprocess.Popen:
    """Another process holding ``path`` open for reading, like a consumer of the device."""
    with path.open("rb") as handle:
        return subprocess.Popen(["sleep", "30"], stdin=handle)


def test_consumers_are_other_processes_with_the_device_open(tmp_path: Path) -> None:
    fake = tmp_path / "video10"
    fake.write_bytes(b"")
    with fake.open("rb"):  # our own handle (the writer) does not count
        assert consumers(fake) == []
        proc = reader(fake)
        try:
            assert consumers(fake) == [proc.pid]
        finally:
            proc.kill()
            proc.wait()
        assert consumers(fake) == []


def test_gate_writes_one_frame_a_second_until_a_consumer_appears(tmp_path: Path) -> None:
    fake = tmp_path / "video10"
    fake.write_bytes(b"")
    gate = ConsumerGate(fake, idle_fps=1.0, poll=0.1)
    try:
        idle = [gate.due(t / 30) for t in range(90)]  # 3 s of frames at 30 fps, nobody watching
        assert sum(idle) == 3 and gate.skipped == 87
        proc = reader(fake)
        deadline = time.monotonic() + 5
        while not gate.watched and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(gate.due(3 + t / 30) for t in range(30))  # full rate while consumed
        proc.kill()
        proc.wait()
        while gate.watched and time.monotonic() < deadline + 5:
            time.sleep(0.05)
        assert sum(gate.due(4 + t / 30) for t in range(30)) == 1
    finally:
        gate.close()


def test_vcam_scheme_needs_pyvirtualcam_and_a_device() -> None:
    with pytest.raises(SinkError) as info:
        Registry().sink_for("vcam:").open("vcam:", INFO, SinkRequest())
    assert "pip install 'edgefx[vcam]'" in info.value.hint or "v4l2loopback" in info.value.hint
