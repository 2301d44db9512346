"""Network outputs: ``rtmp://`` (FLV) and ``srt://`` / ``udp://`` (MPEG-TS), H.264 + AAC.

The loop never waits for the network. ``write`` copies the frame into a bounded queue
(the oldest item is dropped and counted when it is full) and a sender thread owns the
encoder and the connection. When the network fails the sender logs it, closes the
connection and reconnects with exponential backoff (0.5 s doubling to 10 s) while capture
and effects go on; each new connection starts on a keyframe with the newest frame, its
timestamps rebased to 0, so a server sees an ordinary new publish.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import ClassVar
from urllib.parse import urlsplit

import av
import av.error
import numpy as np

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.sink import EncodingSink, Sink, SinkRequest

log = logging.getLogger(__name__)

FORMATS = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts", "udp": "mpegts"}
DEFAULT_BITRATE = 2500
"""kbit/s when ``[output] bitrate`` is 0: a stream needs a rate the uplink can carry."""
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0
NETWORK_ERRORS = (SinkError, av.error.FFmpegError, OSError)

Item = Frame | av.AudioFrame


@functools.cache
def output_protocols() -> frozenset[str] | None:
    """The output protocols of the FFmpeg that PyAV loaded (``avio_enum_protocols``); ``None``
    when its libavformat cannot be found in this process (then nothing is checked up front)."""
    maps = Path("/proc/self/maps")
    libs = [p for p in (maps.read_text().split() if maps.exists() else []) if "libavformat" in Path(p).name]
    if not libs:
        return None
    enum = ctypes.CDLL(libs[0]).avio_enum_protocols
    enum.restype, enum.argtypes = ctypes.c_char_p, [ctypes.POINTER(ctypes.c_void_p), ctypes.c_int]
    opaque, names = ctypes.c_void_p(), set()
    while (name := enum(ctypes.byref(opaque), 1)) is not None:
        names.add(name.decode())
    return frozenset(names)


def low_latency(request: SinkRequest) -> SinkRequest:
    """x264 for live streaming: zerolatency, at most ``veryfast``, no B-frames, capped bitrate."""
    kbps = request.bitrate or DEFAULT_BITRATE
    preset = request.preset if request.preset in ("ultrafast", "superfast", "veryfast") else "veryfast"
    extra = {"bf": "0", "maxrate": f"{kbps}k", "bufsize": f"{kbps}k", **request.extra}
    return dataclasses.replace(request, preset=preset, bitrate=kbps, extra=extra)


class Connection(EncodingSink):
    """One connection: its own container and encoders, timestamps counted from ``start`` (s)."""

    def __init__(self, url: str, fmt: str, info: StreamInfo, request: SinkRequest, start: float) -> None:
        options = {"rw_timeout": "5000000"} if fmt == "flv" else {}
        super().__init__(url, fmt, info, request, options, url)
        self.start = start

    def send(self, item: Item) -> None:
        """Encode and mux one item; raises one of ``NETWORK_ERRORS`` when the network fails."""
        if isinstance(item, Frame):
            pts = round((item.time - self.start) / self.info.time_base)
            self.write(Frame(item.image, pts, self.info.time_base, item.index))
        elif item.pts is not None and item.time_base is not None:
            item.pts -= round(self.start / item.time_base)
            if item.pts >= 0:
                self.write_audio(item)

    def abort(self) -> None:
        """Drop a broken connection without flushing into it."""
        with contextlib.suppress(*NETWORK_ERRORS):
            self.container.close()


class StreamSink(Sink):
    """``rtmp://host/app/key``, ``srt://host:port``, ``udp://host:port``: live H.264 (+ AAC) out.

    Attributes for the stats API and tests: ``dropped`` (video frames dropped from the full queue
    or while offline; audio is dropped with them), ``reconnects``, ``max_queued`` (never above
    ``queue_size``), ``connected``.
    """

    name = "stream"
    schemes: ClassVar[tuple[str, ...]] = tuple(FORMATS)

    def __init__(self, url: str, info: StreamInfo, request: SinkRequest, queue_size: int = 0) -> None:
        self.url, self.info, self.request = url, info, low_latency(request)
        self.fmt = FORMATS[urlsplit(url).scheme.lower()]
        self.queue_size = queue_size or max(4, round(float(info.fps)))
        self.dropped = self.reconnects = self.max_queued = 0
        self.connected = False
        self._queue: deque[Item] = deque()
        self._free: list[np.ndarray] = []
        """Frame buffers back from the sender: reusing them spares the loop a fresh allocation
        (page faults) per frame, which showed as p99 spikes of the copy."""
        self._cond = threading.Condition()
        self._closing = False
        self._thread = threading.Thread(target=self._send_loop, name=f"stream {self.fmt}", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        parts = urlsplit(target)
        if not parts.hostname:
            raise SinkError(f"stream URL {target!r} has no host",
                            "write e.g. rtmp://127.0.0.1/live/key, srt://host:9000 or udp://host:1234")
        if parts.scheme.lower() in ("srt", "udp") and not parts.port:
            raise SinkError(f"stream URL {target!r} has no port", f"write {parts.scheme}://{parts.hostname}:PORT")
        protocols = output_protocols()
        if protocols is not None and parts.scheme.lower() not in protocols:
            raise SinkError(f"the FFmpeg that PyAV uses cannot write {parts.scheme}:// (built without it; "
                            f"it writes {', '.join(p for p in sorted(protocols) if p in ('rtmp', 'srt', 'udp'))})",
                            "use udp://HOST:PORT (same MPEG-TS stream) or rtmp://, or install PyAV on a system "
                            "FFmpeg that has it: pip install av --no-binary av")
        if parts.scheme.lower() == "udp" and "pkt_size" not in parts.query:
            target += ("&" if parts.query else "?") + "pkt_size=1316"  # 7 TS packets: no IP fragmentation
        return cls(target, info, request)

    # -- loop thread -------------------------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        with self._cond:
            buffer = self._free.pop() if self._free else None
        if buffer is None or buffer.shape != frame.image.shape:
            buffer = np.empty_like(frame.image)
        np.copyto(buffer, frame.image)
        self._put(Frame(buffer, frame.pts, frame.time_base, frame.index))

    def write_audio(self, frame: av.AudioFrame) -> None:
        if self.info.audio is not None:
            self._put(frame)

    def _put(self, item: Item) -> None:
        with self._cond:
            if len(self._queue) >= self.queue_size:
                self._drop(self._queue.popleft())
            self._queue.append(item)
            self.max_queued = max(self.max_queued, len(self._queue))
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join(timeout=15.0)
        log.info("stream %s: %d frames sent, %d dropped, %d reconnects, queue peak %d of %d", self.url,
                 self.frames_written, self.dropped, self.reconnects, self.max_queued, self.queue_size)

    # -- sender thread -----------------------------------------------------------------------------
    def _send_loop(self) -> None:
        conn: Connection | None = None
        backoff = BACKOFF_FIRST
        while True:
            item = self._take(fresh=conn is None)
            if item is None:
                break
            try:
                if conn is None:
                    conn = Connection(self.url, self.fmt, self.info, self.request, item.time)
                conn.send(item)
            except Exception as exc:  # network or anything else: the sender must not die silently
                self._drop(item)
                backoff = self._lost(conn, exc, backoff)
                conn = None
                continue
            self._recycle(item)
            if not self.connected:
                self.connected, backoff = True, BACKOFF_FIRST
                if self.frames_written == 0:
                    log.info("stream %s: connected", self.url)
                else:
                    self.reconnects += 1
                    log.warning("stream %s: reconnected (reconnect %d, %d frames dropped so far)",
                                self.url, self.reconnects, self.dropped)
            self.frames_written += isinstance(item, Frame)
        if conn is not None:
            try:
                conn.close()
            except NETWORK_ERRORS as exc:
                log.warning("stream %s: closing failed: %s", self.url, getattr(exc, "message", exc))

    def _take(self, fresh: bool) -> Frame | av.AudioFrame | None:
        """The next item; with ``fresh`` (a new connection) the newest video frame, older items
        dropped, so a connection starts on a keyframe of the present. ``None`` when closing."""
        with self._cond:
            while True:
                if fresh:
                    newest = max((i for i, x in enumerate(self._queue) if isinstance(x, Frame)), default=-1)
                    for _ in range(newest if newest >= 0 else len(self._queue)):
                        self._drop(self._queue.popleft())
                if self._queue:
                    return self._queue.popleft()
                if self._closing:
                    return None
                self._cond.wait()

    def _drop(self, item: Item) -> None:
        self.dropped += isinstance(item, Frame)
        self._recycle(item)

    def _recycle(self, item: Item) -> None:
        """Give a sent or dropped frame's buffer back to ``write`` (the encoder copied it)."""
        if isinstance(item, Frame):
            with self._cond:
                if len(self._free) < self.queue_size + 2:
                    self._free.append(item.image)

    def _lost(self, conn: Connection | None, exc: Exception, backoff: float) -> float:
        """Log a failed send or connect, close, wait ``backoff`` (unless closing); the next backoff."""
        if conn is not None:
            conn.abort()
        what = "connection lost" if self.connected else "cannot connect"
        self.connected = False
        reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.warning("stream %s: %s: %s; retrying in %.1f s (%d frames dropped so far)", self.url, what,
                    reason, backoff, self.dropped)
        deadline = time.monotonic() + backoff
        with self._cond:
            while not self._closing and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            while self._closing and self._queue:
                self._drop(self._queue.popleft())
        return min(backoff * 2, BACKOFF_MAX)
