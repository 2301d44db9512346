"""Audio for listeners (speech): 16 kHz mono s16 on a worker thread, from the input's audio track
or from a microphone opened with PyAV.

The video loop only hands audio over: ``AudioWorker.submit`` never blocks a live input (a full
queue drops the oldest chunk and counts it). The worker resamples with PyAV and passes every
chunk, with the media time of its first sample, to a consumer (a keyword recognizer).
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator

import av
import av.error
import numpy as np

from edgefx.errors import SourceError

log = logging.getLogger(__name__)

RATE = 16000
"""Sample rate listeners get (mono, signed 16 bit)."""

Consumer = Callable[[np.ndarray, float], None]
"""Receives ``(samples int16 (n,), t0 seconds)`` on the worker thread."""


class Resampler:
    """``av.AudioFrame`` of any format -> 16 kHz mono int16 samples, each chunk stamped with the
    media time of its first sample (continuous across frames; a gap in the input restarts the clock)."""

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
        self._clock: float | None = None
        self._expected_in: float | None = None

    def __call__(self, frame: av.AudioFrame, t: float) -> tuple[np.ndarray, float]:
        if self._expected_in is None or abs(t - self._expected_in) > 0.05:
            self._clock = t
        self._expected_in = t + frame.samples / frame.sample_rate
        chunks = [out.to_ndarray().reshape(-1) for out in self._resampler.resample(frame)]
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        t0 = self._clock
        self._clock = t0 + samples.size / RATE
        return samples, t0


def copy_frame(frame: av.AudioFrame) -> av.AudioFrame:
    """A private copy of ``frame`` (the loop hands the original on to the sink's encoder)."""
    copy = av.AudioFrame.from_ndarray(frame.to_ndarray(), format=frame.format.name, layout=frame.layout.name)
    copy.sample_rate = frame.sample_rate
    return copy


class AudioWorker:
    """One thread that resamples audio frames and feeds them to ``consumer``.

    ``live``: a full queue drops the oldest chunk (``dropped`` counts them) so the caller never
    waits. Files: ``submit`` waits for room, nothing is lost, and ``drain`` lets the loop wait
    until everything submitted has been heard (so an event lands on its frame).
    ``cpu_seconds`` is the thread's CPU time (``time.thread_time``), ``audio_seconds`` what it heard.
    """

    def __init__(self, consumer: Consumer, live: bool, max_chunks: int = 64, name: str = "edgefx-audio") -> None:
        self.consumer, self.live = consumer, live
        self.dropped = 0
        self.cpu_seconds = 0.0
        self.audio_seconds = 0.0
        self.error: Exception | None = None
        self._queue: queue.Queue[tuple[av.AudioFrame, float] | None] = queue.Queue(max_chunks)
        self._resample = Resampler()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, frame: av.AudioFrame, t: float) -> None:
        """Queue one frame (its media time ``t``); the frame must not be used elsewhere afterwards."""
        if not self.live:
            self._queue.put((frame, t))
            return
        while True:
            try:
                self._queue.put_nowait((frame, t))
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self._queue.task_done()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def drain(self, timeout: float = 5.0) -> bool:
        """Wait until every submitted frame has been consumed; False if ``timeout`` passed first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._queue.all_tasks_done.wait(left)
        return True

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                if self.error is None:
                    samples, t0 = self._resample(*item)
                    self.audio_seconds += samples.size / RATE
                    self.consumer(samples, t0)
            except Exception as exc:  # reported once by the owner; the video goes on
                self.error = exc
                log.error("audio worker stopped listening: %s", exc)
            finally:
                self.cpu_seconds = time.thread_time()
                self._queue.task_done()

    def close(self) -> None:
        """Stop after the frames already queued."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=5.0)


DEVICE_FORMATS = ("alsa", "pulse", "avfoundation", "dshow", "oss", "jack", "lavfi")
"""FFmpeg's capture formats a ``FORMAT:DEVICE`` spec may name."""


def is_device(spec: str) -> bool:
    """Whether ``spec`` names a capture device as ``FORMAT:DEVICE`` (rather than a file)."""
    fmt, sep, _ = spec.partition(":")
    return bool(sep) and fmt in DEVICE_FORMATS


def mic_format(spec: str) -> tuple[str, str]:
    """``"alsa:default"`` -> ``("alsa", "default")``; a bare device name gets this platform's
    capture format (ALSA on Linux, AVFoundation on macOS, DirectShow on Windows)."""
    if is_device(spec):
        fmt, _, device = spec.partition(":")
        return fmt, device
    default = {"darwin": "avfoundation", "win32": "dshow"}.get(sys.platform, "alsa")
    return default, spec


class MicError(SourceError):
    """The microphone could not be opened: ``message`` says why, ``hint`` what to do."""


class DeviceReader:
    """A capture device's frames read on their own thread: each goes to ``deliver`` until the
    device ends or fails (``ended`` then says why, and ``on_end`` is told) or ``close`` stops it.
    ``frames`` may raise ``SourceError``, ``av.error.FFmpegError`` or ``OSError``."""

    def __init__(self, frames: Iterator[av.AudioFrame], deliver: Callable[[av.AudioFrame], None],
                 on_end: Callable[[str], None], name: str) -> None:
        self.ended: str | None = None
        """Why the device stopped delivering (``None`` while it runs)."""
        self._frames, self._deliver, self._on_end = frames, deliver, on_end
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name=name, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        reason = "the device ended its stream"
        try:
            for frame in self._frames:
                if self._stop.is_set():
                    return
                self._deliver(frame)
        except SourceError as exc:
            reason = exc.message
        except (av.error.FFmpegError, OSError) as exc:
            reason = str(exc)
        self.ended = reason
        if not self._stop.is_set():
            self._on_end(reason)

    def close(self, timeout: float = 1.0) -> bool:
        """Stop reading; ``False`` when the reader is still blocked in the device after ``timeout``
        (then the device must not be closed under it: the daemon thread goes with the process)."""
        self._stop.set()
        self._thread.join(timeout=timeout)
        return not self._thread.is_alive()


class Microphone:
    """A capture device read by PyAV on its own thread (``DeviceReader``); every decoded frame goes
    to ``worker``."""

    def __init__(self, spec: str, worker: AudioWorker) -> None:
        fmt, device = mic_format(spec)
        if fmt not in av.formats_available:
            usable = [f for f in ("alsa", "pulse", "avfoundation", "dshow") if f in av.formats_available]
            raise MicError(f"this FFmpeg build has no {fmt!r} input", f"use one of {', '.join(usable) or 'none'}")
        try:
            self.container = av.open(device, format=fmt, timeout=(5.0, 5.0))
        except (av.error.FFmpegError, OSError) as exc:
            hint = "list devices with `arecord -L`" if fmt == "alsa" else "check the device name (`edgefx doctor`)"
            raise MicError(f"cannot open {spec!r}: {exc}", hint) from None
        if not self.container.streams.audio:
            self.container.close()
            raise MicError(f"{spec!r} has no audio stream", "pick an audio capture device")
        self.worker = worker
        started = time.monotonic()
        self._reader = DeviceReader(self.container.decode(self.container.streams.audio[0]),
                                    lambda frame: worker.submit(frame, time.monotonic() - started),
                                    lambda why: log.error("microphone stopped: %s; speech is off from here", why),
                                    f"mic:{spec}")

    def close(self) -> None:
        if self._reader.close(timeout=2.0):  # else its reader is blocked in the device: leave it open
            self.container.close()
