"""PocketSphinx keyword spotting with the English model its PyPI wheel ships (works offline).

Two stages, so a keyword fires only on the word that was said, and an optional third:

1. **Spotting.** All keywords in one keyphrase (``kws``) search, each with a threshold derived
   from its length in phones (``auto_threshold``): a short word needs far stronger evidence
   than a long one, which accumulates evidence over more frames.
   The search also holds, for each keyword, the ``CONFUSERS`` most frequent English words
   that sound almost like it (one phone apart, or the keyword's phones starting a longer word:
   "no" and "slow" for "snow", "snowing" too). They never fire: they are
   there to win against the keyword when one of them is what was said.
2. **Deciding.** A detection waits ``HOLD_S`` for rivals. Detections that overlap in time are
   one spoken word: the one with the best detection probability (the keyword path against
   PocketSphinx's phone loop, per frame) wins, the others are dropped; a keyword detected again
   inside the word it already fired for is the same word. A winning keyword fires when its
   probability reaches ``min_confidence``.
3. **Verifying** (optional: ``verified``, the ``verify`` option). A more permissive stage 1
   without rival words, whose winners fire only when a language model decode of the audio around
   them hears the keyword too (``verify.LanguageModelVerifier``). Far fewer false events, but on
   the evaluation sets it also loses many spoken keywords and costs several times the CPU, so it
   is not the default (docs/speech.md, "Accuracy").
"""

from __future__ import annotations

import bisect
import itertools
import math
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from edgefx.errors import ConfigError
from edgefx.plugins.speech.recognizer import Hit, Utterance
from edgefx.plugins.speech.segments import FRAME_S
from edgefx.plugins.speech.verify import LanguageModelVerifier

HOLD_S = 0.1
"""How long a detection waits for an overlapping rival before it fires."""
FORGET_S = 2.0
"""Detections older than this are forgotten (no rival reaches that far)."""
RESTART_S = 30.0
"""The search restarts after this long, at a decision, so its detection list stays short."""
BASE_EXPONENT = 10.0
PER_PHONE_EXPONENT = 6.0
"""``auto_threshold``: 10 ** (BASE_EXPONENT - PER_PHONE_EXPONENT * phones)."""
MIN_CONFIDENCE = 0.87
"""Default detection probability a keyword needs to fire."""
CONFUSERS = 3
RARE = -400000
"""Unigram log probability (PocketSphinx's log base) below which a word is too rare to compete."""
CONFUSER_MARGIN = 0.02
"""How much more probable a sound-alike word must be to silence a keyword."""
"""Sound-alike words of each kind per keyword that compete in the search (the most frequent ones)."""


def auto_threshold(phones: int) -> float:
    """The keyphrase threshold for a keyword of ``phones`` phones: 1e-2 for 2 phones ("go"),
    1e-14 for 4 ("snow" has 3: 1e-8), 1e-26 for 6."""
    return 10.0 ** (BASE_EXPONENT - PER_PHONE_EXPONENT * phones)


@dataclass(slots=True)
class Candidate:
    """A keyphrase detection waiting for its decision (times in seconds of media time)."""

    word: str
    start: float
    end: float
    prob: float
    heard_at: float
    state: str = "waiting"
    """waiting, fired, dropped (by pass 1) or rejected (by the verifier)."""

    def overlaps(self, other: Candidate) -> bool:
        """Whether the two cover the same stretch of speech (by at least 30 % of the shorter)."""
        shared = min(self.end, other.end) - max(self.start, other.start)
        return shared > 0.3 * min(self.end - self.start, other.end - other.start)


