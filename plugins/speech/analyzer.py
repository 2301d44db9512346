"""The ``speech`` analyzer: listens to the input's audio track (or a microphone) on its own thread
and publishes ``Event("keyword", t, source="speech", data={"word", "confidence"})`` to the bus.

On a file the event carries the media time the word ended, and the loop holds frames back
``audio_lookahead`` seconds so it lands on that frame. Live (camera, stream, microphone) it
carries ``t=None``: effects react on the next frame, as soon as the word is heard.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import deque
from typing import Any, ClassVar

import av
import numpy as np

from edgefx.contract import Analyzer
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext
from edgefx.io.audio import AudioWorker, MicError, Microphone, copy_frame
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.speech.recognizer import Hit, Recognizer
from edgefx.plugins.speech.sphinx import MIN_CONFIDENCE

log = logging.getLogger(__name__)

RECENT = 20
"""Keyword events kept for the control panel."""
SILENCE_PEAK = 33
"""Peak sample value (of 32767) below which audio counts as silent: about -60 dBFS."""
SILENCE_SECONDS = 3.0
"""Silence from the start for this long turns speech off (with one message) until sound comes."""


def create_recognizer(settings: dict[str, Any]) -> Recognizer:
    """The configured backend: ``auto`` is Vosk when a model is set, else PocketSphinx."""
    backend = settings["backend"]
    if backend == "auto":
        backend = "vosk" if settings["model"] else "pocketsphinx"
    if backend == "vosk":
        from edgefx.plugins.speech.vosk import VoskRecognizer
        return VoskRecognizer(settings["keywords"], settings["model"], settings["fillers"], settings["min_confidence"],
                              settings["partials"])
    from edgefx.plugins.speech.sphinx import SphinxRecognizer, verified
    if settings["verify"]:
        return verified(settings["keywords"], settings["threshold"], settings["thresholds"],
                        settings["min_confidence"] or None, settings["confidences"])
    return SphinxRecognizer(settings["keywords"], settings["threshold"], settings["thresholds"],
                            settings["min_confidence"] or MIN_CONFIDENCE, settings["confidences"])


DEVICE_SCHEMES = ("v4l2:", "avfoundation:", "dshow:", "picamera:")
"""Inputs that are capture devices: their video has no sound, so speech listens to a microphone."""


def default_mic() -> str:
    """The platform's default microphone for ``mic = "auto"`` with a camera input."""
    if sys.platform == "darwin":
        return "avfoundation::0"
    if sys.platform.startswith("win"):
        return ""  # dshow needs the device's name; the off message says so
    return "alsa:default"


def choose_mic(setting: str, stream: StreamInfo | None) -> str:
    """The microphone to open ("" = the input's own audio): ``auto`` picks the default microphone
    for a capture device without sound and the input's audio for files and streams; ``none``
    never opens one; anything else is that microphone."""
    if setting == "none":
        return ""
    if setting != "auto":
        return setting
    device = stream is not None and stream.name.startswith(DEVICE_SCHEMES)
    return default_mic() if device and stream.audio is None else ""


