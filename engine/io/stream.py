"""Network outputs: ``rtmp://`` (FLV) and ``srt://`` / ``udp://`` (MPEG-TS), H.264 + AAC.

A live input never waits for the network. ``write`` copies the frame into a slot of shared
memory and queues it (bounded to about 0.1 s of frames: the oldest item is dropped and counted
when it is full). A file
or demo input (paced to real time, see ``edgefx.io.pacing``) waits for room instead: nothing is
gained by dropping what can be read again a moment later. A
sender *process* owns the encoder and the connection: PyAV holds the GIL while it opens a
connection (``avio_open``, RTMP handshake), so a server that accepts and never answers, or
a host that drops packets, would freeze a sender thread's whole process, loop included.

When the network fails the sender reports it (the log says so), closes the connection and
reconnects with exponential backoff (0.5 s doubling to 10 s) while capture and effects go
on. A sender that does not answer for ``stall_seconds`` is killed and started again. Each
new connection starts on a keyframe with a current frame, timestamps rebased to 0, so a
server sees an ordinary new publish.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import functools
import io
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass
from fractions import Fraction
from multiprocessing.connection import Connection as Pipe
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

import av
import av.error
import numpy as np

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.sink import EncodingSink, Sink, SinkRequest, encoder_missing, open_video_encoder

log = logging.getLogger(__name__)

FORMATS = {"rtmp": "flv", "rtmps": "flv", "srt": "mpegts", "udp": "mpegts"}
DEFAULT_BITRATE = 2500
"""kbit/s when ``[output] bitrate`` is 0: a stream needs a rate the uplink can carry."""
BACKOFF_FIRST, BACKOFF_MAX = 0.5, 10.0
NETWORK_ERRORS = (SinkError, av.error.FFmpegError, OSError)
IN_FLIGHT = 2
"""Items handed to the sender process and not yet acknowledged."""
CLOSE_GRACE = 5.0
"""Seconds the sender gets to send what is queued and finish the stream when the output closes."""


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
        super().__init__(url, fmt, info, request, {}, url)
        self.origin = start

    def send(self, item: Frame | av.AudioFrame) -> None:
        """Encode and mux one item; raises one of ``NETWORK_ERRORS`` when the network fails."""
        if isinstance(item, Frame):
            self.write(item)
        else:
            self.write_audio(item)

    def abort(self) -> None:
        """Drop a broken connection without flushing into it."""
        with contextlib.suppress(*NETWORK_ERRORS):
            self.container.close()


@dataclass(frozen=True, slots=True)
class SenderSpec:
    """What the sender process needs: where to send, the stream, the encoder, the frame slots."""

    url: str
    fmt: str
    info: StreamInfo
    request: SinkRequest
    memory: str
    """File (in /dev/shm where there is one) holding ``slots`` frames, mapped by both processes."""
    slots: int
    header: bytes = b""
    """Relay mode (``edgefx.io.outputs``): an FLV header carrying the shared encoder's streams;
    the sender muxes packets encoded in the engine and encodes nothing itself."""
    extradata: bytes = b""
    """Relay mode: the video encoder's own extradata (Annex B parameter sets, like its packets;
    FLV's header holds them converted, which would make the muxer take the packets as converted too)."""

    def frames(self, mode: str) -> np.memmap:
        return np.memmap(self.memory, np.uint8, mode, shape=(self.slots, self.info.height, self.info.width, 3))


def audio_message(frame: av.AudioFrame) -> tuple[Any, ...]:
    """An audio frame as plain data for the pipe."""
    tb = frame.time_base or Fraction(1, frame.sample_rate)
    return ("audio", frame.to_ndarray(), frame.format.name, frame.layout.name, frame.sample_rate, frame.pts,
            tb.numerator, tb.denominator)


def reconnect_text(stats: dict[str, Any]) -> str:
    """``N reconnects`` of a stream's ``stats()``, or for UDP why there is no such count."""
    if stats.get("connectionless"):
        return "udp has no connection: a receiver that restarts gets the stream again without a reconnect"
    return f"{stats['reconnects']} reconnects"


def audio_frame(message: tuple[Any, ...]) -> av.AudioFrame:
    _, samples, fmt, layout, rate, pts, num, den = message
    frame = av.AudioFrame.from_ndarray(samples, format=fmt, layout=layout)
    frame.sample_rate, frame.pts, frame.time_base = rate, pts, Fraction(num, den)
    return frame


