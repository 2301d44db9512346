"""PocketSphinx keyword spotting with the English model its PyPI wheel ships (works offline)."""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from edgefx.errors import ConfigError
from edgefx.plugins.speech.recognizer import Hit, Utterance

FRAME_S = 0.01
"""PocketSphinx frame period (seconds)."""


class SphinxRecognizer:
    """Keyphrase spotting (``kws`` search) with one threshold per keyword; word end times from
    the detection's segment. ``thresholds`` maps a keyword to its threshold (a likelihood ratio,
    typically 1e-40 .. 1e+10: lower fires more readily), others use ``threshold``."""

    name = "pocketsphinx"

    def __init__(self, keywords: list[str], threshold: float = 1e-20,
                 thresholds: Mapping[str, float] | None = None) -> None:
        from pocketsphinx import Decoder

        self.decoder = Decoder(loglevel="FATAL", lm=None)
        missing = [w for k in keywords for w in k.lower().split() if self.decoder.lookup_word(w) is None]
        if missing:
            raise ConfigError(f"speech: {', '.join(map(repr, missing))} not in the PocketSphinx English dictionary",
                              "choose English keywords (cmudict words) or use a Vosk model for other words")
        thresholds = {k.lower(): v for k, v in (thresholds or {}).items()}
        lines = [f"{k.lower()} /{thresholds.get(k.lower(), threshold):.3g}/" for k in keywords]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "keywords.kws"
            path.write_text("\n".join(lines) + "\n")
            self.decoder.add_kws("keywords", str(path))
        self.decoder.activate_search("keywords")
        self.utt = Utterance()
        self._started = False

    def feed(self, samples: np.ndarray, t0: float) -> list[Hit]:
        if self.utt.advance(samples.size, t0):
            self._restart()
        self.decoder.process_raw(samples.astype(np.int16, copy=False).tobytes())
        if self.decoder.hyp() is None:
            return []
        hits = [Hit(seg.word.strip(), self.utt.at((seg.end_frame + 1) * FRAME_S), _prob(seg.prob))
                for seg in self.decoder.seg()]
        self._restart(keep_clock=True)  # the detection is reported once; spotting goes on
        return hits

    def _restart(self, keep_clock: bool = False) -> None:
        if self._started:
            self.decoder.end_utt()
        self.decoder.start_utt()
        self._started = True
        if keep_clock:  # frame numbers start again at 0 from the audio not yet fed
            self.utt.t0, self.utt.samples = self.utt.now, 0


def _prob(value: float) -> float:
    """PocketSphinx reports a probability (0..1) or, on some builds, its log."""
    return float(value) if 0.0 <= value <= 1.0 else float(min(1.0, math.exp(value)))

