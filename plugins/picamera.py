"""Raspberry Pi camera modules through libcamera (picamera2): ``picamera:`` or ``picamera:1?size=1280x720&fps=30``.

USB webcams on a Pi are V4L2 devices: use ``v4l2:///dev/video0`` (the built-in camera source).
picamera2 is the optional extra ``picamera``; on Raspberry Pi OS it comes from apt (it needs
libcamera's Python bindings, which pip cannot build), see docs/raspberry-pi.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from edgefx import hookimpl
from edgefx.errors import SourceError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.inputs import split_query
from edgefx.io.source import Item, Source, SourceRequest

INSTALL_HINT = ("on Raspberry Pi OS: sudo apt install -y python3-picamera2, then make the venv with "
                "`python3 -m venv --system-site-packages` so it sees picamera2 and libcamera "
                "(pip install 'edgefx[picamera]' alone cannot build libcamera's bindings)")
NUMPY_HINT = ("a package from apt (usually simplejpeg) was built for another NumPy: "
              "pip install 'edgefx[picamera]' in the venv installs a simplejpeg wheel that matches")
PIXEL_FORMAT = "RGB888"  # libcamera's RGB888 is laid out B, G, R in memory: OpenCV's BGR, no conversion
TIME_BASE = Fraction(1, 1_000_000)  # pts in microseconds of the sensor timestamp


@dataclass(frozen=True, slots=True)
class CameraSettings:
    """What ``picamera:N?size=WxH&fps=F&hflip=1&vflip=1&buffers=B`` asks of camera module ``N``."""

    camera: int = 0
    width: int = 1280
    height: int = 720
    fps: float = 30.0
    hflip: bool = False
    vflip: bool = False
    buffers: int = 4


def parse_url(url: str, request: SourceRequest) -> CameraSettings:
    """Read a ``picamera:`` URL; ``--width/--height/--fps`` fill what the URL leaves out.

    Raises ``SourceError`` for a bad camera number, size, rate or buffer count.
    """
    base, query = split_query(url)
    index = base.removeprefix("picamera:").removeprefix("//") or "0"
    if not index.isdigit():
        raise SourceError(f"bad camera number {index!r} in {url}", "use picamera: or picamera:N (0 = first module)")
    unknown = set(query) - {"size", "fps", "hflip", "vflip", "buffers"}
    if unknown:
        raise SourceError(f"unknown picamera option {', '.join(sorted(unknown))} in {url}",
                          "options: size=WxH, fps=F, hflip=1, vflip=1, buffers=N")
    width, height = request.width or 1280, request.height or 720
    if "size" in query:
        w, sep, h = query["size"].partition("x")
        if not (sep and w.isdigit() and h.isdigit()):
            raise SourceError(f"bad size {query['size']!r} in {url}", "write the size as WIDTHxHEIGHT, e.g. 1280x720")
        width, height = int(w), int(h)
    if width < 64 or height < 64 or width % 2 or height % 2:
        raise SourceError(f"camera size {width}x{height} is not usable",
                          "libcamera needs even sizes of at least 64x64, e.g. 640x480 or 1280x720")
    fps = _number(query.get("fps"), "fps", url) if "fps" in query else (request.fps or 30.0)
    buffers = int(_number(query.get("buffers"), "buffers", url)) if "buffers" in query else 4
    if not 1 <= fps <= 240 or not 2 <= buffers <= 16:
        raise SourceError(f"fps={fps:g} / buffers={buffers} out of range in {url}",
                          "fps must be 1..240 and buffers 2..16")
    return CameraSettings(int(index), width, height, float(fps),
                          query.get("hflip") == "1", query.get("vflip") == "1", buffers)


def _number(text: str | None, name: str, url: str) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise SourceError(f"bad {name}={text!r} in {url}", f"{name} must be a number") from None


def video_configuration(settings: CameraSettings) -> dict[str, Any]:
    """Keyword arguments for ``Picamera2.create_video_configuration``: one BGR main stream at the asked
    size, a fixed frame duration (so the sensor paces frames at ``fps``), and no queued stale frame."""
    frame_us = round(1_000_000 / settings.fps)
    return {
        "main": {"size": (settings.width, settings.height), "format": PIXEL_FORMAT},
        "buffer_count": settings.buffers,
        "controls": {"FrameDurationLimits": (frame_us, frame_us)},
        "queue": False,
    }


def frames_skipped(previous_ns: int, now_ns: int, frame_ns: float) -> int:
    """Frames the sensor delivered between two captured ones that the loop never took."""
    return max(0, round((now_ns - previous_ns) / frame_ns) - 1)


def import_picamera2() -> tuple[Any, Any]:
    """``(Picamera2 class, libcamera module)``, or a ``SourceError`` that says how to install them."""
    try:
        import libcamera
        from picamera2 import Picamera2
    except ImportError as exc:
        raise SourceError(f"picamera: input needs picamera2 and libcamera ({exc.name or exc} is not importable)",
                          INSTALL_HINT) from None
    except ValueError as exc:  # apt's simplejpeg, built for NumPy 1, under the venv's NumPy 2
        raise SourceError(f"picamera2 does not import: {exc}", NUMPY_HINT) from None
    return Picamera2, libcamera


class PicameraSource(Source):
    """A Raspberry Pi camera module (libcamera). Live: the newest frame is taken, older ones are counted
    in ``dropped`` from gaps in the sensor timestamps."""

    name = "picamera"
    schemes = ("picamera",)

    def __init__(self, camera: Any, settings: CameraSettings, label: str) -> None:
        self.camera = camera
        size = camera.camera_configuration()["main"]["size"]  # libcamera may have adjusted it
        self.info = StreamInfo(int(size[0]), int(size[1]), Fraction(settings.fps).limit_denominator(1001),
                               TIME_BASE, True, None, None, label)
        self._frame_ns = 1e9 / settings.fps
        self._stopped = False

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        settings = parse_url(url, request)
        picamera2_cls, libcamera = import_picamera2()
        found = picamera2_cls.global_camera_info()
        if settings.camera >= len(found):
            raise SourceError(f"no camera module {settings.camera}: libcamera sees {len(found)}",
                              "check the ribbon cable and `rpicam-hello --list-cameras`; "
                              "USB webcams are v4l2:///dev/videoN")
        try:
            camera = picamera2_cls(settings.camera)
            config = camera.create_video_configuration(
                **video_configuration(settings),
                transform=libcamera.Transform(hflip=int(settings.hflip), vflip=int(settings.vflip)))
            camera.configure(config)
            given = camera.camera_configuration()["main"]["format"]
            if given != PIXEL_FORMAT:
                camera.close()
                raise SourceError(f"camera {settings.camera} delivers {given}, not {PIXEL_FORMAT}",
                                  "a USB webcam seen by libcamera: open it as v4l2:///dev/videoN instead")
            camera.start()
        except RuntimeError as exc:
            raise SourceError(f"camera module {settings.camera} cannot start: {exc}",
                              "close other programs using the camera (rpicam-*, another edgefx) "
                              "or try a smaller size / lower fps") from None
        return cls(camera, settings, url)

    def __iter__(self) -> Iterator[Item]:
        first_ns = previous_ns = None
        index = -1
        while not self._stopped:
            request = self.camera.capture_request()
            try:
                image = request.make_array("main")
                now_ns = int(request.get_metadata()["SensorTimestamp"])
            finally:
                request.release()
            if first_ns is None:
                first_ns = previous_ns = now_ns
            skipped = frames_skipped(previous_ns, now_ns, self._frame_ns)
            self.dropped += skipped
            index += skipped + 1
            previous_ns = now_ns
            yield Frame(np.ascontiguousarray(image), (now_ns - first_ns) // 1000, TIME_BASE, index)

    def close(self) -> None:
        self._stopped = True
        self.camera.stop()
        self.camera.close()


@hookimpl
def edgefx_sources():
    return [PicameraSource]