class SpeechAnalyzer(Analyzer):
    """Keyword spotting. Result per frame: the keywords heard up to that frame and not reported
    before (``[{"t", "word", "confidence"}]``), also with ``[scheduler] overlap``."""

    name = "speech"
    audio_lookahead: ClassVar[float] = 1.0
    options: ClassVar[dict[str, Option]] = {
        "keywords": Option([], "words (or short phrases) to listen for", type=list),
        "backend": Option("auto", "recognizer: auto = vosk when a model is set, else pocketsphinx",
                          choices=("auto", "vosk", "pocketsphinx")),
        "model": Option("", "Vosk model directory (https://alphacephei.com/vosk/models)"),
        "mic": Option("auto", "auto = the input's audio for files and streams, the default microphone for a "
                              "camera; none = never a microphone; or a microphone: alsa:default, pulse:default, "
                              "avfoundation::0, dshow:audio=NAME"),
        "threshold": Option(None, "PocketSphinx keyphrase threshold for every keyword, a likelihood ratio (lower "
                                  "fires more readily); unset = derived from each keyword's phone count",
                            min=1e-80, max=1e80, type=(float, int, type(None))),
        "thresholds": Option({}, "PocketSphinx threshold per keyword, e.g. {snow = 1e-10}", type=dict),
        "confidences": Option({}, "PocketSphinx min_confidence per keyword, e.g. {snow = 0.9}", type=dict),
        "verify": Option(False, "PocketSphinx: a more permissive keyphrase search, each keyword then confirmed by "
                                "decoding the audio around it with the full English language model (fewer false "
                                "events; several times the CPU, see docs/speech.md)"),
        "fillers": Option([], "Vosk grammar words that absorb other speech and never fire", type=list),
        "min_confidence": Option(0.0, f"confidence a keyword needs to fire (PocketSphinx: 0 = the default "
                                      f"{MIN_CONFIDENCE}; Vosk: final results below it are ignored)",
                                 min=0.0, max=1.0),
        "partials": Option(True, "Vosk: fire from partial results as soon as a keyword shows up (can be before "
                                 "it ends); false: wait for the final result (exact word end, after a pause)"),
        "lookahead": Option(1.0, "files: seconds of audio heard ahead of the video so a keyword lands on the frame "
                                 "where it ends (Vosk with partials = false needs about 1.5)", min=0.0, max=5.0),
        "queue_seconds": Option(2.0, "live audio buffered for the recognizer before the oldest is dropped",
                                min=0.1, max=30.0),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.audio_lookahead = self.settings["lookahead"]
        self.bus: EventBus | None = None
        self.recognizer: Recognizer | None = None
        self.worker: AudioWorker | None = None
        self.mic: Microphone | None = None
        self.live = False
        self.off_reason: str | None = None
        self.heard: list[tuple[Hit, float]] = []
        """Every hit with the wall-clock time (``time.monotonic``) it was published (benchmarks)."""
        self._sound_at: float | None = None
        self._label = ""
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        """The latest keyword events (``t``, ``word``, ``confidence``, ``heard_at`` wall clock): the control panel."""
        self._unreported: deque[dict[str, Any]] = deque()
        """Published keywords not yet returned as a frame's result (appended on the worker thread)."""

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self, stream: StreamInfo | None = None) -> None:
        if not self.settings["keywords"]:
            self._off("no keywords are configured (set [analyzers.speech] keywords or --keywords)")
            return
        self.recognizer = create_recognizer(self.settings)
        log.info("speech: listening for %s with %s", ", ".join(self.settings["keywords"]), self.recognizer.name)
        self._label = stream.name if stream is not None else "input"
        chunks = max(4, round(self.settings["queue_seconds"] / 0.02))
        mic = choose_mic(self.settings["mic"], stream)
        if mic:
            self.live = True
            self._label = f"microphone {mic}"
            self.worker = AudioWorker(self._hear, live=True, max_chunks=chunks)
            try:
                self.mic = Microphone(mic, self.worker)
            except MicError as exc:
                self.worker.close()
                self.worker = None
                self._off(f"the microphone could not be opened: {exc.message}; {exc.hint}")
            return
        if stream is None or stream.audio is None:
            self._off(f"the input {self._label} has no audio track; "
                      f'set [analyzers.speech] mic = "alsa:default" (or another microphone) to listen to one')
            return
        self.live = stream.live
        self.worker = AudioWorker(self._hear, live=self.live, max_chunks=chunks)

    def close(self) -> None:
        if self.mic is not None:
            self.mic.close()
        if self.worker is not None:
            self.worker.close()
            if self._sound_at is None and self.off_reason is None:
                heard = self.worker.audio_seconds
                self._off(f"the audio of {self._label} is silent" if heard
                          else f"the audio of {self._label} carried nothing")
            if self.worker.dropped:
                log.warning("speech: %d audio chunks dropped because recognition fell behind", self.worker.dropped)

    def _off(self, reason: str) -> None:
        self.off_reason = reason
        log.warning("speech is off: %s; the video goes on", reason)

    # -- audio side (worker thread) ------------------------------------------------------------------
    def on_audio(self, frame: av.AudioFrame) -> None:
        """From the loop: the input's audio, handed to the worker (a copy; never waits when live)."""
        if self.worker is not None and self.mic is None:
            self.worker.submit(copy_frame(frame), float(frame.time or 0.0))

    def _hear(self, samples: np.ndarray, t0: float) -> None:
        if self._sound_at is None:
            if samples.size and int(np.abs(samples.astype(np.int32)).max()) >= SILENCE_PEAK:
                self._sound_at = t0
                if self.off_reason is not None:
                    self.off_reason = None
                    log.warning("speech: sound on %s from %.1f s: listening", self._label, t0)
            elif self.worker.audio_seconds >= SILENCE_SECONDS:
                if self.off_reason is None:
                    self._off(f"the audio of {self._label} is silent (no sound above -60 dBFS "
                              f"in the first {SILENCE_SECONDS:.0f} s); check the audio source or the mic setting")
                return
        for hit in self.recognizer.feed(samples, t0):
            self._publish(hit)

    def _publish(self, hit: Hit) -> None:
        self.heard.append((hit, time.monotonic()))
        t = None if self.live else round(hit.end, 3)
        data = {"word": hit.word, "confidence": None if hit.confidence is None else round(hit.confidence, 3)}
        log.info("speech: heard %r, confidence %s, %s", hit.word, data["confidence"],
                 "live" if t is None else f"at {t:.2f} s media time")
        self._unreported.append({"t": t, **data})
        self.recent.append({"t": t, **data, "heard_at": time.time()})
        if self.bus is not None:
            self.bus.publish(Event("keyword", t, "speech", data))

    # -- video side (loop thread) --------------------------------------------------------------------
    def analyze(self, frame: Frame, ctx: FrameContext) -> list[dict[str, Any]]:
        if self.worker is not None and not self.live and not self.worker.drain():
            log.warning("speech: recognition is more than 5 s behind at %.2f s", frame.time)
        out = []
        while self._unreported and (self._unreported[0]["t"] is None or self._unreported[0]["t"] <= frame.time):
            out.append(self._unreported.popleft())
        return out

    def carry(self, frame: Frame, ctx: FrameContext, last: Any) -> list[dict[str, Any]]:
        return self.analyze(frame, ctx)
