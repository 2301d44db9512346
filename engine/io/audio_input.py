"""Audio on air from a second input: ``[input] audio_url`` names a microphone (``alsa:default``,
``pulse:default``, ``avfoundation::0``, ``dshow:audio=NAME``) or an audio file, and its sound
replaces the video input's own in every output (a webcam has none).

``WithAudio`` wraps the video source. Both are opened with PyAV the same way; the audio is
decoded, resampled to 48 kHz float (what AAC takes) and put on the video's clock: its first
sample plays with the first video frame, and ``[input] audio_delay_ms`` moves it later (> 0) or
earlier (< 0) to line it up with a picture that reaches the output late; ``audio_gain_db`` makes
it louder or softer and ``audio_mute`` silences it (the track stays, silent, as a muted OBS
source does: receivers see no change in the stream). Audio frames are handed
on in media order between the video frames, up to the time of the next frame, so the outputs
mux them in sync (``docs/streaming.md`` has the measured offset).

A capture device is read on its own thread (``LiveAudio``), so a microphone that stalls or is
unplugged never holds up the picture: while it delivers nothing for ``STALL_S`` behind the
picture, or after it has stopped, silence goes on air in its place (the track stays continuous,
as OBS keeps a lost source's track), and the sound that comes back continues from there.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from edgefx.errors import SourceError
from edgefx.frame import Frame
from edgefx.io.audio import DeviceReader, is_device, mic_format
from edgefx.io.info import AudioInfo
from edgefx.io.source import Item, Source, WrappedSource

log = logging.getLogger(__name__)

RATE = 48000
"""Sample rate of the sound that goes on air."""
STALL_S = 0.5
"""A capture device that has delivered nothing this far behind the picture is stalled (or gone)."""
BACKLOG_S = 0.5
"""At most this much captured sound waits for the picture; older sound is dropped, so the sound
of a device that delivers in bursts cannot drift behind the picture."""
SILENCE_SAMPLES = 960
"""Samples per frame of the silence that fills a stalled device's gap (20 ms)."""


def open_audio(spec: str) -> av.container.InputContainer:
    """A microphone (``FORMAT:DEVICE``) or an audio file, opened with PyAV (``SourceError`` if not)."""
    device = is_device(spec)
    if not device and not Path(spec).is_file():
        raise SourceError(f"audio input {spec!r} is neither a file nor a capture device",
                          "give an audio file, or a device such as alsa:default (list them: arecord -L)")
    fmt_name, target = mic_format(spec) if device else (None, spec)
    try:
        container = av.open(target, format=fmt_name, timeout=(5.0, 5.0))
    except (av.error.FFmpegError, OSError) as exc:
        raise SourceError(f"cannot open audio input {spec!r}: {exc}",
                          "check the device name (arecord -L) or the file") from None
    if not container.streams.audio:
        container.close()
        raise SourceError(f"audio input {spec!r} has no audio stream", "give a recording or a capture device")
    return container


class LiveAudio:
    """A capture device's frames, read on their own thread (``DeviceReader``) into a short queue
    (at most ``BACKLOG_S``: the oldest go first) that the picture's loop takes from without waiting."""

    def __init__(self, frames: Iterator[av.AudioFrame], spec: str) -> None:
        self.spec = spec
        self.dropped_samples = 0
        self._queue: deque[av.AudioFrame] = deque()
        self._queued = 0
        self._lock = threading.Lock()
        self._reader = DeviceReader(frames, self._keep, self._stopped, f"audio:{spec}")

    @property
    def ended(self) -> str | None:
        """Why the device stopped delivering (``None`` while it runs)."""
        return self._reader.ended

    def _keep(self, frame: av.AudioFrame) -> None:
        with self._lock:
            self._queue.append(frame)
            self._queued += frame.samples
            while self._queued > BACKLOG_S * RATE and len(self._queue) > 1:
                old = self._queue.popleft()
                self._queued -= old.samples
                self.dropped_samples += old.samples

    def _stopped(self, reason: str) -> None:
        log.warning("audio input %s stopped: %s; silence goes on air in its place", self.spec, reason)

    def take(self) -> av.AudioFrame | None:
        """The oldest captured frame, or ``None`` when none is waiting."""
        with self._lock:
            if not self._queue:
                return None
            frame = self._queue.popleft()
            self._queued -= frame.samples
            return frame

    def clear(self) -> None:
        """Drop what was captured so far (before the first picture: it does not go on air)."""
        with self._lock:
            self._queue.clear()
            self._queued = 0

    def close(self) -> bool:
        """Stop reading; ``False`` when the reader is still blocked in the device (``DeviceReader``)."""
        return self._reader.close()


