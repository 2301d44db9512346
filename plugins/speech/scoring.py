"""Score keyword spotting against word times: hits, misses, false alarms, timing.

A hit counts when the spotter names a keyword that was said and its end time lies within
``TOLERANCE_S`` of the word's true end (each spoken word matches one hit at most); any other
hit is a false alarm. Shared by ``edgefx bench --only speech_accuracy`` and ``edgefx speech tune``.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from edgefx.io.audio import RATE
from edgefx.plugins.speech.corpus import Recording, Word
from edgefx.plugins.speech.recognizer import Hit, Recognizer

TOLERANCE_S = 0.5
"""How far a hit's end may be from the spoken word's end and still count."""
CHUNK = 320
"""20 ms at 16 kHz: what a microphone hands over at a time."""


@dataclass(frozen=True, slots=True)
class Heard:
    """A hit and how much audio had been fed when the spotter returned it (seconds)."""

    hit: Hit
    fed: float


@dataclass(slots=True)
class Stream:
    """Recordings joined one after another with ``gap_s`` of quiet between them."""

    samples: np.ndarray
    words: list[Word]
    seconds: float
    parts: list[tuple[str, float]] = field(default_factory=list)
    """Each part's name and start time."""


def join(recordings: Iterable[Recording | np.ndarray], gap_s: float = 0.3) -> Stream:
    """One stream of recordings (bare arrays are non-speech, e.g. noise) with word times shifted."""
    pieces, words, parts, t = [], [], [], 0.0
    gap = np.zeros(round(gap_s * RATE), np.int16)
    for rec in recordings:
        samples = rec if isinstance(rec, np.ndarray) else rec.samples
        parts.append(("noise" if isinstance(rec, np.ndarray) else rec.name, t))
        if isinstance(rec, Recording):
            words += [Word(w.text, w.start + t, w.end + t) for w in rec.words]
        pieces += [samples, gap]
        t += (samples.size + gap.size) / RATE
    data = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
    return Stream(data, words, data.size / RATE, parts)


TAIL_S = 0.5
"""Quiet fed after a recording, so a keyword said at its very end is decided too."""


def spot(recognizer: Recognizer, samples: np.ndarray, t0: float = 0.0) -> list[Heard]:
    """Feed ``samples`` (then ``TAIL_S`` of quiet) in 20 ms chunks, as live audio comes; every hit
    with how much audio had been fed when it came."""
    samples = np.concatenate([samples, np.zeros(round(TAIL_S * RATE), np.int16)])
    heard = []
    for start in range(0, samples.size, CHUNK):
        chunk = samples[start:start + CHUNK]
        fed = (start + chunk.size) / RATE
        heard += [Heard(hit, fed) for hit in recognizer.feed(chunk, t0 + start / RATE)]
    return heard


@dataclass(slots=True)
class Score:
    """Per-keyword counts and the timing of the true hits."""

    keywords: list[str]
    said: dict[str, int]
    hits: dict[str, int]
    false: dict[str, int]
    minutes: float
    end_errors_ms: list[float]
    """Hit end minus the word's true end (media time): when the effect starts on a file."""
    delays_ms: list[float]
    """Audio fed when the hit came minus the word's true end: the live latency before CPU time."""
    false_hits: list[Heard]

    @property
    def recall(self) -> float | None:
        said = sum(self.said.values())
        return round(sum(self.hits.values()) / said, 3) if said else None

    @property
    def false_per_minute(self) -> float:
        return round(sum(self.false.values()) / self.minutes, 2) if self.minutes else 0.0

    def summary(self) -> dict:
        """Figures for a report (JSON-friendly)."""
        return {"said": sum(self.said.values()), "hits": sum(self.hits.values()),
                "false_events": sum(self.false.values()), "recall": self.recall,
                "false_per_minute": self.false_per_minute, "minutes": round(self.minutes, 2),
                "effect_start_after_word_end_ms_median": _median(self.end_errors_ms),
                "heard_after_word_end_ms_median": _median(self.delays_ms),
                "per_keyword": {k: {"said": self.said[k], "hits": self.hits[k], "false": self.false[k]}
                                for k in self.keywords},
                "false_examples": [f"{h.hit.word}@{h.hit.end:.2f}" for h in self.false_hits[:8]]}


def score(heard: list[Heard], words: list[Word], keywords: list[str], seconds: float) -> Score:
    """Match hits to spoken keywords (nearest unmatched word end within ``TOLERANCE_S``)."""
    keywords = [k.lower() for k in keywords]
    spoken = _spoken(words, keywords)
    said = {k: sum(1 for w in spoken if w.text == k) for k in keywords}
    hits = dict.fromkeys(keywords, 0)
    false = dict.fromkeys(keywords, 0)
    used: set[int] = set()
    errors, delays, false_hits = [], [], []
    for h in heard:
        word = h.hit.word.lower()
        best = min((i for i, w in enumerate(spoken) if w.text == word and i not in used
                    and abs(h.hit.end - w.end) <= TOLERANCE_S), key=lambda i: abs(h.hit.end - spoken[i].end),
                   default=None)
        if best is None:
            false[word] = false.get(word, 0) + 1
            false_hits.append(h)
            continue
        used.add(best)
        hits[word] += 1
        errors.append((h.hit.end - spoken[best].end) * 1000.0)
        delays.append((h.fed - spoken[best].end) * 1000.0)
    return Score(keywords, said, hits, false, seconds / 60.0, errors, delays, false_hits)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _spoken(words: list[Word], keywords: list[str]) -> list[Word]:
    """Keyword occurrences in the word list; a phrase spans several words (start of the first, end of the last)."""
    out = []
    for keyword in keywords:
        parts = keyword.split()
        for i in range(len(words) - len(parts) + 1):
            if [w.text for w in words[i:i + len(parts)]] == parts:
                out.append(Word(keyword, words[i].start, words[i + len(parts) - 1].end))
    return sorted(out, key=lambda w: w.end)

