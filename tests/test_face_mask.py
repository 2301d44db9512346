"""face_mask: shipped assets come from the repo's generator, the warp is exact on affine motion,
masks land on the face only, openings stay open, and empty/stale/partial faces are safe."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.plugins.face_mask.assets import assets_dir, available, load_accessory, load_mask
from edgefx.plugins.face_mask.effect import MESH_POINTS, FaceMask
from edgefx.plugins.faces.analyzer import FacesAnalyzer, faces_on_still
from edgefx.vision import face_mesh as mesh
from edgefx.vision.piecewise_warp import PiecewiseWarp, delaunay_triangles

FACE_CENTRE = (225.0, 125.0)


def placed(photo: np.ndarray, x: float, y: float, scale: float = 2.0, degrees: float = 0.0,
           size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    m = cv2.getRotationMatrix2D(FACE_CENTRE, degrees, scale)
    m[:, 2] += (x - FACE_CENTRE[0], y - FACE_CENTRE[1])
    return cv2.warpAffine(photo, m, size, borderValue=(80, 80, 80))



def rendered(ctx: FrameContext, level: str = "full", **options) -> np.ndarray:
    effect = FaceMask(options)
    effect.start()
    effect.set_level(level)
    out = ctx.frame.image.copy()
    effect.apply(Frame(out, 0, Fraction(1, 30), 0), ctx)
    return out


def inside(points: np.ndarray, shape: tuple[int, ...], shrink: float = 1.0) -> np.ndarray:
    """Boolean mask of the polygon ``points`` scaled by ``shrink`` about its centre."""
    c = points.mean(axis=0)
    poly = np.rint(c + (points - c) * shrink).astype(np.int32)
    out = np.zeros(shape[:2], np.uint8)
    cv2.fillPoly(out, [poly], 1)
    return out.astype(bool)


@pytest.fixture(scope="module")
def face_ctx(astronaut_bgr, models_dir) -> FrameContext:
    return faces_on_still(placed(astronaut_bgr, 640, 360))


def test_project_ships_masks_and_accessories_as_small_rgba_assets():
    masks, accessories = available("mask"), available("accessory")
    assert len(masks) >= 3 and len(accessories) >= 2, (masks, accessories)
    for name in masks:
        asset = load_mask(name)
        assert asset.image.shape[2] == 4 and asset.landmarks.shape == (468, 2)
        assert set(asset.open) <= {"eyes", "mouth"}
        assert (assets_dir() / f"{name}.png").stat().st_size < 64_000
    for name in accessories:
        asset = load_accessory(name)
        assert asset.image.shape[2] == 4 and len(asset.indices) >= 2
        assert (asset.image[:, :, 3] > 0).mean() > 0.1  # there is a drawing


def test_masks_make_regenerates_the_shipped_assets(tmp_path, models_dir):
    from edgefx.cli.main import main

    assert main(["masks", "make", "--out", str(tmp_path)]) == 0
    for json_path in sorted(assets_dir().glob("*.json")):
        made, shipped = json.loads((tmp_path / json_path.name).read_text()), json.loads(json_path.read_text())
        assert made["kind"] == shipped["kind"]
        key = "landmarks" if made["kind"] == "mask" else "anchors"
        a = np.array(made[key] if key == "landmarks" else list(made[key].values()))
        b = np.array(shipped[key] if key == "landmarks" else list(shipped[key].values()))
        assert np.abs(a - b).max() < 0.5, json_path.name
        png_made = cv2.imread(str(tmp_path / json_path.with_suffix(".png").name), cv2.IMREAD_UNCHANGED)
        png_shipped = cv2.imread(str(json_path.with_suffix(".png")), cv2.IMREAD_UNCHANGED)
        assert png_made.shape == png_shipped.shape, json_path.name
        assert np.abs(png_made.astype(int) - png_shipped).mean() < 1.0, json_path.name


def test_piecewise_warp_equals_a_global_warp_when_the_motion_is_affine():
    mask = load_mask("tiger")
    src = mask.landmarks[list(MESH_POINTS)]
    warp = PiecewiseWarp(mask.image, src, delaunay_triangles(src))
    m = cv2.getRotationMatrix2D((100.0, 120.0), 25.0, 1.7)
    m[:, 2] += (300, 150)
    dst = src @ m[:, :2].T + m[:, 2]
    x0, y0 = np.floor(dst.min(axis=0)).astype(int)
    x1, y1 = np.ceil(dst.max(axis=0)).astype(int)
    got = warp.render(dst, (x0, y0, x1 - x0, y1 - y0))
    want = cv2.warpAffine(mask.image, m, (1280, 720))[y0:y1, x0:x1]
    both = (got[:, :, 3] == 255) & (want[:, :, 3] == 255)
    assert both.sum() > 0.3 * both.size
    diff = np.abs(got[:, :, :3].astype(int) - want[:, :, :3])[both]
    assert diff.mean() < 2.0 and np.percentile(diff, 99) < 40


@pytest.mark.parametrize("level", FaceMask.levels)
def test_mask_covers_the_face_and_nothing_outside_its_box(face_ctx, level):
    face = face_ctx.results["faces"][0]
    out = rendered(face_ctx, level, mask="skull")
    changed = np.any(out != face_ctx.frame.image, axis=2)
    oval = inside(face.landmarks[list(mesh.FACE_OVAL), :2], out.shape, 0.85)
    assert changed[oval].mean() > 0.9
    x0, y0, x1, y1 = face.bbox
    outside_box = np.ones(changed.shape, bool)
    outside_box[int(y0) - 2:int(y1) + 3, int(x0) - 2:int(x1) + 3] = False
    assert not changed[outside_box].any()


@pytest.mark.parametrize(("mask", "mouth_open"), [("tiger", True), ("skull", False)])
def test_eyes_and_mouth_stay_open_where_the_mask_says(face_ctx, mask, mouth_open):
    face = face_ctx.results["faces"][0]
    out = rendered(face_ctx, mask=mask)
    changed = np.any(out != face_ctx.frame.image, axis=2)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        assert changed[inside(face.landmarks[list(eye), :2], out.shape, 0.6)].mean() < 0.05
    mouth = changed[inside(face.landmarks[list(mesh.LIPS_INNER), :2], out.shape, 0.6)].mean()
    assert mouth < 0.05 if mouth_open else mouth > 0.9


def test_accessories_sit_on_their_landmarks(face_ctx):
    face = face_ctx.results["faces"][0]
    out = rendered(face_ctx, mask="none", accessories=["glasses"])
    ys, xs = np.nonzero(np.any(out != face_ctx.frame.image, axis=2))
    for idx in (mesh.RIGHT_EYE_OUTER, mesh.LEFT_EYE_OUTER, mesh.NOSE_BRIDGE):
        x, y = face.landmarks[idx, :2]
        assert xs.min() <= x <= xs.max() and ys.min() <= y <= ys.max()
    eye_gap = face.landmarks[mesh.LEFT_EYE_OUTER, 0] - face.landmarks[mesh.RIGHT_EYE_OUTER, 0]
    assert eye_gap < xs.max() - xs.min() < 2.5 * eye_gap  # scaled to this face
    hat = rendered(face_ctx, mask="none", accessories=["hat"])
    hy = np.nonzero(np.any(hat != face_ctx.frame.image, axis=2))[0]
    assert np.median(hy) < face.landmarks[mesh.FOREHEAD_TOP, 1]  # the hat is above the forehead


def test_no_face_stale_face_and_half_visible_face_are_safe(astronaut_bgr, face_ctx, models_dir):
    image = face_ctx.frame.image
    empty = FrameContext(Frame(image, 0, Fraction(1, 30), 0), results={"faces": []}, age={"faces": 0})
    assert np.array_equal(rendered(empty, accessories=["hat"]), image)
    stale = FrameContext(face_ctx.frame, results=face_ctx.results, age={"faces": 10})
    assert np.array_equal(rendered(stale, max_age=3), image)
    edge = faces_on_still(placed(astronaut_bgr, 1230, 60))  # face partly beyond the top-right corner
    out = rendered(edge, accessories=["glasses", "hat", "moustache"])
    assert out.shape == edge.frame.image.shape


def test_unknown_mask_or_accessory_says_what_exists():
    with pytest.raises(ConfigError) as err:
        FaceMask({"mask": "werewolf"}).start()
    assert "tiger" in err.value.hint
    with pytest.raises(ConfigError, match="is a 'mask', not a accessory"):
        FaceMask({"mask": "none", "accessories": ["tiger"]}).start()


def test_edgefx_run_draws_the_mask_on_a_clip(tmp_path, astronaut_bgr, models_dir):
    from conftest import write_clip

    from edgefx.cli.main import main

    frames = [placed(astronaut_bgr, 560 + 8 * i, 360, 2.0, 0.5 * i, (1280, 720)) for i in range(20)]
    clip = write_clip(tmp_path / "face.mp4", frames)
    out = tmp_path / "masked.mp4"
    assert main(["run", "-i", str(clip), "-o", str(out), "--effects", "face_mask", "--no-progress",
                 "--set", "effects.face_mask.mask=clown"]) == 0
    last, source = (last_frame(path) for path in (out, clip))
    x, y = 560 + 8 * 19, 360  # the face centre on the last frame
    patch, before = last[y - 40:y + 40, x - 40:x + 40], source[y - 40:y + 40, x - 40:x + 40]
    assert np.abs(patch.astype(int) - before).mean() > 30  # clown paint is there
    corner = np.abs(last[:100, :100].astype(int) - source[:100, :100]).mean()
    assert corner < 3  # background untouched (re-encoding noise only)


def last_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)][-1]


def test_assets_folder_holds_only_generated_files():
    names = {p.stem for p in Path(assets_dir()).iterdir()}
    assert names == set(available("mask")) | set(available("accessory"))


def test_two_faces_crossing_get_masks_only_where_the_heads_are(astronaut_bgr, models_dir):
    head = cv2.resize(astronaut_bgr[20:240, 120:330], None, fx=1.4, fy=1.4)
    hh, hw = head.shape[:2]
    analyzer = FacesAnalyzer({"max_faces": 2})
    analyzer.start()
    effect = FaceMask({"mask": "skull", "accessories": ["glasses"]})
    effect.start()
    two_faces = []
    for i in range(40):
        canvas = np.full((360, 640, 3), 70, np.uint8)
        xs = (160 + 8 * i, 480 - 8 * i)  # they cross at frame 20 and part again
        for x in xs:
            canvas[30:30 + hh, int(x - hw / 2):int(x - hw / 2) + hw] = head
        frame = Frame(canvas.copy(), i, Fraction(1, 30), i)
        ctx = FrameContext(frame, age={"faces": 0})
        ctx.results["faces"] = faces = analyzer.analyze(frame, ctx)
        effect.apply(frame, ctx)
        changed = np.any(frame.image != canvas, axis=2)
        heads = np.zeros_like(changed)
        for x in xs:
            heads[30:30 + hh, max(0, int(x - hw / 2)):int(x + hw / 2)] = True
        assert not (changed & ~heads).any(), f"frame {i}: paint outside the heads"
        two_faces.append(len(faces) == 2)
    # while the faces themselves do not overlap (the first and last 8 frames) both wear the mask
    assert all(two_faces[:8]) and all(two_faces[-8:])


def test_mask_switched_while_running_loads_at_once_and_a_bad_name_keeps_the_old_one():
    """The control panel switches masks with set_option: the new mask is drawn from the next frame,
    and an unknown name is refused without losing the mask in use."""
    from edgefx.plugins.face_mask.effect import FaceMask

    effect = FaceMask({"mask": "tiger"})
    effect.start()
    tiger = effect.mask
    effect.set_option("mask", "skull")
    assert effect.mask is not tiger and effect.mask.name == "skull"
    with pytest.raises(ConfigError, match="nope"):
        effect.set_option("mask", "nope")
    assert effect.settings["mask"] == "skull" and effect.mask.name == "skull"
