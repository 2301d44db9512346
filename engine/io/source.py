"""Sources: where frames come from. One PyAV decode thread per input.

A file is read in order with a small bounded queue (nothing dropped). A live
input (camera, network stream, paced test pattern) never builds a queue: the
decode thread keeps only the newest video frame and counts what it replaced;
audio is never dropped. The single conversion to a BGR array happens once per
frame that the loop actually takes.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, ClassVar

import av
import av.error
import cv2

from edgefx.errors import SourceError
from edgefx.frame import Frame
from edgefx.io.info import AudioInfo, StreamInfo
from edgefx.io.timestamps import FILE_WINDOW, Restamp
from edgefx.vision.change import ChangeMeter, plane_thumbnail

log = logging.getLogger(__name__)

Item = Frame | av.AudioFrame
_END = object()


def frame_size(width: int, height: int, native: tuple[int, int]) -> tuple[int, int]:
    """The size frames are delivered at: ``width`` x ``height`` as asked (0 = not asked), a side not
    asked for follows the ``native`` (input's) aspect ratio, and both are rounded down to even
    numbers (H.264's 4:2:0 pictures, files and streams alike, need even sizes).

    >>> frame_size(640, 0, (1280, 720)), frame_size(0, 0, (1081, 1351))
    ((640, 360), (1080, 1350))
    """
    native_w, native_h = native
    if width and not height:
        height = round(width * native_h / native_w)
    elif height and not width:
        width = round(height * native_w / native_h)
    elif not width:
        width, height = native_w, native_h
    return max(2, width - width % 2), max(2, height - height % 2)


@dataclass(frozen=True, slots=True)
class SourceRequest:
    """What the user asked of an input: size, rate and camera pixel format (0/None = as is)."""

    width: int = 0
    height: int = 0
    fps: float = 0.0
    pixel_format: str = ""
    audio: bool = True
    extra: Mapping[str, str] = field(default_factory=dict)
    threads: int = 0
    """Decode threads: 0 = a decode thread beside the loop, with FFmpeg's own threading; 1 = decode a
    file on the loop's own thread, single-threaded (a batch worker, where the workers are the
    parallelism and one worker must use one core)."""


class Source:
    """Base class of inputs. Iterate to get ``Frame`` objects and ``av.AudioFrame`` objects
    in media order; ``info`` is known before the first item; ``dropped`` counts video
    frames skipped because the loop was behind (live inputs only); ``restamped`` counts video
    frames whose timestamp was moved because the input's were out of order or repeated."""

    name: ClassVar[str]
    schemes: ClassVar[tuple[str, ...]]
    info: StreamInfo
    dropped: int = 0
    restamped: int = 0

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        """Open ``url`` (its scheme is one of ``schemes``) or raise ``SourceError``."""
        raise NotImplementedError

    def __iter__(self) -> Iterator[Item]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop reading and release the input."""


class WrappedSource(Source):
    """A source that hands on another source's items, changed (pacing, a second audio input):
    its ``info``, ``dropped`` and ``restamped`` are the wrapped source's, and closing it closes that."""

    schemes = ()

    def __init__(self, source: Source) -> None:
        self.source = source
        self.info = source.info

    @property
    def dropped(self) -> int:  # type: ignore[override]
        return self.source.dropped

    @property
    def restamped(self) -> int:  # type: ignore[override]
        return self.source.restamped

    def close(self) -> None:
        self.source.close()


class PyAVSource(Source):
    """Any input FFmpeg can open: decoded on a worker thread, converted once to BGR."""

    name = "pyav"
    schemes = ()

    def __init__(self, url: str, fmt: str | None, options: dict[str, str], live: bool,
                 request: SourceRequest, label: str) -> None:
        self.label = label
        self.live = live
        self.request = request
        self.error: SourceError | None = None
        self.corrupt_packets = 0
        try:
            self.container = av.open(url, format=fmt, options=options, timeout=(10.0, 5.0))
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceError(f"cannot open input {label}: {exc}", _open_hint(label, fmt)) from None
        if not self.container.streams.video:
            self.container.close()
            raise SourceError(f"input {label} has no video stream", "give a video file, camera or stream")
        self.video = self.container.streams.video[0]
        # frame threads hold one frame each before the first comes out: a live input decodes in slices
        self.video.thread_type = "SLICE" if live else "AUTO"
        self.inline = request.threads == 1 and not live
        """Decoded on the consumer's thread (``threads = 1`` on a file), with no decode thread."""
        if self.inline:
            self.video.codec_context.thread_count = 1
        self.quarter_turns = 0 if live else _quarter_turns(url, fmt, options)
        """Counterclockwise quarter turns that show the picture upright (a phone clip's display matrix)."""
        self.audio = self.container.streams.audio[0] if (request.audio and self.container.streams.audio) else None
        self.info = self._stream_info()
        upright = (self.info.width, self.info.height)
        self._scale_to = upright[::-1] if self.quarter_turns % 2 else upright
        """Size each picture is scaled to before it is turned (the coded orientation)."""
        self._stop = threading.Event()
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=8)
        self._latest: tuple[av.VideoFrame, int, float | None] | None = None
        self._meter = ChangeMeter()
        self._audio_pending: list[av.AudioFrame] = []
        self._cond = threading.Condition()
        self._ended = False
        self._count = 0
        self.last_time = 0.0
        self.restamp = Restamp(0 if live else FILE_WINDOW)
        """Puts out-of-order or repeated decoded timestamps right (``restamp.restamped`` counts them)."""
        self._thread = threading.Thread(target=self._decode, name=f"decode:{label}", daemon=True)
        if not self.inline:
            self._thread.start()

    @property
    def restamped(self) -> int:
        return self.restamp.restamped

    def _stream_info(self) -> StreamInfo:
        v = self.video
        fps = v.average_rate or v.guessed_rate or Fraction(30)
        coded = (v.codec_context.width, v.codec_context.height)
        width, height = frame_size(self.request.width, self.request.height,
                                   coded[::-1] if self.quarter_turns % 2 else coded)
        audio = None
        if self.audio is not None:
            a = self.audio.codec_context
            audio = AudioInfo(a.sample_rate, a.layout.nb_channels, a.layout.name, self.audio.time_base)
        frames = v.frames or None
        if frames is None and v.duration and v.time_base:
            frames = int(float(v.duration * v.time_base) * float(fps)) or None
        return StreamInfo(width, height, Fraction(fps), v.time_base or Fraction(1, 1000), self.live,
                          audio, frames, self.label)

    # -- decoding --------------------------------------------------------------------------
    def _decoded(self) -> Iterator[av.VideoFrame | av.AudioFrame]:
        """Every decoded picture (in display order) and audio frame, in media order; a failing
        input ends it and leaves the reason in ``error``."""
        streams = [s for s in (self.video, self.audio) if s is not None]
        restamp = self.restamp
        try:
            for packet in self.container.demux(streams):
                if self._stop.is_set():
                    break
                try:
                    decoded = packet.decode()
                except av.error.InvalidDataError:
                    self.corrupt_packets += 1
                    continue
                for item in decoded:
                    if isinstance(item, av.VideoFrame):
                        yield from restamp.push(item)
                    else:
                        yield item
        except (av.error.FFmpegError, OSError) as exc:
            self.error = SourceError(
                f"input {self.label} stopped at {self.last_time:.2f} s: {exc}",
                "the input is corrupt, truncated or the stream dropped; "
                "the output keeps everything processed up to here",
            )
        else:
            self.error = self._truncation()
        yield from restamp.flush()

    def _decode(self) -> None:
        """The decode thread: hands each item to the loop."""
        try:
            for item in self._decoded():
                if isinstance(item, av.VideoFrame):
                    self._push_video(item)
                else:
                    self._push_audio(item)
        finally:
            self._finish()

    def _truncation(self) -> SourceError | None:
        """A file that ends well before the duration its header declares was cut short."""
        if self.live or self._stop.is_set():
            return None
        declared = None
        if self.video.duration and self.video.time_base:
            declared = float(self.video.duration * self.video.time_base)
        elif self.container.duration:
            declared = self.container.duration / av.time_base
        if declared is None or self.last_time + 0.5 + 1 / float(self.info.fps) >= declared:
            return None
        return SourceError(f"input {self.label} ended at {self.last_time:.2f} s of the {declared:.2f} s "
                           "its header declares: the file looks truncated",
                           "the output holds every frame that could be read; re-copy or re-record the input")

    def _numbered(self, vf: av.VideoFrame) -> tuple[int, float | None]:
        """The picture's index and its change from the previous one (on the decoding thread,
        before conversion: the loop only reads the number)."""
        index, self._count = self._count, self._count + 1
        thumb = plane_thumbnail(vf)
        return index, None if thumb is None else self._meter.update(thumb)

    def _push_video(self, vf: av.VideoFrame) -> None:
        index, change = self._numbered(vf)
        if self.live:
            with self._cond:
                if self._latest is not None:
                    self.dropped += 1
                    replaced = self._latest[2]
                    change = None if change is None or replaced is None else change + replaced
                self._latest = (vf, index, change)
                self._cond.notify()
        else:
            self._put(self._to_frame(vf, index, change))

    def _push_audio(self, af: av.AudioFrame) -> None:
        if self.live:
            with self._cond:
                self._audio_pending.append(af)
                self._cond.notify()
        else:
            self._put(af)

    def _put(self, item: Any) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _finish(self) -> None:
        if self.live:
            with self._cond:
                self._ended = True
                self._cond.notify()
        else:
            self._put(_END)

    def _to_frame(self, vf: av.VideoFrame, index: int, change: float | None) -> Frame:
        w, h = self._scale_to
        if vf.width != w or vf.height != h or vf.format.name != "bgr24":
            vf_bgr = vf.reformat(width=w, height=h, format="bgr24")
        else:
            vf_bgr = vf
        image = vf_bgr.to_ndarray()
        if self.quarter_turns:
            image = cv2.rotate(image, TURNS[self.quarter_turns])
        elif not image.flags.c_contiguous or not image.flags.writeable:
            image = image.copy()
        time_base = vf.time_base or self.info.time_base
        pts = vf.pts if vf.pts is not None else round(index / self.info.fps / time_base)
        frame = Frame(image, pts, time_base, index, change)
        self.last_time = frame.time
        return frame

    # -- consumer side ---------------------------------------------------------------------
    def __iter__(self) -> Iterator[Item]:
        return self._iter_live() if self.live else self._iter_file()

    def _iter_file(self) -> Iterator[Item]:
        if self.inline:
            for item in self._decoded():
                yield self._to_frame(item, *self._numbered(item)) if isinstance(item, av.VideoFrame) else item
            self._raise_if_failed()
            return
        while True:
            item = self._queue.get()
            if item is _END:
                break
            yield item
        self._raise_if_failed()

    def _iter_live(self) -> Iterator[Item]:
        while True:
            with self._cond:
                while self._latest is None and not self._audio_pending and not self._ended:
                    self._cond.wait()
                audio, self._audio_pending = self._audio_pending, []
                video, self._latest = self._latest, None
                ended = self._ended
            yield from audio
            if video is not None:
                yield self._to_frame(*video)
            elif ended:
                break
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self.corrupt_packets:
            log.warning("input %s: skipped %d corrupt packets", self.label, self.corrupt_packets)
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        self.container.close()


TURNS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}
"""OpenCV's rotation for each number of counterclockwise quarter turns."""


def _quarter_turns(url: str, fmt: str | None, options: dict[str, str]) -> int:
    """Counterclockwise quarter turns (0-3) the first frame's display matrix asks for, as FFmpeg's own
    player applies them: phones record portrait clips as landscape pictures plus this rotation."""
    try:
        with av.open(url, format=fmt, options=options, timeout=(10.0, 5.0)) as probe:
            for frame in probe.decode(video=0):
                return round(frame.rotation / 90) % 4
    except (av.error.FFmpegError, OSError):
        pass  # the real open already worked; a failing probe only means no rotation is known
    return 0


def _open_hint(label: str, fmt: str | None) -> str:
    if fmt in ("v4l2", "avfoundation", "dshow"):
        return "check the camera is connected and not used by another program; `edgefx doctor` lists devices"
    if "://" in label:
        return "check the URL and that the stream is up; `ffprobe URL` shows what FFmpeg sees"
    return "check the path; the file must be a video FFmpeg can read (try `ffprobe FILE`)"
