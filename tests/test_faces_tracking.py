"""Tracking, jitter, lag and robustness of the ``faces`` analyzer on clips built from the real astronaut photo."""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from conftest import write_clip

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.faces.analyzer import FacesAnalyzer
from edgefx.results import Face

FACE_CENTRE = (225.0, 125.0)  # roughly the astronaut's face centre in the 512x512 photo
SIZE = (1280, 720)


def placed(photo: np.ndarray, x: float, y: float, scale: float = 2.2, degrees: float = 0.0) -> np.ndarray:
    """The photo with its face centred at (x, y) on a 1280x720 grey canvas, scaled and turned about the face."""
    m = cv2.getRotationMatrix2D(FACE_CENTRE, degrees, scale)
    m[:, 2] += (x - FACE_CENTRE[0], y - FACE_CENTRE[1])
    return cv2.warpAffine(photo, m, SIZE, borderValue=(80, 80, 80))


def sensor_noise(image: np.ndarray, rng: np.random.Generator, read: float = 2.0, shot: float = 0.1) -> np.ndarray:
    """Camera-like noise: ``read`` noise (levels) plus shot noise growing with brightness
    (defaults: ~4 levels at mid grey, a webcam in daylight)."""
    std = np.sqrt(read ** 2 + shot * image.astype(np.float32))
    return np.clip(image + rng.normal(0.0, 1.0, image.shape) * std, 0, 255).astype(np.uint8)


def run(analyzer: FacesAnalyzer, images, fps: int = 30) -> list[list[Face]]:
    out = []
    for i, image in enumerate(images):
        frame = Frame(image, i, Fraction(1, fps), i)
        out.append(analyzer.analyze(frame, FrameContext(frame)))
    return out


def started(**settings) -> FacesAnalyzer:
    analyzer = FacesAnalyzer(settings)
    analyzer.start()
    return analyzer


@pytest.fixture(scope="module")
def moving_clip(tmp_path_factory, astronaut_bgr) -> Path:
    """3 s at 30 fps: the face travels 600 px across the frame, turns +-12 degrees and grows 2.0 -> 2.4x (H.264)."""
    frames = []
    for i in range(90):
        u = i / 89
        frames.append(placed(astronaut_bgr, 340 + 600 * u, 360 + 60 * math.sin(2 * math.pi * u),
                             2.0 + 0.4 * u, 12 * math.sin(2 * math.pi * u)))
    return write_clip(tmp_path_factory.mktemp("faces") / "moving_face.mp4", frames)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def test_tracking_clip_runs_the_detector_rarely_and_keeps_the_id(moving_clip, models_dir):
    images = decoded(moving_clip)
    analyzer = started(max_faces=1)
    results = run(analyzer, images)
    share = analyzer.tracker.detector_runs / len(images)
    print(f"tracking clip: {len(images)} frames, detector on {analyzer.tracker.detector_runs} ({100 * share:.1f}%)")
    assert all(len(faces) == 1 for faces in results)
    assert {faces[0].id for faces in results} == {1}
    assert share <= 0.20
    assert analyzer.tracker.landmark_runs == len(images) + 1  # one mesh run per frame (+1 refining the first)
    # the face really moved with the clip: its centre travelled ~600 px to the right
    first, last = (results[k][0].landmarks[:, 0].mean() for k in (0, -1))
    assert 550 < last - first < 650


@pytest.mark.parametrize(("light", "read", "shot"), [("daylight", 2.0, 0.1), ("dim", 6.0, 0.4)])
def test_jitter_on_a_static_noisy_face_is_under_half_a_pixel(astronaut_bgr, models_dir, light, read, shot):
    rng = np.random.default_rng(7)
    still = placed(astronaut_bgr, 640, 360)
    images = [sensor_noise(still, rng, read, shot) for _ in range(75)]
    figures = {}
    for smoothing in (False, True):
        results = run(started(smoothing=smoothing), images)
        points = np.array([faces[0].landmarks[:, :2] for faces in results[15:]])  # after the filter settles
        deviation = points - points.mean(axis=0)
        figures[smoothing] = float(np.sqrt((deviation ** 2).sum(axis=-1).mean()))
    noise = float(np.std(images[0].astype(np.float32) - still))
    print(f"jitter RMS at 720p, {light} noise (std {noise:.1f} levels): raw {figures[False]:.3f} px, "
          f"One Euro {figures[True]:.3f} px")
    assert figures[True] <= 0.5
    assert figures[True] < figures[False]


