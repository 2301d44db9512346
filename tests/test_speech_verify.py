"""The second pass of PocketSphinx keyword spotting (``verify``) on real recorded English:
Debian's pocketsphinx-testdata "go forward ten meters". The keyphrase search alone, made
permissive, fires sound-alike words the speaker never said; the language model decode of the
audio around each candidate rejects them and keeps the words that were said."""

from __future__ import annotations

import numpy as np
import pytest

from edgefx.io.audio import RATE
from edgefx.plugins.speech.analyzer import SpeechAnalyzer, create_recognizer
from edgefx.plugins.speech.samples import GOFORWARD, GOFORWARD_ENDS, load_raw
from edgefx.plugins.speech.scoring import spot
from edgefx.plugins.speech.sphinx import VERIFY_MIN_CONFIDENCE, SphinxRecognizer, verified
from edgefx.plugins.speech.verify import AudioHistory, LanguageModelVerifier

pytestmark = pytest.mark.skipif(not GOFORWARD.is_file(), reason="apt-get install pocketsphinx-testdata")


def fired(recognizer: SphinxRecognizer) -> list[tuple[str, float]]:
    return [(h.hit.word, h.hit.end) for h in spot(recognizer, load_raw())]


@pytest.mark.parametrize("word", ["four", "tent", "me"])
def test_a_sound_alike_word_is_rejected_by_the_second_pass(word: str) -> None:
    """"four" (in "forward"), "tent" ("ten meters"), "me" (in "meters"): pass 1 fires them alone."""
    assert [w for w, _ in fired(SphinxRecognizer([word], min_confidence=VERIFY_MIN_CONFIDENCE))] == [word]
    assert fired(verified([word])) == []


def test_spoken_keywords_are_kept_at_their_word_end() -> None:
    heard = fired(verified(["four", "go", "forward", "ten", "meters"]))
    assert [w for w, _ in heard] == ["go", "forward", "ten", "meters"]
    for word, end in heard:
        assert abs(end - GOFORWARD_ENDS[word]) <= 0.15, (word, end)  # pass 1 ends, as without verification


def test_the_verifier_hears_the_words_around_a_candidate() -> None:
    verifier = LanguageModelVerifier()
    raw = load_raw()
    for start in range(0, raw.size, 320):
        verifier.add(raw[start:start + 320], 10.0 + start / RATE)
    forward = (10.0 + GOFORWARD_ENDS["go"], 10.0 + GOFORWARD_ENDS["forward"])
    words = [w for w, _, _ in verifier.words(*forward)]
    assert "forward" in words and "four" not in words, words
    assert verifier.confirms("forward", *forward)
    assert not verifier.confirms("four", *forward)
    assert not verifier.confirms("meters", *forward)  # said, but not at that time


def test_audio_history_keeps_recent_audio_by_media_time() -> None:
    history = AudioHistory(keep_s=1.0)
    raw = load_raw()
    for start in range(0, raw.size, 320):
        history.add(raw[start:start + 320], 5.0 + start / RATE)
    end = 5.0 + raw.size / RATE
    samples, first = history.window(end - 0.5, end)
    assert first == pytest.approx(end - 0.5) and np.array_equal(samples, raw[-RATE // 2:])
    samples, first = history.window(0.0, end)  # clipped to the last second (and a chunk)
    assert end - 1.02 <= first <= end - 1.0 and np.array_equal(samples, raw[-samples.size:])
    history.add(raw[:320], 20.0)  # a seek: what came before is forgotten
    samples, first = history.window(0.0, 30.0)
    assert first == pytest.approx(20.0) and samples.size == 320


def test_the_verify_option_builds_the_two_pass_spotter() -> None:
    settings = {key: opt.default for key, opt in SpeechAnalyzer.options.items()}
    assert create_recognizer({**settings, "keywords": ["forward"]}).verifier is None
    recognizer = create_recognizer({**settings, "keywords": ["forward"], "verify": True})
    assert recognizer.verifier is not None
    assert recognizer.confidences == {"forward": VERIFY_MIN_CONFIDENCE}
