"""Vosk keyword spotting with any Vosk model directory.

Where the model has a runtime graph (``graph/HCLr.fst`` + ``graph/Gr.fst``) recognition is
restricted to a grammar: the keywords, optional filler words, and ``[unk]`` when the model
knows it. A keyword fires from the partial result as soon as it shows up (time: the audio
heard so far, confidence unknown; it can come early, while the word is still being spoken),
or else from the final result (the word's end time and
confidence). Models with a static graph recognise freely and the keywords are picked out.
"""

from __future__ import annotations

import json
import mmap
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from edgefx.errors import ConfigError
from edgefx.io.audio import RATE
from edgefx.plugins.speech.recognizer import Hit, Utterance

MODELS_URL = "https://alphacephei.com/vosk/models"
SMALL_EN = "vosk-model-small-en-us-0.15"


def check_model_dir(model_dir: str) -> Path:
    """The model directory if it holds a Vosk model, else a ``ConfigError`` saying where to get one."""
    path = Path(model_dir).expanduser()
    if model_dir and (path / "am" / "final.mdl").is_file() and (path / "conf" / "model.conf").is_file():
        return path
    problem = f"no Vosk model at {path} (expected am/final.mdl and conf/model.conf there)" if model_dir \
        else "the Vosk backend needs a model directory and none is set"
    raise ConfigError(
        f"speech: {problem}",
        f"download one from {MODELS_URL} (small English: {SMALL_EN}.zip, 40 MB), unzip it and set "
        f'[analyzers.speech] model = "/path/to/{SMALL_EN}"; or leave model empty to use PocketSphinx')


def has_runtime_graph(path: Path) -> bool:
    """Whether the model accepts a grammar (Vosk needs a runtime graph for that)."""
    return (path / "graph" / "HCLr.fst").is_file() and (path / "graph" / "Gr.fst").is_file()


def knows_word(path: Path, word: str) -> bool:
    """Whether the model's vocabulary has ``word`` (``graph/words.txt``, else the symbols in ``Gr.fst``)."""
    words = path / "graph" / "words.txt"
    if words.is_file():
        return any(line.split(" ", 1)[0] == word for line in words.read_text(encoding="utf-8").splitlines())
    grammar = path / "graph" / "Gr.fst"
    if not grammar.is_file():
        return False
    with grammar.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(word.encode()) >= 0


class VoskRecognizer:
    """Streams audio into a ``KaldiRecognizer``; ``fillers`` are grammar words that absorb other
    speech and never fire (useful for models without ``[unk]``); final hits below
    ``min_confidence`` are ignored. ``partials=False`` waits for final results (exact word ends,
    after the speaker pauses) instead of firing from the partial hypothesis, which can name a
    keyword before it has been fully spoken."""

    name = "vosk"

    def __init__(self, keywords: list[str], model_dir: str, fillers: list[str] | tuple[str, ...] = (),
                 min_confidence: float = 0.0, partials: bool = True) -> None:
        import vosk

        path = check_model_dir(model_dir)
        self.keywords = [k.lower() for k in keywords]
        unknown = [w for k in self.keywords for w in k.split() if not knows_word(path, w)]
        if unknown:
            raise ConfigError(f"speech: {', '.join(map(repr, unknown))} not in the vocabulary of the Vosk model {path}",
                              "choose keywords in the model's language (its graph/words.txt lists them, when present)")
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.model = vosk.Model(str(path))
        self.min_confidence = min_confidence
        self.partials = partials
        self.grammar: list[str] | None = None
        if has_runtime_graph(path):
            self.grammar = [*self.keywords, *(f.lower() for f in fillers if f.lower() not in self.keywords)]
            if knows_word(path, "[unk]"):
                self.grammar.append("[unk]")
        self.has_unk = self.grammar is not None and "[unk]" in self.grammar
        self._patterns = {k: re.compile(rf"(?<!\S){re.escape(k)}(?!\S)") for k in self.keywords}
        self.utt = Utterance()
        self._fired: Counter[str] = Counter()
        self._rec: Any = None
        self.last_result: list[dict[str, Any]] = []
        """Words of the latest final result (``word``, ``start``, ``end`` in media time, ``conf``): diagnostics."""

    def _new_recognizer(self) -> None:
        """A fresh recognizer: its word times count from the utterance start."""
        args = [json.dumps(self.grammar, ensure_ascii=False)] if self.grammar is not None else []
        self._rec = self._vosk.KaldiRecognizer(self.model, RATE, *args)
        self._rec.SetWords(True)
        self._fired.clear()

    def feed(self, samples: np.ndarray, t0: float) -> list[Hit]:
        if self.utt.advance(samples.size, t0):
            self._new_recognizer()
        if self._rec.AcceptWaveform(samples.astype(np.int16, copy=False).tobytes()):
            return self._final(json.loads(self._rec.Result()).get("result", []))
        if not self.partials:
            return []
        return self._partial(json.loads(self._rec.PartialResult()).get("partial", ""))

    def _partial(self, text: str) -> list[Hit]:
        hits = []
        for word, pattern in self._patterns.items():
            new = len(pattern.findall(text)) - self._fired[word]
            if new > 0:
                self._fired[word] += new
                hits += [Hit(word, self.utt.now, None, exact=False)] * new
        return hits

    def _final(self, words: list[dict[str, Any]]) -> list[Hit]:
        """Keywords of a final result not already fired from partials; phrases match word runs."""
        self.last_result = [{**w, "start": self.utt.at(float(w["start"])), "end": self.utt.at(float(w["end"]))}
                            for w in words]
        hits = []
        seen: Counter[str] = Counter()
        tokens = [w["word"].lower() for w in words]
        for keyword in self.keywords:
            parts = keyword.split()
            for i in range(len(tokens) - len(parts) + 1):
                if tokens[i:i + len(parts)] != parts:
                    continue
                seen[keyword] += 1
                last = words[i + len(parts) - 1]
                conf = min(float(w.get("conf", 1.0)) for w in words[i:i + len(parts)])
                if seen[keyword] > self._fired[keyword] and conf >= self.min_confidence:
                    hits.append(Hit(keyword, self.utt.at(float(last["end"])), conf))
        self._fired.clear()
        return sorted(hits, key=lambda h: h.end)
