"""Keywords fire only on the words that were said (issue 24), on real recordings from Debian
packages (``edgefx.plugins.speech.corpus``): the party preset on three minutes of speech that
never says its words, a spoken keyword not firing its rival, `edgefx speech tune`, the trigger
log, the control panel's speech route, and a file input's own audio with the party preset."""

from __future__ import annotations

import json
import logging
import urllib.request
from pathlib import Path

import pytest

from edgefx.config import load_settings
from edgefx.plugins.speech import corpus
from edgefx.plugins.speech.analyzer import choose_mic, create_recognizer
from edgefx.plugins.speech.evaluation import PARTY_KEYWORDS, party_stream
from edgefx.plugins.speech.samples import GOFORWARD_ENDS, load_raw, mux_clip
from edgefx.plugins.speech.scoring import join, score, spot
from edgefx.plugins.speech.sphinx import SphinxRecognizer
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import sample_frames

pytestmark = pytest.mark.skipif(bool(corpus.missing_sources()),
                                reason=f"apt-get install {' '.join(corpus.missing_sources())}")


@pytest.fixture(scope="module")
def aligner() -> corpus.Aligner:
    return corpus.Aligner()


def test_party_keywords_fire_nothing_on_three_minutes_of_other_speech() -> None:
    stream = party_stream(180.0)
    assert stream.seconds >= 180.0 and not {w.text for w in stream.words} & set(PARTY_KEYWORDS)
    settings = load_settings("party").analyzers["speech"]
    assert settings["verify"] is True  # the preset confirms each keyword (without: 2 "snow" in "conference number")
    from edgefx.plugins.speech.analyzer import SpeechAnalyzer

    options = {**{k: o.default for k, o in SpeechAnalyzer.options.items()}, **settings}
    recognizer = create_recognizer(options)
    assert recognizer.verifier is not None
    heard = spot(recognizer, stream.samples)
    assert [(h.hit.word, round(h.hit.end, 1)) for h in heard] == []


def test_a_spoken_keyword_does_not_fire_its_rival(aligner: corpus.Aligner) -> None:
    """alsa-utils' "Front Left" ... "Side Right": before, "front" also fired "right" and "left" "front"."""
    stream = join(corpus.alsa_positions(aligner))
    keywords = ["front", "rear", "left", "right"]
    result = score(spot(SphinxRecognizer(keywords), stream.samples), stream.words, keywords, stream.seconds)
    assert result.recall >= 0.9, result.summary()
    assert sum(result.false.values()) <= 1, result.summary()


def test_speech_tune_on_a_real_recording(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from edgefx.cli.main import main

    clip = tmp_path / "cards.wav"
    clip.write_bytes((corpus.TESTDATA / "cards" / "005.wav").read_bytes())
    (tmp_path / "said.txt").write_text("Eight of spades, four of clubs, seven of hearts.\n")
    assert main(["speech", "tune", str(clip), "--keywords", "hearts,clubs,queen",
                 "--transcript", str(tmp_path / "said.txt")]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line[:10].strip().startswith("0.")}
    assert set(rows) == {"0.8", "0.83", "0.85", "0.87", "0.89", "0.91", "0.93"}
    hearts, clubs, queen = zip(*[map(lambda c: tuple(map(int, c.split("/"))), r) for r in rows.values()],
                               strict=True)
    assert hearts[0] == (1, 0, 0) and clubs[0][:2] == (1, 0)  # said once each: hit at the lowest confidence
    assert all(q[0] == 0 and q[1] == 0 for q in queen)  # never said: no hit, no miss
    assert [h[0] for h in hearts] == sorted((h[0] for h in hearts), reverse=True)  # stricter: never more hits
    assert "confidences = {hearts = " in out
    # without a transcript: what fired and when
    assert main(["speech", "tune", str(clip), "--keywords", "hearts"]) == 0
    listing = capsys.readouterr().out
    assert "keyword events in" in listing and "hearts" in listing


def test_tune_errors_say_what_to_do(tmp_path: Path) -> None:
    from edgefx.cli.main import main

    (tmp_path / "said.txt").write_text("flurbix zorp\n")
    clip = tmp_path / "cards.wav"
    clip.write_bytes((corpus.TESTDATA / "cards" / "001.wav").read_bytes())
    assert main(["speech", "tune", str(tmp_path / "missing.wav"), "--keywords", "clubs"]) != 0
    assert main(["speech", "tune", str(clip), "--keywords", "clubs", "--transcript", str(tmp_path / "said.txt")]) != 0


def test_file_input_with_the_party_preset_listens_to_its_own_audio(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    """`edgefx run -c party -i talk.mp4` used to open the microphone (none here: speech went off)."""
    lead = 0.5
    clip = mux_clip(tmp_path / "talk.mp4", load_raw(), sample_frames(100, (160, 120)), lead_s=lead)
    settings = load_settings("party", {"input.url": str(clip), "output.url": str(tmp_path / "out.mp4"),
                                       "analyzers.speech.keywords": ["forward"], "control.enabled": True,
                                       "control.port": 0, "run.effects": ["particles"]})
    settings.triggers = [{"keyword": "forward", "effect": "particles", "action": "on"}]
    panel: list[dict] = []
    holder: list = []

    def on_event(event) -> None:  # on the loop thread, while the panel's server runs
        if event.name == "keyword":
            from edgefx.plugins.control import _servers

            server = _servers[id(holder[0])]
            with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/api/speech", timeout=5) as r:
                panel.append(json.load(r))

    with caplog.at_level(logging.INFO, logger="edgefx"):
        execute(settings, Registry(), on_event=on_event, on_open=holder.append)
    messages = [r.getMessage() for r in caplog.records]
    assert not [m for m in messages if "speech is off" in m], messages
    (heard,) = [m for m in messages if m.startswith("speech: heard")]
    assert "'forward'" in heard and "confidence 0." in heard and "s media time" in heard
    (state,) = panel
    assert state["keywords"] == ["forward"] and state["off"] is None
    (event,) = state["recent"]
    assert event["word"] == "forward" and abs(event["t"] - (lead + GOFORWARD_ENDS["forward"])) <= 0.15


def test_microphone_choice() -> None:
    from edgefx.io.info import AudioInfo, StreamInfo

    def stream(name: str, audio: bool) -> StreamInfo:
        return StreamInfo(640, 480, 30, 1 / 30, True, AudioInfo(48000, 1, "mono", 1) if audio else None, None, name)

    assert choose_mic("auto", stream("talk.mp4", True)) == ""
    assert choose_mic("auto", stream("rtsp://127.0.0.1/cam", False)) == ""  # a stream: its own audio or none
    assert choose_mic("auto", stream("v4l2:///dev/video0", False)) != ""
    assert choose_mic("none", stream("v4l2:///dev/video0", False)) == ""
    assert choose_mic("alsa:hw:1,0", stream("talk.mp4", True)) == "alsa:hw:1,0"
