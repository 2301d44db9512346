"""Sinks: where processed frames go. The interface is small so that files, streams,
virtual cameras and previews all fit: ``open`` once with the stream info, ``write``
each frame, ``write_audio`` each audio frame, ``close`` once (must leave a playable output)."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import av
import av.error
import cv2
import numpy as np

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.encoder_levels import AdaptiveEncoder
from edgefx.io.info import StreamInfo
from edgefx.io.picture import encoder_frame
from edgefx.io.recording import FRAGMENTED, MARK, DiskSync, defragment, kept_frames, muxer_options
from edgefx.io.timestamps import OutputClock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Templates:
    """The streams of an encoder shared by several outputs, to copy (``add_stream_from_template``)."""

    video: av.VideoStream
    audio: av.AudioStream | None


@dataclass(frozen=True, slots=True)
class SinkRequest:
    """Encoder settings asked for by the user. ``bitrate`` in kbit/s (0 = quality-based ``crf``)."""

    codec: str = "libx264"
    preset: str = "veryfast"
    crf: int = 23
    bitrate: int = 0
    gop_seconds: float = 2.0
    extra: Mapping[str, str] = field(default_factory=dict)
    threads: int = 0
    """Encoder threads (0 = the encoder's own choice)."""
    budget_ms: float = 0.0
    """The frame budget an encoding output's x264 speed level follows (0: the preset stays;
    ``edgefx.io.encoder_levels``)."""


class Sink:
    """Base class of outputs."""

    name: ClassVar[str]
    schemes: ClassVar[tuple[str, ...]]
    realtime: ClassVar[bool] = False
    """Watched as it arrives (a stream, a camera, a preview): a file or demo input is paced to its
    frame rate by default (``[run] realtime = "auto"``, see ``edgefx.io.pacing``)."""
    frames_written: int = 0
    output_thread: ClassVar[bool] = False
    """Worth its own output thread (it converts and encodes): with ``[run] overlap`` the runner
    wraps it in ``edgefx.io.output_stage.OutputStage``."""

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        """Open ``target`` for a stream described by ``info`` or raise ``SinkError``."""
        raise NotImplementedError

    def write(self, frame: Frame) -> None:
        """Consume one processed frame. Must not keep a reference to ``frame.image``."""
        raise NotImplementedError

    def write_audio(self, frame: av.AudioFrame) -> None:
        """Consume one audio frame (in its own time base); default: drop it."""

    def close(self) -> None:
        """Flush and finish the output so it plays."""

    def stats(self) -> dict[str, Any]:
        """What the output itself counted (e.g. a stream's drops and reconnects) for the run summary."""
        return {"frames_written": self.frames_written}


class NullSink(Sink):
    """``null``: discards frames (benchmarks, ``analyze``)."""

    name = "null"
    schemes = ("null",)

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        return cls()

    def write(self, frame: Frame) -> None:
        self.frames_written += 1


class EncodingSink(Sink):
    """Encodes H.264 (+ AAC when the input has audio) into any FFmpeg muxer.

    pts and time base come from the source, so audio stays in sync and dropped live
    frames leave honest gaps. They are counted from ``origin`` (the media time of the first item
    written, unless a subclass sets it first), so an output starts at 0 even when its input does
    not (a camera's device clock, a file with a start offset). Subclasses only choose the
    container and its options.
    """

    name = "encoder"
    schemes = ()
    output_thread = True

    def __init__(self, url: str, fmt: str | None, info: StreamInfo, request: SinkRequest,
                 container_options: dict[str, str], label: str, shared: Templates | None = None) -> None:
        self.label = label
        self.info = info
        try:
            self.container = av.open(url, mode="w", format=fmt, options=container_options)
        except (av.error.FFmpegError, OSError) as exc:
            raise SinkError(f"cannot open output {label}: {exc}", "check the folder exists and is writable") from None
        self.shared = shared
        """Streams of an encoder shared with other outputs (``edgefx.io.outputs``): this output
        then encodes nothing and takes packets (``write_packet``)."""
        self.audio: av.AudioStream | None = None
        self.encoder: AdaptiveEncoder | None = None
        """The video encoder (``None`` for a shared encoder's output)."""
        if shared is not None:
            self.video = self.container.add_stream_from_template(shared.video)
            if shared.audio is not None:
                self.audio = self.container.add_stream_from_template(shared.audio)
        else:
            self.video = self._add_video(request)
            if info.audio is not None:
                self.audio = self.container.add_stream("aac", rate=info.audio.sample_rate, layout=info.audio.layout)
        self.clock = OutputClock(self.info.time_base)
        """Counts pts from the first item written (see ``edgefx.io.timestamps``)."""

    def _add_video(self, request: SinkRequest) -> av.VideoStream:
        try:
            stream = self.container.add_stream(request.codec, rate=self.info.fps)
        except (av.error.FFmpegError, ValueError) as exc:
            self.container.close()
            raise encoder_missing(request.codec, exc) from None
        stream.time_base = self.info.time_base
        try:
            open_video_encoder(stream.codec_context, request, self.info)
        except SinkError:
            self.container.close()
            raise

        def open_level(options: Mapping[str, str]) -> av.VideoCodecContext:
            context = av.CodecContext.create(request.codec, "w")
            context.flags = stream.codec_context.flags  # global headers when the muxer asked for them
            level = dataclasses.replace(request, preset=options["preset"],
                                        extra={**request.extra, **{k: v for k, v in options.items() if k != "preset"}})
            open_video_encoder(context, level, self.info)
            return context

        self.encoder = AdaptiveEncoder(stream, request.codec, request.preset, request.extra, request.budget_ms,
                                       open_level)
        return stream

    @property
    def restamped(self) -> int:
        """Frames whose timestamp was not newer than the last one's and was moved just after it."""
        return self.clock.restamped

    def write(self, frame: Frame) -> None:
        assert self.encoder is not None, "an output of a shared encoder takes packets (write_packet)"
        t0 = time.perf_counter()
        pts = self.clock.video_pts(frame)
        vf = encoder_frame(frame.image, self.video.codec_context.pix_fmt)
        vf.pts, vf.time_base = pts, self.info.time_base
        self._mux(self.encoder.encode(vf, (time.perf_counter() - t0) * 1000.0))
        self.frames_written += 1

    def write_audio(self, frame: av.AudioFrame) -> None:
        if self.audio is None:
            return
        if not self.clock.shift_audio(frame):  # sound from before the output's start
            return
        self._mux(self.audio.encode(frame))

    def write_packet(self, kind: str, packet: av.Packet) -> None:
        """Mux a packet of the shared encoder (``kind`` ``video`` or ``audio``): a copy, since
        muxing takes the packet's data and the other outputs get the same packet."""
        copy = av.Packet(bytes(packet))
        copy.pts, copy.dts, copy.time_base, copy.is_keyframe = (packet.pts, packet.dts, packet.time_base,
                                                                 packet.is_keyframe)
        copy.stream = self.video if kind == "video" else self.audio
        self._mux([copy])
        if kind == "video":
            self.frames_written += 1

    def _mux(self, packets: list[av.Packet]) -> None:
        try:
            self.container.mux(packets)
        except (av.error.FFmpegError, OSError) as exc:
            raise SinkError(f"writing {self.label} failed: {getattr(exc, 'strerror', None) or exc}",
                            "check free disk space and the output path") from None

    def stats(self) -> dict[str, Any]:
        encoder = {"encoder": self.encoder.stats()} if self.encoder is not None else {}
        return {**super().stats(), "restamped": self.clock.restamped, **encoder}

    def close(self) -> None:
        try:
            if self.encoder is not None:  # a shared encoder is flushed by its owner
                self._mux(self.encoder.flush())
                if self.audio is not None:
                    self._mux(self.audio.encode(None))
        finally:
            try:
                self.container.close()
            except (av.error.FFmpegError, OSError) as exc:
                raise SinkError(f"finishing {self.label} failed: {exc}", "check free disk space") from None


class FileSink(EncodingSink):
    """A video file; the container follows the extension (.mp4, .mkv, .mov). Crash-safe (see
    ``edgefx.io.recording``): a SIGKILL, power cut or full disk loses about the last half second;
    a normal close (end of input, SIGINT/SIGTERM/SIGHUP, a broken input) leaves an ordinary file.
    When writing fails (a full disk) the file is finished at once and the error says how many
    frames it keeps."""

    name = "file"
    schemes = ("file",)
    extensions: ClassVar[dict[str, str]] = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska"}

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest, shared: Templates | None = None) -> Sink:
        path, fmt = cls.check_path(target)
        return cls(path, fmt, info, request, shared)

    @classmethod
    def check_path(cls, target: str) -> tuple[Path, str]:
        """The file and container format of ``target``, or ``SinkError`` saying what to write."""
        path = Path(target.removeprefix("file://"))
        fmt = cls.extensions.get(path.suffix.lower())
        if fmt is None:
            raise SinkError(f"unsupported output type {path.suffix or '(none)'} for {path}",
                            "use .mp4, .mkv or .mov, or null / preview")
        if not path.parent.exists():
            raise SinkError(f"output folder {path.parent} does not exist", f"create it: mkdir -p {path.parent}")
        return path, fmt

    def __init__(self, path: Path, fmt: str, info: StreamInfo, request: SinkRequest,
                 shared: Templates | None = None) -> None:
        super().__init__(str(path), fmt, info, request, muxer_options(fmt), str(path), shared)
        self.path, self.fmt = path, fmt
        self.container.metadata["comment"] = MARK
        self._sync: DiskSync | None = None
        self._broken = self._finished = False

    def _mux(self, packets: list[av.Packet]) -> None:
        if self._broken:
            return
        try:
            super()._mux(packets)
        except SinkError as failure:
            self._broken = True
            raise self._finish_broken(failure) from None
        if self._sync is None and packets and not self._finished:  # the first packet creates the file
            self._sync = DiskSync(self.path)

    def _finish_broken(self, failure: SinkError) -> SinkError:
        """Close what was written after a write failed; the error says what the file kept."""
        with contextlib.suppress(av.error.FFmpegError, OSError):
            self.container.close()
        self._stop_sync()
        kept = kept_frames(self.path)
        what = (f"{self.path} keeps the first {kept.frames} of them ({kept.seconds:.1f} s) and plays" if kept.frames
                else f"{self.path} holds no frame")
        return SinkError(f"{failure.message}, after {self.frames_written} frames; {what}",
                         "check free disk space (df -h), then record again; that file is not touched")

    def _stop_sync(self) -> None:
        if self._sync is not None:
            self._sync.close()
            self._sync = None
        self._finished = True

    def close(self) -> None:
        if self._broken:  # already finished and reported by the write that failed
            return
        try:
            super().close()
        except SinkError as failure:
            if self._broken:  # a flushed packet failed: _mux finished the file and counted it
                raise
            self._broken = True
            raise self._finish_broken(failure) from None
        self._stop_sync()
        if self.fmt in FRAGMENTED:
            defragment(self.path, self.fmt)


