"""Reactions end to end on real media through the real loop: a real open hand (Debian's opencv-doc)
comes into an H.264 clip at a known frame and the ``open_palm`` rule fires on the right frame; the
``reactions`` preset loads; ``edgefx analyze --analyzers hands`` writes the documented fields."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import write_clip

from edgefx.config import load_settings
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

HAND = "/usr/share/doc/opencv-doc/opencv4/html/Histogram_Comparison_Source_0.jpg"
APPEARS, SEARCH, DELAY, HOLD_FRAMES = 30, 12, 2, 15
"""The hand is in the clip from frame 30; the detector looks every 12 frames (at 0, 12, 24, 36:
it sees the hand at 36, its palm joins the tracks 2 frames later, on 38); held 0.5 s = 15 frames
at 30 fps, the rule fires on frame 53."""


@pytest.fixture(scope="module")
def hand_clip(tmp_path_factory) -> Path:
    photo = cv2.imread(HAND)
    if photo is None:
        pytest.fail(f"{HAND} is missing: apt-get install opencv-doc")
    canvas = np.full((360, 640, 3), 90, np.uint8)
    h, w = photo.shape[:2]
    with_hand = canvas.copy()
    with_hand[80:80 + h, 220:220 + w] = photo
    frames = [canvas] * APPEARS + [with_hand] * 45
    return write_clip(tmp_path_factory.mktemp("clip") / "hand.mp4", frames)


def palm_rule(clip: Path, tmp_path: Path) -> Path:
    """A preset: the clip in, ``hands`` analyzing, ``open_palm`` held 0.5 s switches particles on."""
    preset = tmp_path / "palm.toml"
    preset.write_text(f'''
[input]
url = "{clip}"
[output]
url = "null"
[run]
effects = ["particles"]
analyzers = ["hands"]
[analyzers.hands]
search_interval = {SEARCH}
[[triggers]]
gesture = "open_palm"
effect = "particles"
action = "on"
hold_s = 0.5
''')
    return preset


def test_a_held_gesture_fires_on_the_right_frame(hand_clip, tmp_path, models_dir):
    preset = palm_rule(hand_clip, tmp_path)
    states, events = [], []
    execute(load_settings(str(preset)), Registry(),
            on_frame=lambda frame, ctx: states.append((frame.index, ctx.results["hands"], ctx.notes)),
            on_event=events.append)
    assert len(states) == 75
    seen = [i for i, hands, _ in states if hands]
    assert seen[0] == 38 and all(h[0].gesture == "open_palm" for i, h, _ in states if i >= 38)
    palm = [e for e in events if e.name == "gesture" and e.data["gesture"] == "open_palm"]
    assert palm[0].t == pytest.approx(38 / 30) and palm[0].data["held_s"] == 0
    fired = next(e for e in palm if e.data["held_s"] >= 0.5 - 1e-6)
    assert round(fired.t * 30) == APPEARS + 6 + DELAY + HOLD_FRAMES


def test_effect_switches_on_at_that_frame(hand_clip, tmp_path, models_dir):
    preset = palm_rule(hand_clip, tmp_path)
    flags = []

    def on_open(pipeline):
        effect = pipeline.effects["particles"]
        pipeline.frame_observers.append(lambda frame: flags.append(effect.enabled))

    execute(load_settings(str(preset)), Registry(), on_open=on_open)
    assert flags.index(True) == 53 and all(flags[53:])


def test_reactions_preset_and_analyze_output(hand_clip, tmp_path, models_dir):
    settings = load_settings("reactions")
    assert {"hands", "expressions"} <= set(settings.run["analyzers"])
    out = tmp_path / "analysis"
    subprocess.run([sys.executable, "-m", "edgefx.cli", "analyze", str(hand_clip), "--analyzers", "hands",
                    "--out", str(out)], check=True, capture_output=True)
    lines = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    hand = lines[-1]["hands"][0]  # the default search finds it on frame 40, it joins on 42
    assert set(hand) == {"id", "handedness", "score", "landmarks", "gesture"}
    assert len(hand["landmarks"]) == 21 and all(len(p) == 3 for p in hand["landmarks"])
    assert hand["gesture"] == "open_palm" and hand["handedness"] in ("Left", "Right")