class Relay:
    """One connection that muxes packets encoded in the engine (relay mode): no encoder here.
    Timestamps are counted from the first packet, a video keyframe."""

    def __init__(self, spec: SenderSpec) -> None:
        template = av.open(io.BytesIO(spec.header), format="flv")
        self.container = av.open(spec.url, mode="w", format=spec.fmt)
        self.streams = {"video": self.container.add_stream_from_template(template.streams.video[0])}
        ctx = self.streams["video"].codec_context
        ctx.width, ctx.height = spec.info.width, spec.info.height  # FLV's header does not keep the size
        ctx.extradata = spec.extradata
        if template.streams.audio:
            self.streams["audio"] = self.container.add_stream_from_template(template.streams.audio[0])
        self.origin: float | None = None

    def send(self, packet: av.Packet, kind: str) -> None:
        """Mux one packet (its time base set); raises one of ``NETWORK_ERRORS`` when the network fails."""
        assert packet.time_base is not None and packet.pts is not None
        if self.origin is None:
            self.origin = float(packet.pts * packet.time_base)
        shift = round(self.origin / packet.time_base)
        if packet.pts < shift or kind not in self.streams:  # sound from before the connection's start
            return
        packet.pts -= shift
        packet.dts = packet.pts if packet.dts is None else packet.dts - shift
        packet.stream = self.streams[kind]
        self.container.mux(packet)

    def abort(self) -> None:
        """Drop a broken connection without flushing into it."""
        with contextlib.suppress(*NETWORK_ERRORS):
            self.container.close()

    def close(self) -> None:
        self.container.close()


def packet_message(kind: str, packet: av.Packet) -> tuple[Any, ...]:
    """An encoded packet as plain data for the pipe."""
    tb = packet.time_base
    return ("packet", kind, bytes(packet), packet.pts, packet.dts, packet.is_keyframe, tb.numerator, tb.denominator)


def _packet(message: tuple[Any, ...]) -> av.Packet:
    _, _, data, pts, dts, key, num, den = message
    packet = av.Packet(data)
    packet.pts, packet.dts, packet.time_base, packet.is_keyframe = pts, dts, Fraction(num, den), key
    return packet


def _starts_stream(message: tuple[Any, ...]) -> bool:
    """A connection starts on a video frame (frame mode) or a video keyframe (relay mode)."""
    return message[0] == "video" or (message[0] == "packet" and message[1] == "video" and message[5])


def sender_main(pipe: Pipe, spec: SenderSpec) -> None:
    """The sender process: encode (or, in relay mode, only mux) and send what the pipe brings,
    acknowledge each item (``("ack", sent)``), report ``connected`` / ``lost``, reconnect with
    backoff; ``("closed", cpu_seconds)`` at the end."""
    frames = None if spec.header else spec.frames("r")
    cpu_at_start = time.process_time()  # the interpreter's start-up is not the output's cost
    pipe.send(("ready",))
    conn: Connection | Relay | None = None
    backoff, retry_at, connected = BACKOFF_FIRST, 0.0, False
    while (message := _receive(pipe))[0] != "close":
        if conn is None and (not _starts_stream(message) or time.monotonic() < retry_at):
            pipe.send(("ack", False))  # offline: drop until the retry is due, start on video
            continue
        try:
            if message[0] == "packet":
                if conn is None:
                    conn = Relay(spec)
                assert isinstance(conn, Relay)
                conn.send(_packet(message), message[1])
            else:
                assert frames is not None and not isinstance(conn, Relay)
                item = audio_frame(message) if message[0] == "audio" else \
                    Frame(frames[message[1]], round(message[2] * 1_000_000), Fraction(1, 1_000_000), message[3])
                if conn is None:
                    conn = Connection(spec.url, spec.fmt, spec.info, spec.request, item.time)
                conn.send(item)
        except Exception as exc:  # network or anything else: report, back off, reconnect
            if conn is not None:
                conn.abort()
            reason = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            pipe.send(("lost", "connection lost" if connected else "cannot connect", reason, backoff))
            conn, connected = None, False
            retry_at, backoff = time.monotonic() + backoff, min(backoff * 2, BACKOFF_MAX)
            pipe.send(("ack", False))
            continue
        if not connected:
            connected, backoff = True, BACKOFF_FIRST
            pipe.send(("connected",))
        pipe.send(("ack", True))
    with contextlib.suppress(OSError):
        if conn is not None:
            try:
                conn.close()
            except NETWORK_ERRORS as exc:
                pipe.send(("lost", "closing failed", getattr(exc, "message", str(exc)), 0.0))
        pipe.send(("closed", time.process_time() - cpu_at_start))