@pytest.mark.parametrize("speed", [60.0, 300.0])  # px/s at 30 fps: 2 and 10 px per frame
def test_filter_lag_at_constant_speed_is_reported_and_small(astronaut_bgr, models_dir, speed):
    rng = np.random.default_rng(3)
    images = [sensor_noise(placed(astronaut_bgr, 400 + speed * i / 30, 360), rng) for i in range(60)]
    smooth, raw = run(started(), images), run(started(smoothing=False), images)
    centre_x = [(r[0].landmarks[:, 0].mean(), s[0].landmarks[:, 0].mean()) for s, r in zip(smooth, raw, strict=True)]
    lag_px = np.array([raw_x - smooth_x for raw_x, smooth_x in centre_x])
    steady = float(lag_px[20:].mean())
    print(f"filter lag at {speed:.0f} px/s: {steady:.2f} px = {1000 * steady / speed:.1f} ms")
    assert abs(steady) < speed / 30  # under one frame of motion


def test_no_face_gives_an_empty_list_and_searches_every_frame(models_dir):
    rng = np.random.default_rng(1)
    images = [rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8) for _ in range(5)]
    analyzer = started()
    assert run(analyzer, images) == [[]] * 5
    assert analyzer.tracker.detector_runs == 5
    analyzer.set_level("lite")
    run(analyzer, images * 3)
    assert analyzer.tracker.detector_runs == 5 + 2  # lite searches every 6th frame


def test_a_face_leaving_the_frame_is_dropped_not_left_floating(astronaut_bgr, models_dir):
    images = [placed(astronaut_bgr, 640 + 40 * i, 360) for i in range(25)]  # centre leaves at x = 1280
    results = run(started(), images)
    assert len(results[0]) == 1
    assert results[-1] == [] and results[-2] == []
    for faces in results:
        for face in faces:
            assert face.landmarks[:, 0].mean() < 1280 + 30  # never reported beyond where the face is


def test_two_faces_crossing_keep_separate_ids_and_never_float(astronaut_bgr, models_dir):
    head = astronaut_bgr[20:240, 120:330]  # the astronaut's head and shoulders
    head = cv2.resize(head, None, fx=1.4, fy=1.4)
    hh, hw = head.shape[:2]
    centres = []
    images = []
    for i in range(40):
        canvas = np.full((360, 640, 3), 70, np.uint8)
        xs = (160 + 8 * i, 480 - 8 * i)  # they cross at frame 20 and part again
        for x in xs:
            x0 = int(x - hw / 2)
            canvas[30:30 + hh, x0:x0 + hw] = head
        images.append(canvas)
        centres.append(xs)
    analyzer = started(max_faces=2)
    results = run(analyzer, images)
    assert [len(f) for f in results[:5]] == [2] * 5
    assert len({f.id for f in results[0]}) == 2
    for faces, xs in zip(results, centres, strict=True):
        assert len(faces) <= 2
        for face in faces:  # every reported face is on one of the two heads
            cx = face.landmarks[:, 0].mean()
            assert min(abs(cx - x) for x in xs) < hw / 2
    # away from the crossing, both faces are tracked again
    assert len(results[-1]) == 2


def test_carry_extrapolates_briefly_then_reports_nothing(astronaut_bgr, models_dir):
    images = [placed(astronaut_bgr, 500 + 10 * i, 360) for i in range(10)]
    analyzer = started(max_carry=3)
    results = run(analyzer, images)
    last = results[-1][0]
    carried = []
    for k in range(1, 6):
        frame = Frame(images[-1], 9 + k, Fraction(1, 30), 9 + k)
        carried.append(analyzer.carry(frame, FrameContext(frame), results[-1]))
    assert [len(c) for c in carried] == [1, 1, 1, 0, 0]
    moved = carried[0][0].landmarks[:, 0].mean() - last.landmarks[:, 0].mean()
    assert 3 < moved < 17  # about the 10 px the face moved per frame
    assert carried[0][0].id == last.id


def test_bad_level_is_refused(models_dir):
    with pytest.raises(ValueError, match="levels are"):
        started().set_level("ultra")


def test_edgefx_analyze_writes_faces_per_frame(moving_clip, tmp_path, models_dir):
    from edgefx.cli.main import main

    out = tmp_path / "ana"
    assert main(["analyze", str(moving_clip), "--analyzers", "faces", "--out", str(out)]) == 0
    lines = [json.loads(line) for line in (out / "frames.jsonl").read_text().splitlines()]
    assert len(lines) == 90
    face = lines[45]["faces"][0]
    assert set(face) == {"id", "bbox", "score", "landmarks"}
    assert len(face["landmarks"]) == 468 and len(face["landmarks"][0]) == 3
    x0, y0, x1, y1 = face["bbox"]
    assert 0 <= x0 < x1 <= 1280 and 0 <= y0 < y1 <= 720 and face["score"] > 0.5
