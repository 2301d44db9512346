"""The keyword recognizer interface shared by the Vosk and PocketSphinx backends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edgefx.io.audio import RATE


@dataclass(frozen=True, slots=True)
class Hit:
    """A keyword heard: the word, the media time its end was heard at (seconds) and a confidence 0..1
    (None: not scored yet, e.g. from a partial result).
    ``exact``: ``end`` is the recognizer's word end; otherwise the time of the audio that revealed it."""

    word: str
    end: float
    confidence: float | None
    exact: bool = True


class Recognizer(Protocol):
    """Streams 16 kHz mono int16 audio and returns the keywords heard in it."""

    name: str

    def feed(self, samples: np.ndarray, t0: float) -> list[Hit]:
        """Hear ``samples`` whose first sample is at media time ``t0``; return new hits."""
        ...


class Utterance:
    """Media time of an utterance's audio: where it started and how much has been fed. A gap
    (dropped chunks, a seek) asks the backend to restart, so word times stay right."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.samples = 0

    def advance(self, n: int, t0: float) -> bool:
        """Account for ``n`` samples at ``t0``; True when a new utterance must start first."""
        restart = self.t0 is None or abs(t0 - self.now) > 0.1
        if restart:
            self.t0, self.samples = t0, 0
        self.samples += n
        return restart

    @property
    def now(self) -> float:
        """Media time at the end of the audio fed so far."""
        return (self.t0 or 0.0) + self.samples / RATE

    def at(self, seconds: float) -> float:
        """Media time of ``seconds`` into the utterance."""
        return (self.t0 or 0.0) + seconds