def open_video_encoder(ctx: av.VideoCodecContext, request: SinkRequest, info: StreamInfo) -> None:
    """Set up ``ctx`` (size, 4:2:0, time base, keyframe interval, bitrate or x264 quality and speed)
    and open it now, so an encoder that cannot start fails before the first frame (``SinkError``)."""
    ctx.width, ctx.height, ctx.pix_fmt = info.width, info.height, "yuv420p"
    ctx.time_base = info.time_base
    ctx.gop_size = max(1, round(request.gop_seconds * float(info.fps)))
    if request.threads:
        ctx.thread_count = request.threads
    options = {"preset": request.preset, "tune": "zerolatency"} if request.codec == "libx264" else {}
    if request.bitrate:
        ctx.bit_rate = request.bitrate * 1000
    elif request.codec == "libx264":
        options["crf"] = str(request.crf)
    ctx.options = {**options, **request.extra}
    try:
        ctx.open()
    except (av.error.FFmpegError, ValueError) as exc:
        raise SinkError(f"encoder {request.codec} could not start at {info.width}x{info.height}: {exc}",
                        _encoder_hint(request.codec)) from None


def encoder_missing(codec: str, exc: Exception) -> SinkError:
    """The error for an encoder this FFmpeg (or this container) does not have."""
    return SinkError(f"encoder {codec} is not available: {exc}",
                     "pick another codec, e.g. --set output.codec=libx264 (`ffmpeg -encoders` lists them; "
                     "PyAV uses its own FFmpeg)")


