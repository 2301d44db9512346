"""Virtual camera outputs that OBS, Zoom, Meet or a browser pick up as a webcam.

``v4l2:///dev/video10`` (Linux): raw frames into a v4l2loopback device through PyAV's ``v4l2``
muxer, as ``yuv420p`` (default, I420: Chrome, Firefox, Zoom, OBS) or ``yuyv422``
(``?pixel_format=yuyv422``, for consumers that only take YUYV). Before opening, the device
is checked so each problem gets its own message: module not loaded (with the modprobe
line), no such device, not a video device, not a loopback device, busy, no permission.

While no other process has the device open, frames go out at ``idle_fps`` (1 fps) instead of
every frame: the loopback keeps a current picture and stays visible to Chrome-based
consumers (``exclusive_caps=1`` shows it as a camera only while a writer is attached), and
full rate resumes within a second when a consumer opens it.

``vcam:`` (macOS, Windows, or Linux without the device checks): pyvirtualcam (extra ``vcam``).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import logging
import os
import stat
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import av
import av.error

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.inputs import split_query
from edgefx.io.picture import encoder_frame
from edgefx.io.sink import Sink, SinkRequest

log = logging.getLogger(__name__)

MODPROBE = "sudo modprobe v4l2loopback devices=1 video_nr=10 card_label=edgefx exclusive_caps=1"
PIXEL_FORMATS = ("yuv420p", "yuyv422")
LOOPBACK_DRIVER = "v4l2 loopback"


class V4l2Capability(ctypes.Structure):
    """``struct v4l2_capability`` (linux/videodev2.h)."""

    _fields_: ClassVar = [("driver", ctypes.c_char * 16), ("card", ctypes.c_char * 32),
                          ("bus_info", ctypes.c_char * 32), ("version", ctypes.c_uint32),
                          ("capabilities", ctypes.c_uint32), ("device_caps", ctypes.c_uint32),
                          ("reserved", ctypes.c_uint32 * 3)]


VIDIOC_QUERYCAP = (2 << 30) | (ctypes.sizeof(V4l2Capability) << 16) | (ord("V") << 8) | 0


def device_path(target: str) -> Path:
    """``v4l2:///dev/video10`` or ``v4l2:/dev/video10`` -> ``/dev/video10``."""
    path = urlsplit(target).path
    if not path.startswith("/dev/"):
        raise SinkError(f"virtual camera {target!r} does not name a device", "write v4l2:///dev/video10")
    return Path(path)


def pixel_format(target: str, request: SinkRequest) -> str:
    """The pixel format asked for (``?pixel_format=`` or ``[output]`` extra), checked."""
    asked = split_query(target)[1].get("pixel_format", request.extra.get("pixel_format", "yuv420p"))
    if asked not in PIXEL_FORMATS:
        raise SinkError(f"virtual camera pixel format {asked!r} is not supported",
                        f"use one of {', '.join(PIXEL_FORMATS)} (yuv420p suits Chrome, Zoom and OBS)")
    return asked


def check_size(info: StreamInfo, fmt: str) -> None:
    """Both formats subsample chroma horizontally (yuv420p also vertically): sizes must be even."""
    if info.width % 2 or (fmt == "yuv420p" and info.height % 2):
        raise SinkError(f"{fmt} needs an even frame size, the input is {info.width}x{info.height}",
                        "scale it with --width/--height to even numbers, e.g. --width 1280 --height 720")