def serve(fd: int) -> None:
    """Entry point of the sender process: the first message on the socket ``fd`` is the spec."""
    pipe = Pipe(fd)
    spec = _receive(pipe)
    if isinstance(spec, SenderSpec):
        sender_main(pipe, spec)


def _receive(pipe: Pipe) -> Any:
    """The next message; the end of the pipe (the engine went away) counts as ``close``."""
    try:
        return pipe.recv()
    except EOFError:
        return ("close",)


@dataclass(slots=True)
class Video:
    """A queued frame: its shared-memory slot, media time (s) and index."""

    slot: int
    time: float
    index: int


@dataclass(slots=True)
class Encoded:
    """A queued packet of the shared encoder (relay mode): ``kind`` is ``video`` or ``audio``."""

    kind: str
    packet: av.Packet

    @property
    def keyframe(self) -> bool:
        return self.kind == "video" and self.packet.is_keyframe


Item = Video | av.AudioFrame | Encoded


class StreamSink(Sink):
    """``rtmp://host/app/key``, ``srt://host:port``, ``udp://host:port``: live H.264 (+ AAC) out.

    Attributes for the stats API and tests: ``dropped`` (video frames dropped from the full
    queue, while offline or with a stuck sender; audio is dropped with them), ``reconnects``,
    ``max_queued`` (never above ``queue_size``), ``connected``, ``restarts`` (stuck senders).

    Relay mode (``header`` given, see ``edgefx.io.outputs``): the engine encodes once for several
    outputs and hands this one packets (``write_packet``); the sender process only muxes them.
    A packet dropped here means the stream resumes on the next keyframe, which
    ``keyframe_wanted`` asks the shared encoder for. This mode never waits for room, also on a
    file input: a stream must never hold up the recording beside it.
    """

    name = "stream"
    schemes: ClassVar[tuple[str, ...]] = tuple(FORMATS)
    realtime = True
    output_thread = True
    stall_seconds: ClassVar[float] = 10.0
    """A sender holding an item this long is stuck in the network: it is killed and restarted."""

    def __init__(self, url: str, info: StreamInfo, request: SinkRequest, queue_size: int = 0,
                 header: bytes = b"", extradata: bytes = b"") -> None:
        self.url, self.info = url, info
        self.relay = bool(header)
        # live: at most ~0.1 s queued (a full queue is latency); a paced file waits instead of dropping;
        # relay mode: about 1 s of packets (video and audio; small), since a drop costs a keyframe
        self.queue_size = queue_size or (max(32, round(2.5 * float(info.fps))) if self.relay else
                                         max(2, round(float(info.fps) / 10)) if info.live
                                         else max(4, round(float(info.fps) / 2)))
        self.dropped = self.reconnects = self.max_queued = self.restarts = 0
        self.sender_cpu_s = 0.0
        """CPU seconds of the sender process (the last one, when it was restarted), known after ``close``."""
        self.connected = self._ever_connected = False
        self._keyframe_at: float | None = None
        slots = 0 if self.relay else self.queue_size + IN_FLIGHT + 1  # +1: the new frame's, before a drop
        memory = ""
        if not self.relay:
            shm = Path("/dev/shm")
            fd, memory = tempfile.mkstemp(prefix="edgefx-stream-", suffix=".frames",
                                          dir=shm if shm.is_dir() else None)
            os.close(fd)
        self._spec = SenderSpec(url, FORMATS[urlsplit(url).scheme.lower()], info, low_latency(request), memory,
                                slots, header, extradata)
        self._frames = None if self.relay else self._spec.frames("w+")
        self._free = list(range(slots))
        self._queue: deque[Item] = deque()
        self._in_flight: deque[tuple[Item, float]] = deque()
        self._cond = threading.Condition()
        self._closing = self._fresh = False
        self._process: subprocess.Popen | None = None
        self._pipe: Pipe | None = None
        self._ready = threading.Event()
        self._started_at = float("-inf")
        self._feeder = threading.Thread(target=self._feed, name=f"stream {self._spec.fmt}", daemon=True)
        self._feeder.start()
        self._ready.wait(10.0)  # the sender's interpreter starts (~0.5 s) before the first frame comes

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        target = cls.check_url(target)
        try:  # an encoder that cannot start would make every connection attempt fail: say so now
            encoder = av.CodecContext.create(request.codec, "w")
        except (av.error.FFmpegError, ValueError) as exc:
            raise encoder_missing(request.codec, exc) from None
        open_video_encoder(encoder, low_latency(request), info)
        return cls(target, info, request)

    @staticmethod
    def check_url(target: str) -> str:
        """``target`` checked (``SinkError`` saying what to write), with the options it needs added."""
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
        return target

    # -- loop thread -------------------------------------------------------------------------------
    def write(self, frame: Frame) -> None:
        assert self._frames is not None, "a relayed stream takes packets (write_packet)"
        with self._cond:
            slot = self._free.pop()  # one slot is always spare (see __init__), also with a full queue
        np.copyto(self._frames[slot], frame.image)
        self._put(Video(slot, frame.time, frame.index))

    def write_audio(self, frame: av.AudioFrame) -> None:
        if self.info.audio is not None:
            self._put(frame)

    def write_packet(self, kind: str, packet: av.Packet) -> None:
        """Relay mode: queue one packet of the shared encoder (``kind`` ``video`` or ``audio``)."""
        self._put(Encoded(kind, packet))

    def keyframe_wanted(self) -> bool:
        """Relay mode: True (once) when the stream waits for a keyframe to start or resume on."""
        if self._keyframe_at is None or time.monotonic() < self._keyframe_at:
            return False
        self._keyframe_at = None
        return True

    def _put(self, item: Item) -> None:
        """Queue ``item``; when the queue is full the oldest item is dropped (and counted), except
        that a non-live input first waits while the sender is working the queue down."""
        with self._cond:
            while (not self.info.live and not self.relay and len(self._queue) >= self.queue_size
                   and self._feeder.is_alive()):
                self._cond.wait(0.1)
            if len(self._queue) >= self.queue_size:
                self._drop(self._queue.popleft())
            self._queue.append(item)
            self.max_queued = max(self.max_queued, len(self._queue))
            self._cond.notify()

    def _drop(self, item: Item) -> None:
        """``item`` is not sent (caller holds ``_cond``): a frame is counted and its slot given
        back; after a video packet the stream can only go on from a keyframe."""
        if isinstance(item, Video):
            self.dropped += 1
            self._free.append(item.slot)
        elif isinstance(item, Encoded) and item.kind == "video":
            self.dropped += 1
            self._fresh = True
            if self.connected:  # offline, the retry asks for one ("lost")
                self._want_keyframe(0.0)

    def _want_keyframe(self, delay: float) -> None:
        if self.relay and self._keyframe_at is None:
            self._keyframe_at = time.monotonic() + delay

    def stats(self) -> dict[str, Any]:
        return {**super().stats(), "connected": self.connected, "dropped": self.dropped, "reconnects": self.reconnects,
                "restarts": self.restarts, "queue_peak": self.max_queued, "queue_size": self.queue_size,
                "connectionless": self.connectionless, "sender_cpu_s": round(self.sender_cpu_s, 3)}

    @property
    def connectionless(self) -> bool:
        """UDP: datagrams go out whether or not anyone receives them, so a receiver that stops and
        starts again is never seen here and ``reconnects`` stays 0 (only a local send error counts)."""
        return urlsplit(self.url).scheme.lower() == "udp"

    def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._feeder.join(timeout=3 * CLOSE_GRACE)
        self._frames = None
        if self._spec.memory:
            Path(self._spec.memory).unlink(missing_ok=True)
        log.info("stream %s: %d frames sent, %d dropped, %s, queue peak %d of %d", self.url,
                 self.frames_written, self.dropped, reconnect_text(self.stats()), self.max_queued, self.queue_size)

    # -- feeder thread: hands items to the sender process, reads its reports, watches it -----------
    def _feed(self) -> None:
        while True:
            if self._process is None or self._process.poll() is not None:
                if self._process is not None:
                    self._restart(f"sender process exited (code {self._process.returncode})")
                if self._closing:  # nothing left to send to: what is queued is dropped
                    with self._cond:
                        while self._queue:
                            self._drop(self._queue.popleft())
                    return
                self._start_sender()
            assert self._pipe is not None
            try:
                while self._pipe.poll():
                    self._report(self._pipe.recv())
            except (EOFError, OSError):
                self._restart("the sender process went away")
                continue
            limit = min(self.stall_seconds, CLOSE_GRACE) if self._closing else self.stall_seconds
            if self._in_flight and time.monotonic() - self._in_flight[0][1] > limit:
                self._restart(f"sender stuck for {limit:.0f} s (the network does not answer)")
                continue
            with self._cond:
                if self._closing and not self._queue and not self._in_flight:
                    break
                item = self._next() if len(self._in_flight) < IN_FLIGHT else None
                if item is None and not self._in_flight:
                    self._cond.wait(0.05)
            if item is not None:
                self._send(item)
            elif self._in_flight:
                with contextlib.suppress(OSError):
                    self._pipe.poll(0.05)
        self._stop_sender()

    def _next(self) -> Item | None:
        """The next item (under the lock); after a restart (or, relayed, a dropped packet) only the
        newest frame (keyframe) and what follows."""
        if self._fresh:
            newest = max((i for i, x in enumerate(self._queue)
                          if isinstance(x, Video) or (isinstance(x, Encoded) and x.keyframe)), default=-1)
            for _ in range(newest if newest >= 0 else len(self._queue)):
                self._drop(self._queue.popleft())
            self._fresh = newest < 0
        if not self._queue:
            return None
        self._cond.notify_all()  # room for a non-live input's write waiting in _put
        return self._queue.popleft()

    def _send(self, item: Item) -> None:
        assert self._pipe is not None
        message = (("video", item.slot, item.time, item.index) if isinstance(item, Video) else
                   packet_message(item.kind, item.packet) if isinstance(item, Encoded) else audio_message(item))
        self._in_flight.append((item, time.monotonic()))
        with contextlib.suppress(OSError):  # the process died: the next round restarts it
            self._pipe.send(message)

    def _report(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ack":
            item, _sent_at = self._in_flight.popleft()
            with self._cond:
                if not message[1]:
                    self._drop(item)
                elif isinstance(item, Video):
                    self.frames_written += 1
                    self._free.append(item.slot)
                elif isinstance(item, Encoded) and item.kind == "video":
                    self.frames_written += 1
        elif kind == "ready":
            self._ready.set()
        elif kind == "connected":
            self.connected = True
            if self._ever_connected:
                self.reconnects += 1
                log.warning("stream %s: reconnected (reconnect %d, %d frames dropped so far)", self.url,
                            self.reconnects, self.dropped)
            else:
                log.info("stream %s: connected", self.url)
            self._ever_connected = True
        elif kind == "lost":
            self.connected = False
            self._want_keyframe(message[3])  # relayed: the next try starts on a keyframe
            log.warning("stream %s: %s: %s; retrying in %.1f s (%d frames dropped so far)", self.url, message[1],
                        message[2], message[3], self.dropped)

    def _start_sender(self) -> None:
        """A fresh interpreter running ``serve`` (not multiprocessing's spawn, which would import
        the embedding program's ``__main__`` again), talking over a socket pair."""
        time.sleep(max(0.0, self._started_at + 1.0 - time.monotonic()))  # no respawn storm
        self._started_at = time.monotonic()
        ours, theirs = socket.socketpair()
        code = "import sys; from edgefx.io.stream import serve; serve(int(sys.argv[1]))"
        self._process = subprocess.Popen([sys.executable, "-c", code, str(theirs.fileno())],  # Ctrl-C: not its
                                         pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,  # group; the
                                         start_new_session=True)  # engine closes it and the stream ends well
        theirs.close()
        self._pipe = Pipe(ours.detach())
        self._pipe.send(self._spec)

    def _restart(self, why: str) -> None:
        """Kill the sender, take back its slots (counted as dropped), restart on a current frame."""
        self.restarts += 1
        self.connected = False
        log.warning("stream %s: %s: restarting the sender (%d frames dropped so far)", self.url, why, self.dropped)
        self._kill_sender()
        with self._cond:
            for item, _sent_at in self._in_flight:
                self._drop(item)
            self._in_flight.clear()
            self._fresh = True
            self._want_keyframe(0.0)

    def _stop_sender(self) -> None:
        """Ask the sender to flush and close (``closed``), then end it."""
        assert self._pipe is not None
        with contextlib.suppress(OSError):
            self._pipe.send(("close",))
            deadline = time.monotonic() + CLOSE_GRACE
            while time.monotonic() < deadline and self._pipe.poll(max(0.0, deadline - time.monotonic())):
                message = self._pipe.recv()
                if message[0] == "closed":
                    self.sender_cpu_s = message[1]
                    break
                self._report(message)
        self._kill_sender()

    def _kill_sender(self) -> None:
        if self._process is not None:
            try:
                self._process.wait(0.5 if self._closing else 0.0)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5.0)
        if self._pipe is not None:
            self._pipe.close()
        self._process = self._pipe = None
