"""Second pass of PocketSphinx keyword spotting: a candidate keyword is kept only when a decoder
with the full English language model of the wheel, run over the audio around it, also hears the
keyword there.

The keyphrase search (pass 1) compares the keyword's path with a phone loop, so a keyword's
sounds inside other words ("snow" in "...conference number") or across a word boundary pass it.
The language model decode knows which word sequences are English, so it names the words that
were really said; the candidate is confirmed when its keyword is among them, overlapping the
candidate's time.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from edgefx.io.audio import RATE
from edgefx.plugins.speech.segments import words_heard

BEFORE_S = 0.6
"""Audio decoded before the candidate's start (context for the language model)."""
AFTER_S = 0.25
"""Audio decoded after the candidate's end: the verdict waits for it."""
KEEP_S = 4.0
"""Recent audio kept for the windows."""
BEAMS = {"fwdflat": False, "bestpath": False}
"""Search settings of the verifier: PocketSphinx's default beams (narrower ones, 1e-40, lost a
third of the keywords on the tuning sets), one forward pass only (no flat-lexicon rescoring or
lattice best path) to save CPU."""


class AudioHistory:
    """The last ``KEEP_S`` of audio by media time (16 kHz mono int16)."""

    def __init__(self, keep_s: float = KEEP_S) -> None:
        self.keep = round(keep_s * RATE)
        self._chunks: deque[np.ndarray] = deque()
        self._size = 0
        self.end: float | None = None
        """Media time just after the last sample."""

    def add(self, samples: np.ndarray, t0: float) -> None:
        """Append ``samples`` starting at ``t0``; a gap or a seek forgets what came before."""
        if self.end is None or abs(t0 - self.end) > 0.1:
            self._chunks.clear()
            self._size = 0
        self._chunks.append(samples.astype(np.int16, copy=False))
        self._size += samples.size
        self.end = t0 + samples.size / RATE
        while self._size - self._chunks[0].size >= self.keep:
            self._size -= self._chunks.popleft().size

    def window(self, start: float, end: float) -> tuple[np.ndarray, float]:
        """The samples from ``start`` to ``end`` (clipped to what is kept) and the time of the first."""
        if self.end is None or not self._chunks:
            return np.zeros(0, np.int16), start
        data = np.concatenate(self._chunks)
        first = self.end - data.size / RATE
        a = max(0, round((start - first) * RATE))
        b = max(a, min(data.size, round((end - first) * RATE)))
        return data[a:b], first + a / RATE


class LanguageModelVerifier:
    """Decodes the audio around a candidate with the wheel's English language model
    (``en-us.lm.bin``, PocketSphinx's default) and says whether the keyword was heard there."""

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL", **BEAMS)
        self.history = AudioHistory()

    def add(self, samples: np.ndarray, t0: float) -> None:
        """Keep the audio fed to the spotter (media time ``t0`` of its first sample)."""
        self.history.add(samples, t0)

    def ready(self, end: float) -> bool:
        """Whether the audio after a candidate ending at ``end`` has arrived."""
        return self.history.end is not None and self.history.end >= end + AFTER_S - 1e-6

    def words(self, start: float, end: float, cmn: str | None = None) -> list[tuple[str, float, float]]:
        """The words the language model hears from ``start - BEFORE_S`` to ``end + AFTER_S``, with
        their media times. ``cmn``: the spotter's cepstral mean, so a short window starts normalised."""
        samples, first = self.history.window(start - BEFORE_S, end + AFTER_S)
        if samples.size < RATE // 10:
            return []
        if cmn is not None:
            self.decoder.set_cmn(cmn)
        self.decoder.start_utt()
        self.decoder.process_raw(samples.tobytes(), full_utt=True)
        self.decoder.end_utt()
        return words_heard(self.decoder, first)

    def confirms(self, keyword: str, start: float, end: float, cmn: str | None = None) -> bool:
        """Whether the words heard around ``start``..``end`` include ``keyword`` (all its words in
        order) overlapping that stretch."""
        heard = self.words(start, end, cmn)
        parts = keyword.split()
        for i in range(len(heard) - len(parts) + 1):
            run = heard[i:i + len(parts)]
            if [w for w, _, _ in run] == parts and min(end, run[-1][2]) - max(start, run[0][1]) > 0:
                return True
        return False
