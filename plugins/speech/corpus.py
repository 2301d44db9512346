"""Real recorded English speech from Debian packages, with word times, for the accuracy benchmark,
``edgefx speech tune`` and the tests. Nothing here is synthesised.

- ``asterisk-core-sounds-en-g722``: Allison Smith reading 500+ telephone prompts (16 kHz G.722),
  with their text in ``asterisk-core-sounds-en``'s ``core-sounds-en.txt``: continuous read
  speech, and isolated words (digits, letters, the phonetic alphabet).
- ``alsa-utils``: a man saying speaker positions ("Front Left", ...) and a burst of noise.
- ``pocketsphinx-testdata``: LibriVox prose (a woman), card names, "go forward ten meters" and
  other speakers.

Word times come from PocketSphinx forced alignment of the known text (cached under the user
cache folder, keyed by the audio and the text), so a keyword hit can be matched to the word
that was said.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from edgefx.io.audio import RATE
from edgefx.plugins.speech.samples import TESTDATA
from edgefx.plugins.speech.segments import words_heard

ASTERISK = Path("/usr/share/asterisk/sounds/en_US_f_Allison")
ASTERISK_TEXT = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
ALSA = Path("/usr/share/sounds/alsa")
PACKAGES = {ASTERISK: "asterisk-core-sounds-en-g722", ASTERISK_TEXT: "asterisk-core-sounds-en",
            ALSA: "alsa-utils", TESTDATA: "pocketsphinx-testdata"}
"""Where each source lives and the Debian package that puts it there."""

PAD_S = 0.3
"""Quiet padding around a recording for its alignment (seconds)."""
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {"20": "twenty", "30": "thirty", "40": "forty", "50": "fifty", "60": "sixty", "70": "seventy",
         "80": "eighty", "90": "ninety"}


@dataclass(frozen=True, slots=True)
class Word:
    """A word said in a recording, from ``start`` to ``end`` (seconds into it)."""

    text: str
    start: float
    end: float


@dataclass(slots=True)
class Recording:
    """16 kHz mono int16 speech with its transcript and word times."""

    name: str
    speaker: str
    samples: np.ndarray
    text: str
    words: list[Word] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return self.samples.size / RATE


def missing_sources() -> list[str]:
    """Debian packages still to install for the evaluation sets (``apt-get install ...``)."""
    return sorted({pkg for path, pkg in PACKAGES.items() if not path.exists()})


def decode(path: Path) -> np.ndarray:
    """Any audio file (``.g722`` raw G.722 too) as 16 kHz mono int16, decoded and resampled with PyAV."""
    if path.suffix == ".raw":
        return np.fromfile(path, np.int16)
    options = {"format": "g722"} if path.suffix == ".g722" else {}
    resampler = av.AudioResampler(format="s16", layout="mono", rate=RATE)
    with av.open(str(path), **options) as container:
        frames = [resampler.resample(f) for f in container.decode(audio=0)]
    chunks = [o.to_ndarray().reshape(-1) for group in [*frames, resampler.resample(None)] for o in group]
    return np.concatenate(chunks).astype(np.int16)


def normalise(text: str) -> str:
    """Prompt text as words a dictionary knows: digits spelled out, ``#`` "pound", ``*`` "star"."""
    text = text.lower().replace("#", " pound ").replace("*", " star ").replace("-", " ")
    text = re.sub(r"\[[^]]*\]|\([^)]*\)", " ", text)
    out = []
    for token in re.findall(r"[a-z']+|\d+", text):
        if token.isdigit():
            n = int(token)
            if n < 20:
                out.append(_NUMBERS[n])
            elif token in _TENS:
                out.append(_TENS[token])
            else:
                out += [_NUMBERS[int(d)] for d in token]
        else:
            out.append(token.strip("'"))
    return " ".join(w for w in out if w)


def asterisk_prompts() -> dict[str, str]:
    """Prompt name (path under the sounds folder, no suffix) -> its text."""
    prompts = {}
    with gzip.open(ASTERISK_TEXT, "rt", encoding="utf-8", errors="replace") as f:
        for line in f:
            name, sep, text = line.partition(":")
            if sep and not line.startswith(";") and (ASTERISK / f"{name.strip()}.g722").is_file():
                prompts[name.strip()] = text.strip()
    return prompts