def _encoder_hint(codec: str) -> str:
    """What to do when ``codec`` does not open."""
    if "v4l2m2m" in codec:
        return ("a hardware encoder needs its device (on a Pi 4: /dev/video11, Raspberry Pi OS); "
                "without it use --set output.codec=libx264")
    return "check output.bitrate and output.preset, or use --set output.codec=libx264"


def write_image(path: str | Path, image: np.ndarray, params: Sequence[int] = ()) -> Path:
    """Write ``image`` (uint8 grey, BGR or BGRA) to ``path`` in the format its suffix names (``.png``,
    ``.jpg``), creating the folder; returns the path. Raises ``SinkError`` when the file cannot be
    written (``cv2.imwrite`` reports no write errors: on a full disk it returns True)."""
    path = Path(path)
    ok, encoded = cv2.imencode(path.suffix, image, list(params))
    if not ok:
        raise SinkError(f"cannot encode {path.name} as {path.suffix}", "use a .png or .jpg name")
    return write_file(path, encoded.tobytes())


def write_file(path: str | Path, data: bytes, what: str = "") -> Path:
    """Write ``data`` to ``path``, creating the folder; returns the path. A failure (a full disk, a
    read-only folder) is a ``SinkError`` naming ``what`` the file is and the path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise SinkError(f"cannot write {what}{path}: {exc.strerror}",
                        "check free disk space and that the folder is writable") from None
    return path