def query_driver(path: Path) -> tuple[str, str]:
    """(driver, card) of a V4L2 device via ``VIDIOC_QUERYCAP``; ``OSError`` when it is not one."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        cap = V4l2Capability()
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, cap)
    finally:
        os.close(fd)
    return cap.driver.decode(errors="replace"), cap.card.decode(errors="replace")


def loopback_devices() -> list[str]:
    """``/dev/videoN (card)`` of every v4l2loopback device, from sysfs."""
    out = []
    for entry in sorted(Path("/sys/class/video4linux").glob("video*")):
        driver = entry / "device" / "driver"
        if driver.exists() and "loopback" in driver.resolve().name:
            name = (entry / "name").read_text().strip() if (entry / "name").exists() else ""
            out.append(f"/dev/{entry.name} ({name})")
    return out


def check_device(path: Path, module_dir: Path = Path("/sys/module/v4l2loopback")) -> None:
    """Raise ``SinkError`` saying exactly why ``path`` cannot be a virtual camera, or return."""
    if not path.exists():
        if not module_dir.exists():
            raise SinkError(f"v4l2loopback not loaded ({path} does not exist)", f"load it: {MODPROBE}")
        found = loopback_devices()
        raise SinkError(f"{path} does not exist; v4l2loopback devices: {', '.join(found) or 'none'}",
                        f"use one of them, or reload with video_nr={path.name.removeprefix('video')}: "
                        f"sudo modprobe -r v4l2loopback && {MODPROBE}")
    if not stat.S_ISCHR(path.stat().st_mode):
        raise SinkError(f"{path} is not a video device (not a character device)", f"load v4l2loopback: {MODPROBE}")
    try:
        driver, card = query_driver(path)
    except OSError as exc:
        raise open_error(path, exc) from None
    if driver != LOOPBACK_DRIVER:
        raise SinkError(f"{path} is {card!r} (driver {driver}), not a v4l2loopback device",
                        f"write to a loopback device ({', '.join(loopback_devices()) or f'load one: {MODPROBE}'})")


def open_error(path: Path, exc: Exception) -> SinkError:
    """The message for an ``OSError`` / ``FFmpegError`` from opening or querying ``path``."""
    code = getattr(exc, "errno", None)
    if code == errno.EBUSY:
        return SinkError(f"{path} is busy: another program is writing to it",
                         "stop the other writer (OBS virtual camera, another edgefx) or use another device")
    if code in (errno.EACCES, errno.EPERM):
        return SinkError(f"no permission to open {path}", "add yourself to the video group: sudo usermod -aG video "
                         "$USER (then log in again)")
    if code in (errno.ENOTTY, errno.EINVAL):
        return SinkError(f"{path} is not a V4L2 device", f"pick the v4l2loopback device; load one: {MODPROBE}")
    return SinkError(f"cannot open {path}: {getattr(exc, 'strerror', None) or exc}",
                     "check the device with v4l2-ctl --all -d DEVICE")


def consumers(path: Path, proc: Path = Path("/proc")) -> list[int]:
    """Pids of other processes that have ``path`` open (a scan of ``/proc/*/fd``; processes of
    other users are only visible to root)."""
    target, me, pids = str(path.resolve()), os.getpid(), []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            links = [os.readlink(fd) for fd in (entry / "fd").iterdir()]
        except OSError:  # gone, or another user's process
            continue
        if target in links:
            pids.append(int(entry.name))
    return pids


class ConsumerGate:
    """Decides per frame whether to write: every frame while some other process has the device
    open, ``idle_fps`` otherwise. The /proc scan runs every ``poll`` s on its own thread."""

    def __init__(self, path: Path, idle_fps: float = 1.0, poll: float = 1.0) -> None:
        self.path, self.idle_period, self.poll = path, 1.0 / idle_fps, poll
        self.watched = bool(consumers(path))
        self.skipped = 0
        self._last = float("-inf")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="vcam consumers", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            watched = bool(consumers(self.path))
            if watched != self.watched:
                log.info("virtual camera %s: %s", self.path, "a consumer opened it: full rate" if watched
                         else "no consumer: 1 frame a second until one opens it")
            self.watched = watched

    def due(self, now: float | None = None) -> bool:
        """Whether this frame is to be written (loop thread)."""
        now = time.monotonic() if now is None else now
        if self.watched or now - self._last >= self.idle_period:
            self._last = now
            return True
        self.skipped += 1
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2.0)


class V4l2Sink(Sink):
    """``v4l2:///dev/videoN[?pixel_format=yuyv422]``: a v4l2loopback virtual camera (Linux)."""

    name = "v4l2"
    schemes: ClassVar[tuple[str, ...]] = ("v4l2",)
    realtime = True

    def __init__(self, path: Path, info: StreamInfo, fmt: str) -> None:
        self.path = path
        try:
            self.container = av.open(str(path), mode="w", format="v4l2")
            self.stream = self.container.add_stream("rawvideo", rate=info.fps)
        except (av.error.FFmpegError, OSError) as exc:
            raise open_error(path, exc) from None
        self.stream.width, self.stream.height, self.stream.pix_fmt = info.width, info.height, fmt
        self.gate = ConsumerGate(path)
        self._pts = 0

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        path = device_path(target)
        fmt = pixel_format(target, request)
        check_size(info, fmt)
        check_device(path)
        return cls(path, info, fmt)

    def write(self, frame: Frame) -> None:
        if not self.gate.due():
            return
        vf = encoder_frame(frame.image, self.stream.codec_context.pix_fmt)
        vf.pts, vf.time_base = self._pts, Fraction(1, 1000000)
        self._pts += 1
        try:
            self.container.mux(self.stream.encode(vf))
        except (av.error.FFmpegError, OSError) as exc:
            raise SinkError(f"writing to {self.path} failed: {exc}",
                            "was v4l2loopback unloaded or the format changed by another writer?") from None
        self.frames_written += 1

    def close(self) -> None:
        self.gate.close()
        try:
            self.container.close()
        finally:
            log.info("virtual camera %s: %d frames written, %d skipped while nobody watched", self.path,
                     self.frames_written, self.gate.skipped)


class PyVirtualCamSink(Sink):
    """``vcam:`` or ``vcam:DEVICE``: pyvirtualcam's backend for this OS (OBS Virtual Camera on
    macOS/Windows, v4l2loopback on Linux). Needs ``pip install 'edgefx[vcam]'``."""

    name = "vcam"
    schemes: ClassVar[tuple[str, ...]] = ("vcam",)
    realtime = True

    def __init__(self, camera: Any) -> None:
        self.camera = camera

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        try:
            import pyvirtualcam
        except ImportError:
            raise SinkError("vcam: needs pyvirtualcam", "pip install 'edgefx[vcam]' (on Linux v4l2:///dev/video10 "
                            "works without it)") from None
        device = target.partition(":")[2] or None
        try:
            camera = pyvirtualcam.Camera(info.width, info.height, float(info.fps), device=device,
                                         fmt=pyvirtualcam.PixelFormat.BGR)
        except RuntimeError as exc:
            hint = f"load it: {MODPROBE}" if "v4l2loopback" in str(exc) else \
                "install OBS Studio and start its virtual camera once (macOS/Windows), then retry"
            raise SinkError(f"no virtual camera: {exc}", hint) from None
        log.info("virtual camera %s (%s)", camera.device, camera.backend)
        return cls(camera)

    def write(self, frame: Frame) -> None:
        self.camera.send(frame.image)
        self.frames_written += 1

    def close(self) -> None:
        self.camera.close()
