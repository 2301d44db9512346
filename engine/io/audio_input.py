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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from edgefx.errors import SourceError
from edgefx.frame import Frame
from edgefx.io.audio import mic_format
from edgefx.io.info import AudioInfo
from edgefx.io.source import Item, Source, WrappedSource

RATE = 48000
"""Sample rate of the sound that goes on air."""
DEVICE_FORMATS = ("alsa", "pulse", "avfoundation", "dshow", "oss", "jack", "lavfi")


def open_audio(spec: str) -> av.container.InputContainer:
    """A microphone (``FORMAT:DEVICE``) or an audio file, opened with PyAV (``SourceError`` if not)."""
    fmt, sep, _ = spec.partition(":")
    device = bool(sep) and fmt in DEVICE_FORMATS
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
            yield from self._audio_until(item.time + 1.0 / float(self.info.fps))
            yield item

    def _audio_until(self, t: float) -> Iterator[av.AudioFrame]:
        """The audio frames that start before media time ``t``, stamped on the video's clock."""
        assert self._start is not None
        while True:
            if self._next is None:
                self._next = next(self._decoded, None)
                if self._next is None:
                    return
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
        self.container.close()