class Aligner:
    """Forced alignment with the PocketSphinx English model; results cached as JSON per recording."""

    def __init__(self, cache: Path | None = None) -> None:
        from platformdirs import user_cache_dir
        from pocketsphinx import Decoder

        self.cache = cache or Path(user_cache_dir("edgefx")) / "speech-align"
        self.cache.mkdir(parents=True, exist_ok=True)
        self._decoder = Decoder(loglevel="FATAL", lm=None)

    def known(self, text: str) -> bool:
        return bool(text) and all(self._decoder.lookup_word(w) is not None for w in text.split())

    def words(self, samples: np.ndarray, text: str) -> list[Word] | None:
        """The words of ``text`` with their times, or None when the alignment fails."""
        key = hashlib.sha256(samples.tobytes() + text.encode()).hexdigest()[:24]
        path = self.cache / f"{key}.json"
        if path.is_file():
            data = json.loads(path.read_text())
        else:
            data = self._align(samples, text)
            path.write_text(json.dumps(data))
        return None if data is None else [Word(*w) for w in data]

    def _align(self, samples: np.ndarray, text: str) -> list[list] | None:
        """Align with quiet noise padded on both sides: prompts are cut tight, and without room for
        silence the last word would stretch to the end of the file."""
        pad = np.random.default_rng(0).normal(0, 4, round(PAD_S * RATE)).astype(np.int16)
        d = self._decoder
        d.set_align_text(text)
        d.start_utt()
        d.process_raw(np.concatenate([pad, samples, pad]).tobytes(), full_utt=True)
        d.end_utt()
        words = [[word, round(start - PAD_S, 2), round(end - PAD_S, 2)] for word, start, end in words_heard(d)]
        return words if words and [w[0] for w in words] == text.split() else None


def _aligned(aligner: Aligner, name: str, speaker: str, samples: np.ndarray, text: str) -> Recording | None:
    if not aligner.known(text):
        return None
    words = aligner.words(samples, text)
    return None if words is None else Recording(name, speaker, samples, text, words)


def allison(aligner: Aligner, isolated: bool) -> Iterator[Recording]:
    """The Asterisk prompts: sentences (``isolated=False``) or the one-word prompts of
    ``digits/``, ``letters/`` and ``phonetic/`` (``isolated=True``), in name order."""
    for name, raw in sorted(asterisk_prompts().items()):
        text = normalise(raw)
        one_word = name.split("/")[0] in ("digits", "letters", "phonetic")
        if one_word != isolated or (not isolated and len(text.split()) < 3):
            continue
        rec = _aligned(aligner, f"asterisk/{name}", "allison", decode(ASTERISK / f"{name}.g722"), text)
        if rec is not None:
            yield rec


def alsa_positions(aligner: Aligner) -> Iterator[Recording]:
    """alsa-utils' "Front Left" ... "Side Right" (one man)."""
    for path in sorted(ALSA.glob("*_*.wav")):
        text = path.stem.replace("_", " ").lower()
        rec = _aligned(aligner, f"alsa/{path.stem}", "alsa", decode(path), text)
        if rec is not None:
            yield rec


def alsa_noise() -> np.ndarray:
    """alsa-utils' noise burst (``Noise.wav``)."""
    return decode(ALSA / "Noise.wav")


def testdata(aligner: Aligner) -> Iterator[Recording]:
    """pocketsphinx-testdata recordings with a transcript: LibriVox prose, cards, goforward."""
    lines = (TESTDATA / "librivox" / "transcription").read_text().splitlines()
    for line in lines:
        text, name = re.match(r"<s> (.*) </s> \((.*)\)", line).groups()
        rec = _aligned(aligner, f"librivox/{name}", "librivox", decode(TESTDATA / "librivox" / f"{name}.wav"),
                       " ".join(text.split()))
        if rec is not None:
            yield rec
    for line in (TESTDATA / "cards" / "cards.transcription").read_text().splitlines():
        text, name = re.match(r"<s> (.*) </s> \((.*)\)", line).groups()
        rec = _aligned(aligner, f"cards/{name}", "cards", decode(TESTDATA / "cards" / f"{name}.wav"),
                       " ".join(text.split()))
        if rec is not None:
            yield rec
    rec = _aligned(aligner, "goforward", "goforward", decode(TESTDATA / "goforward.raw"), "go forward ten meters")
    if rec is not None:
        yield rec
