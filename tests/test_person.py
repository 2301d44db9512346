"""person: the real model on real photos against eye-checked masks, refinement keeps the model's
answer, smoothing steadies a still scene without a trail behind a moving person, and
`edgefx analyze` writes the masks."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.person.analyzer import PersonAnalyzer, guide_size
from edgefx.plugins.person.bench import _analyzer, lag_px, masks, mean_change, moving_frames, still_frames
from edgefx.testing import sample_clip

DATA = Path(__file__).parent / "data" / "person"
EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def photo(name: str) -> np.ndarray:
    """A scikit-image photo with a person, BGR: the astronaut (colour) or the cameraman (grey)."""
    from skimage import data
    image = getattr(data, name)()
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR if image.ndim == 2 else cv2.COLOR_RGB2BGR)


def mask_of(image: np.ndarray, **options) -> np.ndarray:
    analyzer = PersonAnalyzer(options)
    analyzer.start()
    frame = Frame(image, 0, Fraction(1, 30), 0)
    return analyzer.analyze(frame, FrameContext(frame)).full(*image.shape[:2]) >= 128


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return np.count_nonzero(a & b) / np.count_nonzero(a | b)


@pytest.mark.parametrize("name", ["astronaut", "camera"])
def test_mask_matches_the_eye_checked_fixture_and_the_raw_model(models_dir, name):
    """The fixtures are the model's mask, checked by eye on an overlay, holes filled, specks and the
    cameraman's tripod rod removed (held helmet and camera count as the person's)."""
    image = photo(name)
    truth = cv2.imread(str(DATA / f"{name}.png"), cv2.IMREAD_GRAYSCALE) >= 128
    refined, raw = mask_of(image), mask_of(image, refine=False, smoothing=0.0)
    assert iou(refined, truth) >= 0.9
    assert iou(refined, raw) >= 0.95
    assert 0.2 < truth.mean() < 0.7


def test_model_follows_aspect_ratio_or_the_option(models_dir):
    analyzer = PersonAnalyzer()
    analyzer.start()
    assert analyzer.model_kind(1280, 720) == "landscape"
    assert analyzer.model_kind(640, 480) == "general"
    analyzer.set_option("model", "landscape")
    assert analyzer.model_kind(512, 512) == "landscape"
    analyzer.set_level("fast")
    analyzer.set_option("model", "general")
    assert analyzer.model_kind(512, 512) == "landscape"  # cheaper levels always take the small model


@pytest.mark.parametrize(("frame", "guide"), [((1280, 720), (256, 144)), ((1920, 1080), (320, 180)),
                                              ((640, 360), (320, 180)), ((512, 512), (256, 256)),
                                              ((854, 480), (256, 144)), ((200, 100), (200, 100))])
def test_refinement_is_a_whole_fraction_of_the_frame_near_guide_width(frame, guide):
    """Masks grow back to the frame by a whole number where one fits in 256-384 px (854x480: none)."""
    assert guide_size(*frame, 256) == guide


def test_full_size_mask_is_made_once_and_bounded_by_its_box(models_dir):
    image = cv2.resize(photo("astronaut"), (1280, 720))
    analyzer = PersonAnalyzer()
    analyzer.start()
    frame = Frame(image, 0, Fraction(1, 30), 0)
    result = analyzer.analyze(frame, FrameContext(frame))
    full = result.full(720, 1280)
    assert full.shape == (720, 1280) and full.dtype == np.uint8
    assert result.full(720, 1280) is full
    x, y, w, h = result.box(720, 1280)
    outside = full.copy()
    outside[y:y + h, x:x + w] = 0
    assert not outside.any() and full[y:y + h, x:x + w].any()
    assert analyzer.carry(frame, FrameContext(frame), result) is result


def test_smoothing_steadies_a_still_scene(models_dir):
    frames = still_frames((640, 360), 16)
    raw, smoothed = mean_change(masks(_analyzer(0.0), frames)), mean_change(masks(_analyzer(None), frames))
    assert raw > 0  # sensor noise does move the raw mask
    assert smoothed * 3 <= raw


def test_moving_person_leaves_no_trail_and_no_gap(models_dir):
    frames, truths = moving_frames((640, 360), 16, speed=8.0)
    raw = lag_px(masks(_analyzer(0.0), frames), truths)
    adaptive = lag_px(masks(_analyzer(None), frames), truths)
    plain = lag_px(masks(_analyzer(None, adaptive=False), frames), truths)
    assert adaptive[0] <= raw[0] + 1.0 and adaptive[1] <= raw[1] + 1.0
    assert plain[0] > raw[0] + 10.0 and plain[1] > raw[1] + 5.0  # the same smoothing without adaptation lags


def test_analyze_cli_writes_frame_size_pngs(models_dir, tmp_path):
    clip = sample_clip(tmp_path / "clip.mp4", seconds=0.3, size=(320, 240))
    out = tmp_path / "out"
    done = subprocess.run([EDGEFX, "analyze", str(clip), "--analyzers", "person", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == 9
    for line in lines:
        png = cv2.imread(str(out / line["person"]["mask"]), cv2.IMREAD_UNCHANGED)
        assert line["person"]["mask"] == f"person/{line['index']}.png"
        assert png.shape == (240, 320) and png.dtype == np.uint8
        assert 0.1 < (png >= 128).mean() < 0.9


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_analyze_on_a_full_disk_stops_with_a_clear_error_and_keeps_the_lines_written(models_dir, tmp_path):
    """Frame 3's mask lands on /dev/full (every write fails, as on a full disk): cv2.imwrite would say
    it worked; the run stops there, names the file, and frames 0-2 stay in frames.jsonl."""
    clip = sample_clip(tmp_path / "clip.mp4", seconds=0.3, size=(320, 240))
    out = tmp_path / "out"
    (out / "person").mkdir(parents=True)
    (out / "person" / "3.png").symlink_to("/dev/full")
    done = subprocess.run([EDGEFX, "analyze", str(clip), "--analyzers", "person", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"cannot write {out / 'person' / '3.png'}: No space left on device" in done.stderr
    assert [json.loads(line)["index"] for line in (out / "frames.jsonl").read_text().splitlines()] == [0, 1, 2]

    (out / "frames.jsonl").unlink()
    (out / "frames.jsonl").symlink_to("/dev/full")  # the JSON lines themselves cannot be written
    done = subprocess.run([EDGEFX, "analyze", str(clip), "--analyzers", "person", "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "frames.jsonl: No space left on device" in done.stderr


def test_threshold_and_softness_shape_the_edge(models_dir):
    image = photo("astronaut")

    def full(**options) -> np.ndarray:
        analyzer = PersonAnalyzer({"smoothing": 0.0, **options})
        analyzer.start()
        frame = Frame(image, 0, Fraction(1, 30), 0)
        return analyzer.analyze(frame, FrameContext(frame)).small

    hard, soft = full(softness=0.0), full(softness=0.6)
    assert set(np.unique(hard)) <= {0, 255}
    assert np.count_nonzero((soft > 0) & (soft < 255)) > 2 * np.count_nonzero((full() > 0) & (full() < 255)) > 0
    assert np.count_nonzero(full(threshold=0.9) >= 128) < np.count_nonzero(full(threshold=0.1) >= 128)