class WithAudio(WrappedSource):
    """``video``'s frames with the sound of the audio input ``spec`` (see the module)."""

    name = "with-audio"

    def __init__(self, video: Source, spec: str, delay_ms: float = 0.0, gain_db: float = 0.0,
                 mute: bool = False) -> None:
        super().__init__(video)
        self.spec = spec
        self.delay = delay_ms / 1000.0
        self.gain = 0.0 if mute else 10 ** (gain_db / 20)
        self.container = open_audio(spec)
        stream = self.container.streams.audio[0]
        layout = "mono" if stream.codec_context.channels == 1 else "stereo"
        self._resampler = av.AudioResampler(format="fltp", layout=layout, rate=RATE)
        self.info = dataclasses.replace(video.info, audio=AudioInfo(RATE, 1 if layout == "mono" else 2, layout,
                                                                      Fraction(1, RATE)))
        self._decoded = self._resampled()
        self._live = LiveAudio(self._decoded, spec) if is_device(spec) else None
        self._stalled_since: float | None = None
        """Media time from which silence has filled a stalled or stopped device's place."""
        self._silent_samples = 0
        self._next: av.AudioFrame | None = None
        self._start: int | None = None
        """The output sample (at ``RATE``) the audio input's first sample lands on."""
        self._samples = 0

    def __iter__(self) -> Iterator[Item]:
        for item in self.source:
            if not isinstance(item, Frame):
                continue  # the audio input replaces the video input's own sound
            if self._start is None:
                self._start = round((item.time + self.delay) * RATE)
                if self._live is not None:
                    self._live.clear()
            yield from self._audio_until(item.time + 1.0 / float(self.info.fps))
            yield item

    def _audio_until(self, t: float) -> Iterator[av.AudioFrame]:
        """The audio frames that start before media time ``t``, stamped on the video's clock."""
        assert self._start is not None
        while True:
            if self._next is None:
                self._next = next(self._decoded, None) if self._live is None else self._live.take()
                if self._next is None:
                    if self._live is not None:
                        yield from self._silence_until(t)
                    return
            if self._stalled_since is not None:
                log.info("audio input %s is back after %.1f s of silence", self.spec,
                         (self._start + self._samples) / RATE - self._stalled_since)
                self._stalled_since = None
            pts = self._start + self._samples
            if pts / RATE >= t:
                return
            frame, self._next = self._next, None
            self._samples += frame.samples
            if pts + frame.samples <= 0:  # an early start (negative delay) cuts the first sound
                continue
            if self.gain != 1.0:
                frame = self._scaled(frame)
            frame.pts, frame.time_base = pts, Fraction(1, RATE)
            yield frame

    def _silence_until(self, t: float) -> Iterator[av.AudioFrame]:
        """Silent frames up to media time ``t`` in a capture device's place, once it has delivered
        nothing for ``STALL_S`` behind the picture (or has stopped), until its sound comes back."""
        assert self._start is not None and self._live is not None
        cursor = self._start + self._samples
        if self._stalled_since is None:
            if cursor / RATE >= t - STALL_S and self._live.ended is None:
                return
            self._stalled_since = cursor / RATE
            if self._live.ended is None:
                log.warning("audio input %s delivered nothing for %.1f s; silence goes on air until it is back",
                            self.spec, t - cursor / RATE)
        audio = self.info.audio
        assert audio is not None
        while cursor / RATE < t:
            n = min(SILENCE_SAMPLES, max(1, round(t * RATE) - cursor))
            frame = av.AudioFrame.from_ndarray(np.zeros((audio.channels, n), np.float32), format="fltp",
                                               layout=audio.layout)
            frame.sample_rate = RATE
            frame.pts, frame.time_base = cursor, Fraction(1, RATE)
            self._samples += n
            self._silent_samples += n
            cursor += n
            if cursor > 0:
                yield frame

    def _scaled(self, frame: av.AudioFrame) -> av.AudioFrame:
        """``frame`` with its samples times ``gain`` (clipped to full scale)."""
        samples = np.clip(frame.to_ndarray() * self.gain, -1.0, 1.0).astype(np.float32)
        scaled = av.AudioFrame.from_ndarray(samples, format="fltp", layout=frame.layout.name)
        scaled.sample_rate = RATE
        return scaled

    def _resampled(self) -> Iterator[av.AudioFrame]:
        try:
            for frame in self.container.decode(self.container.streams.audio[0]):
                yield from self._resampler.resample(frame)
            yield from self._resampler.resample(None)
        except (av.error.FFmpegError, OSError) as exc:
            raise SourceError(f"reading audio input {self.spec!r} failed: {exc}", "check the device or file") from None

    def close(self) -> None:
        super().close()
        if self._live is not None:
            if self._silent_samples or self._live.dropped_samples:
                log.info("audio input %s: %.1f s of silence filled in, %.1f s of late sound dropped", self.spec,
                         self._silent_samples / RATE, self._live.dropped_samples / RATE)
            if not self._live.close():
                return  # its reader is still blocked in the device: closing it under the reader would crash
        self.container.close()