class SphinxRecognizer:
    """Keyword spotting as described in the module docstring. ``threshold`` overrides the
    phone-count thresholds for every keyword, ``thresholds`` per keyword (a likelihood ratio,
    typically 1e-40 .. 1e+10: lower fires more readily); ``min_confidence`` (0..1) is the
    detection probability a winner needs, ``confidences`` per keyword. ``verifier``: a second
    pass that must confirm each winner before it fires (``verified``); ``threshold_scale``
    multiplies the phone-count thresholds; ``rivals``: sound-alike words of each kind per keyword."""

    name = "pocketsphinx"

    def __init__(self, keywords: list[str], threshold: float | None = None,
                 thresholds: Mapping[str, float] | None = None, min_confidence: float = MIN_CONFIDENCE,
                 confidences: Mapping[str, float] | None = None,
                 verifier: LanguageModelVerifier | None = None, threshold_scale: float = 1.0,
                 rivals: int = CONFUSERS) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL", lm=None)
        self.keywords = [k.lower() for k in keywords]
        missing = [w for k in self.keywords for w in k.split() if self.decoder.lookup_word(w) is None]
        if missing:
            raise ConfigError(f"speech: {', '.join(map(repr, missing))} not in the PocketSphinx English dictionary",
                              "choose English keywords (cmudict words) or use a Vosk model for other words")
        given = {k.lower(): v for k, v in (thresholds or {}).items()}
        self.thresholds = {k: given.get(k, threshold if threshold is not None
                                        else auto_threshold(self.phones(k)) * threshold_scale)
                           for k in self.keywords}
        given = {k.lower(): v for k, v in (confidences or {}).items()}
        self.confidences = {k: given.get(k, min_confidence) for k in self.keywords}
        self.confusers = confusers(self.decoder, self.keywords, rivals)
        lines = [f"{k} /{t:.3g}/" for k, t in self.thresholds.items()]
        lines += [f"{w} /{auto_threshold(self.phones(w)):.3g}/" for w in self.confusers]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "keywords.kws"
            path.write_text("\n".join(lines) + "\n")
            self.decoder.add_kws("keywords", str(path))
        self.decoder.activate_search("keywords")
        self.verifier = verifier
        self.utt = Utterance()
        self._started = False
        self._seen: set[tuple[str, int, int]] = set()
        self._candidates: list[Candidate] = []

    def phones(self, keyword: str) -> int:
        """The keyword's length in phones (first pronunciation of each word)."""
        return sum(len(self.decoder.lookup_word(w).split()) for w in keyword.split())

    def feed(self, samples: np.ndarray, t0: float) -> list[Hit]:
        if self.utt.advance(samples.size, t0):
            self._restart()
            self._candidates.clear()
        self.decoder.process_raw(samples.astype(np.int16, copy=False).tobytes())
        if self.verifier is not None:
            self.verifier.add(samples, t0)
        now = self.utt.now
        if self.decoder.hyp() is not None:
            for seg in self.decoder.seg():
                key = (seg.word.strip(), seg.start_frame, seg.end_frame)
                if key not in self._seen:
                    self._seen.add(key)
                    self._candidates.append(Candidate(key[0], self.utt.at(seg.start_frame * FRAME_S),
                                                      self.utt.at((seg.end_frame + 1) * FRAME_S), _prob(seg.prob), now))
        hits = self._decide(now)
        self._candidates = [c for c in self._candidates if now - c.heard_at < FORGET_S]
        if now - self.utt.t0 > RESTART_S and not any(c.state == "waiting" for c in self._candidates):
            self._restart(keep_clock=True)
        return hits

    def _decide(self, now: float) -> list[Hit]:
        hits = []
        for c in self._candidates:
            if c.state != "waiting" or now < c.heard_at + HOLD_S:
                continue
            if self.verifier is not None and c.word in self.confidences and not self.verifier.ready(c.end):
                continue
            if c.word not in self.confidences:  # a confuser: competes, never fires
                c.state = "dropped" if c.prob < MIN_CONFIDENCE else "fired"
                continue
            near = [o for o in self._candidates if o is not c and o.overlaps(c)]
            again = any(o.word == c.word and o.state in ("fired", "rejected") for o in near)
            beaten = any(self._beats(o, c) for o in near if o.word != c.word and o.state in ("waiting", "fired"))
            if again or beaten or c.prob < self.confidences[c.word]:
                c.state = "dropped"
                continue
            if self.verifier is not None and not self.verifier.confirms(c.word, c.start, c.end,
                                                                        self.decoder.get_cmn()):
                c.state = "rejected"
                continue
            c.state = "fired"
            hits.append(Hit(c.word, c.end, c.prob))
        return hits

    def _beats(self, rival: Candidate, c: Candidate) -> bool:
        """A rival keyword wins on probability (a tie: the longer); a confuser by ``CONFUSER_MARGIN``."""
        if rival.word not in self.confidences:
            return rival.prob > c.prob + CONFUSER_MARGIN
        return (rival.prob, rival.end - rival.start) > (c.prob, c.end - c.start)

    def _restart(self, keep_clock: bool = False) -> None:
        if self._started:
            self.decoder.end_utt()
        self.decoder.start_utt()
        self._started = True
        self._seen.clear()
        if keep_clock:  # frame numbers start again at 0 from the audio not yet fed
            self.utt.t0, self.utt.samples = self.utt.now, 0


