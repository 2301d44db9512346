"""Speech triggers end to end on real recorded English (Debian's pocketsphinx-testdata,
"go forward ten meters"), muxed into a video, through the real runner with PocketSphinx.

True word ends come from PocketSphinx forced alignment of the known text
(``edgefx.plugins.speech.samples.GOFORWARD_ENDS``; re-checked in ``test_alignment_of_the_recording``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from edgefx.cli.analyze import analyze
from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.plugins.speech.samples import GOFORWARD, GOFORWARD_ENDS, load_raw, mux_clip
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import sample_frames

pytestmark = pytest.mark.skipif(not GOFORWARD.is_file(), reason="apt-get install pocketsphinx-testdata")

LEAD = 0.5
"""Seconds of silence before the recording in the clip."""


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("speech") / "goforward.mp4"
    return mux_clip(path, load_raw(), sample_frames(105, (320, 240)), lead_s=LEAD)


def run(clip: Path, out: Path, keywords: list[str], triggers: list[dict]) -> tuple[list[float], list[np.ndarray],
                                                                                    list[bool], dict]:
    """Run the clip with the particles effect; per frame: time, output image, effect switched on."""
    settings = load_settings(None, {"input.url": str(clip), "output.url": str(out), "run.effects": ["particles"],
                                    "run.analyzers": ["speech"], "analyzers.speech.keywords": keywords,
                                    "effects.particles.seed": 3, "effects.particles.kind": "confetti"})
    settings.triggers = triggers
    times, images, on, events = [], [], [], []
    holder: list = []

    def on_frame(frame, ctx) -> None:
        times.append(frame.time)
        images.append(frame.image.copy())
        on.append(holder[0].effects["particles"].enabled)

    result = execute(settings, Registry(), on_frame=on_frame, on_event=events.append, on_open=holder.append)
    result.summary["events"] = events
    return times, images, on, result.summary


def test_alignment_of_the_recording() -> None:
    """The reference word ends: forced alignment of the known text (10 ms frames)."""
    from pocketsphinx import Decoder

    decoder = Decoder(loglevel="FATAL")
    decoder.set_align_text("go forward ten meters")
    decoder.start_utt()
    decoder.process_raw(load_raw().tobytes(), full_utt=True)
    decoder.end_utt()
    ends = {seg.word: (seg.end_frame + 1) / 100 for seg in decoder.seg() if seg.word != "<sil>"}
    assert ends == pytest.approx(GOFORWARD_ENDS, abs=0.011)


def test_keyword_switches_effect_on_at_the_word_end(clip: Path, tmp_path: Path) -> None:
    triggers = [{"keyword": "forward", "effect": "particles", "action": "on"}]
    times, images, on, summary = run(clip, tmp_path / "on.mp4", ["forward"], triggers)
    _, plain, _, _ = run(clip, tmp_path / "plain.mp4", ["forward"], [])
    assert (tmp_path / "on.mp4").stat().st_size > 0 and len(times) == 105
    true_end = LEAD + GOFORWARD_ENDS["forward"]
    first_on = times[on.index(True)]
    assert abs(first_on - true_end) <= 0.150, (first_on, true_end)
    words = [e.data["word"] for e in summary["events"] if e.name == "keyword"]
    assert words == ["forward"]
    # pixels: identical to the untriggered run before the word, confetti after it
    start = on.index(True)
    assert all(np.array_equal(a, b) for a, b in zip(images[:start], plain[:start], strict=True))
    changed = [int(np.count_nonzero(np.any(a != b, axis=2))) for a, b in zip(images[start:], plain[start:],
                                                                              strict=True)]
    assert min(changed) > 0 and max(changed[-10:]) > 1000, changed


def test_unconfigured_word_fires_nothing(clip: Path, tmp_path: Path) -> None:
    """"meters" is spoken but only "hello" is configured: no event, the effect stays off."""
    triggers = [{"keyword": "hello", "effect": "particles", "action": "on"}]
    times, _images, on, summary = run(clip, tmp_path / "none.mp4", ["hello"], triggers)
    assert len(times) == 105 and not any(on)
    assert [e for e in summary["events"] if e.name == "keyword"] == []


@pytest.mark.parametrize("overlap", [False, True])
def test_analyze_writes_keyword_events(clip: Path, tmp_path: Path, overlap: bool) -> None:
    settings = load_settings(None, {"input.url": str(clip), "analyzers.speech.keywords": ["forward", "meters"],
                                    "scheduler.overlap": overlap})
    analyze(settings, Registry(), ["speech"], tmp_path)
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [line["word"] for line in lines] == ["forward", "meters"]
    for line in lines:
        assert abs(line["t"] - (LEAD + GOFORWARD_ENDS[line["word"]])) <= 0.15
        assert 0 < line["confidence"] <= 1
    frames = [json.loads(line) for line in (tmp_path / "frames.jsonl").read_text().splitlines()]
    heard = [f for f in frames if f["speech"]]
    assert [f["speech"][0]["word"] for f in heard] == ["forward", "meters"]


def test_analyze_command_with_keywords(clip: Path, tmp_path: Path) -> None:
    from edgefx.cli.main import main

    assert main(["analyze", str(clip), "--analyzers", "speech", "--keywords", "meters,forward", "--out",
                 str(tmp_path)]) == 0
    lines = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert [line["word"] for line in lines] == ["forward", "meters"]
    assert all(set(line) >= {"t", "word", "confidence"} for line in lines)


def test_per_keyword_thresholds() -> None:
    from edgefx.plugins.speech.sphinx import SphinxRecognizer

    raw = load_raw()

    def heard(keywords: list[str], threshold: float | None = None, **thresholds: float) -> list[tuple[str, float]]:
        recognizer = SphinxRecognizer(keywords, threshold, thresholds)
        return [(h.word, h.end) for start in range(0, raw.size, 320)
                for h in recognizer.feed(raw[start:start + 320], start / 16000)]

    assert [w for w, _ in heard(["forward", "meters"])] == ["forward", "meters"]
    assert [w for w, _ in heard(["forward", "meters"], meters=1e20)] == ["forward"]  # stricter for one only
    # a short word: once at its end with the phone-count threshold; before issue 24 the old
    # default (1e-20 for every keyword) also fired it inside "forward"
    ((_word, end),) = heard(["go"])
    assert abs(end - GOFORWARD_ENDS["go"]) <= 0.1
    assert [w for w, _ in heard(["go"], go=1e-10)] == ["go"]
    assert heard(["go"], go=1e30) == []  # a threshold nothing reaches


def test_keyword_missing_from_dictionary_is_a_clear_error(clip: Path, tmp_path: Path) -> None:
    settings = load_settings(None, {"input.url": str(clip), "output.url": str(tmp_path / "x.mp4"),
                                    "run.analyzers": ["speech"], "analyzers.speech.keywords": ["flurbix"]})
    with pytest.raises(ConfigError, match="not in the PocketSphinx English dictionary"):
        execute(settings, Registry())
    assert not (tmp_path / "x.mp4").exists()
