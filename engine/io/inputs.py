"""The built-in input kinds, each a thin recipe for opening FFmpeg with the right format."""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from edgefx.errors import SourceError
from edgefx.io.source import PyAVSource, Source, SourceRequest, frame_size


def split_query(url: str) -> tuple[str, dict[str, str]]:
    """``"testsrc:?size=640x480&live=1"`` -> ``("testsrc:", {"size": "640x480", "live": "1"})``."""
    base, _, query = url.partition("?")
    return base, dict(parse_qsl(query))


def query_seconds(url: str, query: dict[str, str], key: str) -> float | None:
    """The ``key=SECONDS`` parameter of ``url`` as a finite number > 0 (``None`` when absent); anything
    else is a ``SourceError`` saying what to write."""
    if key not in query:
        return None
    try:
        seconds = float(query[key])
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        base = url.partition("?")[0]
        raise SourceError(f"{url}: {key}={query[key]!r} is not a number of seconds > 0",
                          f"e.g. {base}?{key}=10")
    return seconds


class FileSource(PyAVSource):
    """A video file (any container FFmpeg reads). Read in order; nothing is dropped."""

    name = "file"
    schemes = ("file",)

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        path = Path(url.removeprefix("file://"))
        if path.is_dir():
            raise SourceError(f"input {path} is a folder, not a video file", "give one video file inside it")
        if not path.is_file():
            raise SourceError(f"input file not found: {path}", "check the path, or use demo: for the built-in demo")
        return cls(str(path), None, dict(request.extra), False, request, str(path))


class URLSource(PyAVSource):
    """A network stream. rtsp/rtmp/srt/udp/tcp are live (stale frames dropped); http(s) is read like a file
    unless ``?live=1`` is added."""

    name = "url"
    schemes = ("rtsp", "rtmp", "srt", "udp", "tcp", "http", "https")

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        scheme = urlsplit(url).scheme
        live = scheme not in ("http", "https") or "live=1" in url
        options = {"rtsp_transport": "tcp"} if scheme == "rtsp" else {}
        options.update(request.extra)
        return cls(url, None, options, live, request, url)


class CameraSource(PyAVSource):
    """A capture device: ``v4l2:///dev/video0`` (Linux), ``avfoundation:0`` (macOS), ``dshow:video=NAME``
    (Windows). Size, rate and pixel format are asked of the device itself."""

    name = "camera"
    schemes = ("v4l2", "avfoundation", "dshow")

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        fmt, _, device = url.partition(":")
        device = device.removeprefix("//") if fmt == "v4l2" else device
        if fmt == "v4l2" and not sys.platform.startswith("linux"):
            raise SourceError("v4l2 cameras exist only on Linux", "use avfoundation:0 (macOS) or dshow:video=NAME")
        if fmt == "v4l2" and not Path(device).exists():
            raise SourceError(f"camera {device} does not exist",
                              "plug in a camera or pick another: `edgefx doctor` lists /dev/video* devices")
        options = {}
        if request.width and request.height:
            options["video_size"] = f"{request.width}x{request.height}"
        if request.fps:
            options["framerate"] = f"{request.fps:g}"
        if request.pixel_format:
            options["input_format" if fmt == "v4l2" else "pixel_format"] = request.pixel_format
        options.update(request.extra)
        return cls(device, fmt, options, True, request, url)


class TestPatternSource(PyAVSource):
    """FFmpeg's ``testsrc2`` pattern through lavfi: ``testsrc:?size=1280x720&rate=30&duration=5``.
    Without ``duration`` it plays until stopped, like a camera (Ctrl-C, or ``--max-frames``).
    ``audio=1`` adds a 440 Hz tone; ``live=1`` paces it to real time like a camera."""

    name = "testsrc"
    schemes = ("testsrc",)

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        _, q = split_query(url)
        size = q.get("size") or "{}x{}".format(*frame_size(request.width, request.height, (1280, 720)))
        rate = q.get("rate") or (f"{request.fps:g}" if request.fps else "30")
        seconds = query_seconds(url, q, "duration")
        duration = "" if seconds is None else f":duration={seconds:g}"
        live = q.get("live") == "1"
        graph = f"testsrc2=size={size}:rate={rate}{duration}" + (",realtime" if live else "")
        if q.get("audio") == "1":
            graph = f"{graph}[out0];sine=frequency=440:sample_rate=48000{duration}" + (
                ",arealtime" if live else "") + "[out1]"
        plain = dataclasses.replace(request, width=0, height=0, fps=0.0, pixel_format="")
        return cls(graph, "lavfi", {}, live, plain, url)