def confusers(decoder, keywords: list[str], per_keyword: int) -> list[str]:
    """Up to ``per_keyword`` of each kind of sound-alike word for each one-word keyword, the most
    frequent first (unigram probability in the English language model): longer words starting
    with its phones, and words one phone apart (substituted, added or left out). Homophones and
    the keywords themselves are left out."""
    from pocketsphinx import LogMath, NGramModel

    said = {k: tuple(decoder.lookup_word(k).split()) for k in keywords if " " not in k}
    if not said:
        return []
    words, prons = _pronunciations(decoder.config["dict"])
    phones = sorted({p for pron in words for p in pron})
    lm = NGramModel(decoder.config, LogMath(), str(Path(decoder.config["hmm"]).parent / "en-us.lm.bin"))
    chosen: list[str] = []
    for target in said.values():
        prefix = " ".join(target) + " "
        start = bisect.bisect_left(prons, (prefix, ""))
        entries = itertools.takewhile(lambda e, prefix=prefix: e[0].startswith(prefix), prons[start:])
        longer = {w for text, w in entries if text != prefix}
        near = {w for pron in _one_phone_apart(target, phones) for w in words.get(pron, ())}
        for found in (longer, near):
            ranked = sorted((w for w in found if w not in said and w not in chosen and "'" not in w
                             and lm.prob([w]) > RARE), key=lambda w: -lm.prob([w]))
            chosen += ranked[:per_keyword]
    return chosen


@cache
def _pronunciations(path: str) -> tuple[dict[tuple[str, ...], list[str]], list[tuple[str, str]]]:
    """The dictionary's first pronunciations: phones -> words, and sorted ("P H O N E S", word)."""
    words: dict[tuple[str, ...], list[str]] = {}
    prons = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, _, rest = line.rstrip("\n").partition(" ")
            if "(" not in word:
                words.setdefault(tuple(rest.split()), []).append(word)
                prons.append((rest + " ", word))
    prons.sort()
    return words, prons


def _one_phone_apart(target: tuple[str, ...], phones: list[str]) -> set[tuple[str, ...]]:
    out = set()
    for i in range(len(target) + 1):
        out.update((*target[:i], p, *target[i:]) for p in phones)  # one added
        if i < len(target):
            out.add(target[:i] + target[i + 1:])  # one left out
            out.update((*target[:i], p, *target[i + 1:]) for p in phones)  # one substituted
    out.discard(target)
    out.discard(())
    return out


def _prob(value: float) -> float:
    """PocketSphinx reports a probability (0..1) or, on some builds, its log."""
    return float(value) if 0.0 <= value <= 1.0 else float(min(1.0, math.exp(value)))


VERIFY_SCALE = 1e-2
"""``verified``: pass 1 thresholds are the phone-count ones times this (lower: more candidates)."""
VERIFY_MIN_CONFIDENCE = 0.8
"""``verified``: the detection probability a candidate needs before the verifier hears it."""


def verified(keywords: list[str], threshold: float | None = None, thresholds: Mapping[str, float] | None = None,
             min_confidence: float | None = None,
             confidences: Mapping[str, float] | None = None) -> SphinxRecognizer:
    """The two-pass spotter (the ``verify`` option): a keyphrase search more permissive than the
    default one (``VERIFY_SCALE``, ``VERIFY_MIN_CONFIDENCE``, no sound-alike rivals: the
    language model does their job) whose winners fire only when a language model decode of the
    audio around them hears the keyword too. Explicit settings override pass 1 as in
    ``SphinxRecognizer``."""
    return SphinxRecognizer(keywords, threshold, thresholds, min_confidence or VERIFY_MIN_CONFIDENCE, confidences,
                            LanguageModelVerifier(), threshold_scale=VERIFY_SCALE, rivals=0)
