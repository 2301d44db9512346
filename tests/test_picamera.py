"""The picamera: source (Raspberry Pi camera modules via picamera2/libcamera).

What runs here: URL parsing, the configuration handed to Picamera2.create_video_configuration,
the frame-gap arithmetic, registration through the edgefx_sources hook, and the clear error when
picamera2 is missing (it is not installable without libcamera, so it is missing here for real).
What cannot run here: opening a camera and capturing frames; that needs a Pi with a camera module
(see docs/raspberry-pi.md for the check on a board)."""

import importlib.util

import pytest

from edgefx.cli.main import main
from edgefx.errors import SourceError
from edgefx.io.source import SourceRequest
from edgefx.plugins.picamera import (
    INSTALL_HINT,
    CameraSettings,
    PicameraSource,
    frames_skipped,
    import_picamera2,
    parse_url,
    video_configuration,
)
from edgefx.registry import load_registry

NO_PICAMERA2 = importlib.util.find_spec("picamera2") is None


def test_url_defaults_and_camera_number():
    assert parse_url("picamera:", SourceRequest()) == CameraSettings()
    assert parse_url("picamera:1", SourceRequest()).camera == 1
    assert parse_url("picamera://0", SourceRequest()).camera == 0


def test_url_query_then_cli_request():
    got = parse_url("picamera:0?size=640x480&fps=50&hflip=1&buffers=6", SourceRequest(1920, 1080, 25.0))
    assert got == CameraSettings(0, 640, 480, 50.0, True, False, 6)
    from_cli = parse_url("picamera:?vflip=1", SourceRequest(1920, 1080, 25.0))
    assert (from_cli.width, from_cli.height, from_cli.fps, from_cli.vflip) == (1920, 1080, 25.0, True)


@pytest.mark.parametrize("url, words", [
    ("picamera:front", "camera number"),
    ("picamera:?size=1280", "bad size"),
    ("picamera:?size=641x480", "not usable"),
    ("picamera:?fps=fast", "bad fps"),
    ("picamera:?fps=500", "out of range"),
    ("picamera:?buffers=1", "out of range"),
    ("picamera:?exposure=10", "unknown picamera option"),
])
def test_bad_urls_say_what_to_write(url, words):
    with pytest.raises(SourceError) as err:
        parse_url(url, SourceRequest())
    assert words in err.value.message and err.value.hint


def test_video_configuration_for_picamera2():
    config = video_configuration(CameraSettings(0, 1280, 720, 30.0, False, False, 4))
    assert config == {
        "main": {"size": (1280, 720), "format": "RGB888"},
        "buffer_count": 4,
        "controls": {"FrameDurationLimits": (33333, 33333)},
        "queue": False,
    }
    assert video_configuration(CameraSettings(fps=60.0))["controls"]["FrameDurationLimits"] == (16667, 16667)


def test_dropped_frames_from_sensor_timestamps():
    frame_ns = 1e9 / 30
    assert frames_skipped(0, round(frame_ns), frame_ns) == 0
    assert frames_skipped(0, round(3 * frame_ns), frame_ns) == 2
    assert frames_skipped(0, round(1.4 * frame_ns), frame_ns) == 0  # timestamp jitter is not a drop


def test_registered_through_the_sources_hook():
    registry = load_registry()
    assert registry.records["picamera"].provides.get("source") == ["picamera"]
    assert PicameraSource.schemes == ("picamera",)


@pytest.mark.skipif(not NO_PICAMERA2, reason="picamera2 is installed: the missing-package path cannot be seen")
def test_missing_picamera2_gives_the_install_hint(capsys):
    with pytest.raises(SourceError) as err:
        import_picamera2()
    assert err.value.hint == INSTALL_HINT and "python3-picamera2" in INSTALL_HINT
    with pytest.raises(SourceError):
        PicameraSource.open("picamera:0?size=640x480", SourceRequest())
    assert main(["run", "-i", "picamera:", "-o", "null", "--no-progress"]) == 2
    assert "python3-picamera2" in capsys.readouterr().err


def test_bad_url_is_refused_before_importing_picamera2():
    with pytest.raises(SourceError, match="bad size"):
        PicameraSource.open("picamera:?size=big", SourceRequest())
