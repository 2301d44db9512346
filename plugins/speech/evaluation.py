"""The evaluation sets of keyword spotting: real recordings from Debian packages (``corpus``),
keyword sets of 4 and 8 words with short words and confusable pairs, and how a spotter scores
on them (``edgefx bench --only speech_accuracy``).

The thresholds of ``sphinx`` were chosen on the ``tuning`` sets only; ``held out`` sets were
never looked at while choosing them and are reported on their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from edgefx.plugins.speech import corpus
from edgefx.plugins.speech.recognizer import Recognizer
from edgefx.plugins.speech.scoring import Stream, join, score, spot


@dataclass(frozen=True, slots=True)
class EvalSet:
    """Recordings joined into one stream, and the keyword sets to spot in it."""

    name: str
    kind: str
    split: str
    """``tuning`` or ``held out``."""
    keyword_sets: tuple[tuple[str, ...], ...]
    stream: Callable[[], Stream]


@cache
def _aligner() -> corpus.Aligner:
    return corpus.Aligner()


@cache
def _prompts() -> tuple[corpus.Recording, ...]:
    return tuple(corpus.allison(_aligner(), isolated=False))


def _continuous(part: int) -> Stream:
    return join(_prompts()[part::2])


def _isolated() -> Stream:
    return join(corpus.allison(_aligner(), isolated=True), gap_s=0.5)


def _noise() -> Stream:
    noise = corpus.alsa_noise()
    return join([x for rec in corpus.alsa_positions(_aligner()) for x in (rec, noise)])


def _speakers() -> Stream:
    return join(corpus.testdata(_aligner()))


PROMPT_WORDS = (("press", "call", "increase", "decrease"),
                ("please", "pound", "key", "mute", "volume", "try", "star", "enter"))
"""Short words (key, try, star, call), pairs that sound alike (increase/decrease, mute in
"unmute"), frequent and rare ones."""

SETS = (
    EvalSet("continuous", "continuous read speech (Asterisk prompts, even ones)", "tuning", PROMPT_WORDS,
            lambda: _continuous(0)),
    EvalSet("continuous_held_out", "continuous read speech (Asterisk prompts, odd ones)", "held out", PROMPT_WORDS,
            lambda: _continuous(1)),
    EvalSet("isolated", "isolated words (digits, letters, phonetic alphabet)", "tuning",
            (("five", "nine", "alpha", "hotel"),
             ("one", "two", "three", "seven", "eleven", "oscar", "victor", "golf")), _isolated),
    EvalSet("noise", "speaker positions (alsa-utils) with a burst of noise after each", "tuning",
            (("front", "rear", "left", "right"), ("front", "rear", "left", "right", "center", "side")), _noise),
    EvalSet("speakers", "several speakers: LibriVox prose, card names, go forward", "held out",
            (("clubs", "hearts", "spades", "seven"),
             ("hearts", "clubs", "queen", "four", "forward", "selfish", "himself", "power")), _speakers),
)

PARTY_KEYWORDS = ("snow", "fire", "hearts", "stop")
"""configs/party.toml's keywords: none of them is said in the Asterisk prompts."""


def party_stream(min_seconds: float = 180.0) -> Stream:
    """At least ``min_seconds`` of continuous prompts that never say a party keyword."""
    chosen, seconds = [], 0.0
    for rec in _prompts():
        if not set(rec.text.split()) & set(PARTY_KEYWORDS):
            chosen.append(rec)
            seconds += rec.seconds + 0.3
        if seconds >= min_seconds:
            break
    return join(chosen)


def evaluate(make: Callable[[list[str]], Recognizer], sets: tuple[EvalSet, ...] = SETS) -> dict:
    """Every set and keyword set: the ``Score`` summary plus the spotter's CPU per audio second."""
    out = {}
    for evalset in sets:
        stream = evalset.stream()
        rows = {}
        for keywords in evalset.keyword_sets:
            recognizer = make(list(keywords))
            cpu = time.thread_time()
            heard = spot(recognizer, stream.samples)
            cpu = time.thread_time() - cpu
            rows[f"{len(keywords)} keywords"] = {
                "keywords": list(keywords), **score(heard, stream.words, list(keywords), stream.seconds).summary(),
                "cpu_share_pct": round(100.0 * cpu / stream.seconds, 2)}
        out[evalset.name] = {"kind": evalset.kind, "split": evalset.split, **rows}
    return out
