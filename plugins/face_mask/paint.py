"""Procedural art: masks and accessories the project draws itself over reference landmarks.

Every painter takes the reference landmarks ``(468, 2)`` in canvas pixels and the canvas size and
returns an HxWx4 uint8 BGRA image. Only OpenCV drawing is used; no third-party art.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from edgefx.vision import face_mesh as mesh

AA = cv2.LINE_AA


def poly(points: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
    """The landmarks ``indices`` as an int32 polygon for OpenCV drawing."""
    return np.rint(points[list(indices)]).astype(np.int32)


def shifted(point: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """``point`` moved by (dx, dy)."""
    return point + np.array([dx, dy])


def centre(points: np.ndarray, indices: tuple[int, ...]) -> np.ndarray:
    return points[list(indices)].mean(axis=0)


def grown(points: np.ndarray, indices: tuple[int, ...], factor: float) -> np.ndarray:
    """A contour scaled by ``factor`` about its centre, as an int32 polygon."""
    c = centre(points, indices)
    return np.rint(c + (points[list(indices)] - c) * factor).astype(np.int32)


def eye_distance(points: np.ndarray) -> float:
    return float(np.linalg.norm(points[mesh.LEFT_EYE_OUTER] - points[mesh.RIGHT_EYE_OUTER]))


def face_layer(points: np.ndarray, size: tuple[int, int], colour: tuple[int, int, int],
               edge_colour: tuple[int, int, int], edge_px: float) -> np.ndarray:
    """The face oval filled with ``colour`` fading to ``edge_colour`` within ``edge_px`` of its border,
    with a soft alpha edge. ``size`` is (width, height); returns HxWx4 uint8."""
    w, h = size
    inside = np.zeros((h, w), np.uint8)
    cv2.fillPoly(inside, [poly(points, mesh.FACE_OVAL)], 255, AA)
    depth = np.clip(cv2.distanceTransform((inside > 127).astype(np.uint8), cv2.DIST_L2, 3) / edge_px, 0, 1)
    t = depth[:, :, None]
    image = np.zeros((h, w, 4), np.uint8)
    image[:, :, :3] = (np.array(edge_colour) * (1 - t) + np.array(colour) * t).astype(np.uint8)
    image[:, :, 3] = cv2.GaussianBlur(inside, (5, 5), 0)
    return image


def cut_openings(image: np.ndarray, points: np.ndarray, openings: tuple[str, ...]) -> np.ndarray:
    """Clear the alpha inside the eyes and/or inner lips so the wearer's own show through."""
    contours = {"eyes": (mesh.RIGHT_EYE, mesh.LEFT_EYE), "mouth": (mesh.LIPS_INNER,)}
    alpha = np.ascontiguousarray(image[:, :, 3])
    for name in openings:
        for indices in contours[name]:
            cv2.fillPoly(alpha, [poly(points, indices)], 0, AA)
    image[:, :, 3] = alpha
    return image


def tapered_stroke(image: np.ndarray, path: np.ndarray, width: float, colour: tuple[int, ...]) -> None:
    """Draw a brush stroke along ``path`` ((N, 2) points) from ``width`` px down to a point."""
    n = len(path)
    for i in range(n - 1):
        t = i / (n - 1)
        cv2.line(image, tuple(np.rint(path[i]).astype(int)), tuple(np.rint(path[i + 1]).astype(int)),
                 colour, max(1, round(width * (1 - t))), AA)


def curve(a: np.ndarray, b: np.ndarray, bend: np.ndarray, steps: int = 12) -> np.ndarray:
    """A quadratic Bezier from ``a`` to ``b`` pulled towards ``bend``; (steps, 2) float."""
    t = np.linspace(0, 1, steps)[:, None]
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * bend + t ** 2 * b


# -------------------------------------------------------------------------------------------------
# Masks
# -------------------------------------------------------------------------------------------------

def paint_tiger(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Orange fur, white muzzle and brows, black stripes, dark nose."""
    d = eye_distance(points)
    image = face_layer(points, size, (40, 150, 255), (10, 90, 200), 0.35 * d)
    bgr = image[:, :, :3].copy()
    white = (235, 240, 245)
    nose, chin = points[mesh.NOSE_BOTTOM], points[mesh.CHIN]
    for side in (mesh.MOUTH_RIGHT, mesh.MOUTH_LEFT):
        c = (points[side] + nose) / 2
        cv2.ellipse(bgr, tuple(np.rint(c).astype(int)), (round(0.3 * d), round(0.22 * d)), 0, 0, 360, white, -1, AA)
    c = (points[mesh.LIPS_OUTER[15]] + chin) / 2
    cv2.ellipse(bgr, tuple(np.rint(c).astype(int)), (round(0.35 * d), round(0.2 * d)), 0, 0, 360, white, -1, AA)
    for brow in (mesh.RIGHT_BROW, mesh.LEFT_BROW):
        c = shifted(centre(points, brow), 0, 0.12 * d)
        cv2.ellipse(bgr, tuple(np.rint(c).astype(int)), (round(0.22 * d), round(0.1 * d)), 0, 0, 360, white, -1, AA)
    black = (20, 20, 20)
    middle = centre(points, mesh.FACE_OVAL)
    for k, idx in enumerate(mesh.FACE_OVAL):  # stripes from the edge of the face inwards, every other oval point
        if k % 3 or idx in (mesh.CHIN, 148, 377, 152):
            continue
        start = points[idx]
        end = start + (middle - start) * 0.38
        bend = (start + end) / 2 + np.array([-(end - start)[1], (end - start)[0]]) * 0.25
        tapered_stroke(bgr, curve(start, end, bend), 0.13 * d, black)
    top = points[mesh.FOREHEAD_TOP]
    for dx in (-0.18, 0.0, 0.18):
        start = shifted(top, dx * d, 0.02 * d)
        stripe = curve(start, shifted(start, 0, 0.45 * d), shifted(start, dx * d * 0.8, 0.22 * d))
        tapered_stroke(bgr, stripe, 0.12 * d, black)
    cv2.fillPoly(bgr, [poly(points, (mesh.NOSE_TIP, 98, mesh.NOSE_BOTTOM, 327))], (60, 50, 70), AA)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        cv2.polylines(bgr, [grown(points, eye, 1.25)], True, black, max(2, round(0.06 * d)), AA)
    cv2.polylines(bgr, [poly(points, mesh.LIPS_OUTER)], True, black, max(1, round(0.03 * d)), AA)
    image[:, :, :3] = bgr
    return cut_openings(image, points, ("eyes", "mouth"))


def paint_skull(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bone-white skull: dark eye sockets and nose cavity, teeth over the lips."""
    d = eye_distance(points)
    image = face_layer(points, size, (205, 220, 228), (120, 130, 140), 0.3 * d)
    bgr = image[:, :, :3].copy()
    dark = (30, 28, 32)
    sockets = np.zeros(bgr.shape[:2], np.uint8)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        c = centre(points, eye)
        cv2.ellipse(sockets, tuple(np.rint(c).astype(int)), (round(0.3 * d), round(0.22 * d)), 0, 0, 360, 255, -1, AA)
    cv2.fillPoly(sockets, [poly(points, (195, 98, mesh.NOSE_BOTTOM, 327))], 255, AA)
    soft = cv2.GaussianBlur(sockets, (0, 0), 0.04 * d)[:, :, None] / 255.0
    bgr[:] = (bgr * (1 - soft) + np.array(dark) * soft).astype(np.uint8)
    teeth = grown(points, mesh.LIPS_OUTER, 1.15)
    cv2.fillPoly(bgr, [teeth], (225, 235, 240), AA)
    cv2.polylines(bgr, [teeth], True, dark, 2, AA)
    cv2.polylines(bgr, [poly(points, mesh.LIPS_INNER)], True, dark, 2, AA)
    left, right = points[mesh.MOUTH_RIGHT], points[mesh.MOUTH_LEFT]
    top, bottom = points[mesh.UPPER_LIP_TOP], points[17]
    for t in np.linspace(0.15, 0.85, 6):
        x = left + (right - left) * t
        a = x + (top - (left + right) / 2) * 1.15
        b = x + (bottom - (left + right) / 2) * 1.15
        cv2.line(bgr, tuple(np.rint(a).astype(int)), tuple(np.rint(b).astype(int)), dark, 1, AA)
    for corner, jaw in ((mesh.MOUTH_RIGHT, 172), (mesh.MOUTH_LEFT, 397)):
        cv2.line(bgr, tuple(np.rint(points[corner]).astype(int)), tuple(np.rint(points[jaw]).astype(int)),
                 (90, 95, 100), 2, AA)
    image[:, :, :3] = bgr
    return cut_openings(image, points, ("eyes",))


def paint_masquerade(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A Venetian half mask over the eyes: gold with purple scrolls, pointed wings, eyes open."""
    d = eye_distance(points)
    w, h = size
    shape = np.zeros((h, w), np.uint8)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        c = centre(points, eye)
        cv2.ellipse(shape, tuple(np.rint(c).astype(int)), (round(0.42 * d), round(0.3 * d)), 0, 0, 360, 255, -1, AA)
    inner_r, inner_l = points[mesh.RIGHT_EYE_INNER], points[mesh.LEFT_EYE_INNER]
    bridge = np.rint([shifted(inner_r, 0, -0.2 * d), shifted(inner_l, 0, -0.2 * d), shifted(inner_l, 0, 0.05 * d),
                      shifted(points[mesh.NOSE_BRIDGE], 0, 0.1 * d), shifted(inner_r, 0, 0.05 * d)]).astype(np.int32)
    cv2.fillPoly(shape, [bridge], 255, AA)
    for outer, sign in ((mesh.RIGHT_EYE_OUTER, -1), (mesh.LEFT_EYE_OUTER, 1)):
        p = points[outer]
        wing = np.rint([shifted(p, -sign * 0.05 * d, -0.2 * d), shifted(p, sign * 0.55 * d, -0.45 * d),
                        shifted(p, -sign * 0.05 * d, 0.2 * d)]).astype(np.int32)
        cv2.fillPoly(shape, [wing], 255, AA)
    image = np.zeros((h, w, 4), np.uint8)
    image[:, :, :3] = (40, 175, 215)  # gold
    scroll = (130, 30, 110)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        cv2.polylines(image, [grown(points, eye, 1.45)], True, scroll, max(2, round(0.05 * d)), AA)
        cv2.polylines(image, [grown(points, eye, 1.9)], True, (20, 120, 170), max(1, round(0.025 * d)), AA)
    for outer, sign in ((mesh.RIGHT_EYE_OUTER, -1), (mesh.LEFT_EYE_OUTER, 1)):
        p = points[outer]
        path = curve(shifted(p, 0, 0.1 * d), shifted(p, sign * 0.45 * d, -0.35 * d),
                     shifted(p, sign * 0.35 * d, 0.15 * d))
        tapered_stroke(image, path, 0.07 * d, scroll)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):  # sequins on a ring between the scrolls
        for x, y in grown(points, eye, 1.68)[::2]:
            cv2.circle(image, (int(x), int(y)), max(1, round(0.025 * d)), (235, 245, 250), -1, AA)
    edge = cv2.morphologyEx(shape, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    image[edge > 0, :3] = (30, 30, 40)
    image[:, :, 3] = shape
    return cut_openings(image, points, ("eyes",))


def paint_clown(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """White face paint, red nose and big red lips, blue diamonds through the eyes."""
    d = eye_distance(points)
    image = face_layer(points, size, (245, 248, 250), (200, 205, 210), 0.2 * d)
    bgr = image[:, :, :3].copy()
    blue = (200, 90, 30)
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        c = centre(points, eye)
        diamond = np.rint(c + np.array([[0, -0.45], [0.18, 0], [0, 0.45], [-0.18, 0]]) * d).astype(np.int32)
        cv2.fillPoly(bgr, [diamond], blue, AA)
    cv2.fillPoly(bgr, [grown(points, mesh.LIPS_OUTER, 1.3)], (40, 30, 210), AA)
    cv2.circle(bgr, tuple(np.rint(points[mesh.NOSE_TIP]).astype(int)), round(0.2 * d), (30, 20, 220), -1, AA)
    cv2.circle(bgr, tuple(np.rint(shifted(points[mesh.NOSE_TIP], -0.06 * d, -0.07 * d)).astype(int)), round(0.05 * d),
               (250, 250, 255), -1, AA)  # a white glint (a pink one reads as skin)
    image[:, :, :3] = bgr
    return cut_openings(image, points, ("eyes", "mouth"))


MASKS: dict[str, tuple[Callable[[np.ndarray, tuple[int, int]], np.ndarray], tuple[str, ...]]] = {
    "tiger": (paint_tiger, ("eyes", "mouth")),
    "skull": (paint_skull, ("eyes",)),
    "masquerade": (paint_masquerade, ("eyes",)),
    "clown": (paint_clown, ("eyes", "mouth")),
}
"""Mask name -> (painter, features left open)."""


# -------------------------------------------------------------------------------------------------
# Accessories
# -------------------------------------------------------------------------------------------------

def paint_glasses(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Round tinted glasses with a bridge and temple arms."""
    d = eye_distance(points)
    w, h = size
    image = np.zeros((h, w, 4), np.uint8)
    frame = (25, 25, 30, 255)
    lenses = []
    for eye in (mesh.RIGHT_EYE, mesh.LEFT_EYE):
        c = tuple(np.rint(centre(points, eye)).astype(int))
        axes = (round(0.27 * d), round(0.22 * d))
        cv2.ellipse(image, c, axes, 0, 0, 360, (90, 60, 40, 110), -1, AA)  # tinted lens
        lenses.append((c, axes))
    for c, axes in lenses:
        cv2.ellipse(image, c, axes, 0, 0, 360, frame, max(2, round(0.05 * d)), AA)
        glint = (c[0] - axes[0] // 3, c[1] - axes[1] // 3)
        cv2.ellipse(image, glint, (axes[0] // 4, axes[1] // 6), -30, 0, 360, (255, 255, 255, 150), -1, AA)
    (cr, ar), (cl, al) = lenses
    a, b = (cr[0] + ar[0], cr[1]), (cl[0] - al[0], cl[1])
    bend = shifted(np.array(points[mesh.NOSE_BRIDGE]), 0, -0.05 * d)
    tapered = curve(np.array(a, float), np.array(b, float), bend)
    cv2.polylines(image, [np.rint(tapered).astype(np.int32)], False, frame, max(2, round(0.04 * d)), AA)
    for c, axes, sign in ((cr, ar, -1), (cl, al, 1)):
        start = (c[0] + sign * axes[0], c[1])
        cv2.line(image, start, (start[0] + sign * round(0.2 * d), start[1] - round(0.03 * d)), frame,
                 max(2, round(0.04 * d)), AA)
    return image


def paint_hat(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A black top hat with a red band, sitting on top of the head (above the hair, not on the brows)."""
    d = eye_distance(points)
    w, h = size
    image = np.zeros((h, w, 4), np.uint8)
    top = points[mesh.FOREHEAD_TOP]  # the upper forehead: the crown of the head is about half an eye distance up
    face_w = float(np.linalg.norm(points[mesh.LEFT_CHEEK] - points[mesh.RIGHT_CHEEK]))
    brim_y = top[1] - 0.3 * d
    cx = top[0]
    crown_w, crown_h = 0.8 * face_w, 1.1 * d
    felt = (35, 30, 30, 255)
    cv2.rectangle(image, (round(cx - crown_w / 2), round(brim_y - crown_h)), (round(cx + crown_w / 2), round(brim_y)),
                  felt, -1, AA)
    cv2.ellipse(image, (round(cx), round(brim_y - crown_h)), (round(crown_w / 2), round(0.12 * d)), 0, 0, 360,
                (55, 50, 50, 255), -1, AA)
    band_h = 0.22 * d
    cv2.rectangle(image, (round(cx - crown_w / 2), round(brim_y - band_h - 0.05 * d)),
                  (round(cx + crown_w / 2), round(brim_y - 0.05 * d)), (40, 30, 170, 255), -1, AA)
    cv2.ellipse(image, (round(cx), round(brim_y)), (round(0.65 * face_w), round(0.14 * d)), 0, 0, 360, felt, -1, AA)
    cv2.line(image, (round(cx - crown_w / 2 + 0.08 * d), round(brim_y - crown_h + 0.15 * d)),
             (round(cx - crown_w / 2 + 0.08 * d), round(brim_y - band_h - 0.1 * d)), (90, 85, 85, 255),
             max(1, round(0.03 * d)), AA)
    return image


def paint_moustache(points: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A curled handlebar moustache under the nose, over the upper lip, no wider than the mouth."""
    d = eye_distance(points)
    w, h = size
    image = np.zeros((h, w, 4), np.uint8)
    nose, lip = points[mesh.NOSE_BOTTOM], points[mesh.UPPER_LIP_TOP]
    mid = 0.45 * nose + 0.55 * lip  # just under the nose
    gap = float(np.linalg.norm(lip - nose))
    hair = (20, 35, 60, 255)
    for corner in (mesh.MOUTH_RIGHT, mesh.MOUTH_LEFT):
        out = np.array([0.85 * (points[corner][0] - mid[0]), 0.0])  # level wings, a little short of the corner
        tip = mid + out + np.array([0.0, -0.2 * gap])
        upper = curve(shifted(mid, 0, -0.5 * gap), tip, mid + out * 0.5 + np.array([0.0, -0.6 * gap]))
        lower = curve(tip, shifted(mid, 0, 0.5 * gap), mid + out * 0.55 + np.array([0.0, 0.6 * gap]))
        cv2.fillPoly(image, [np.rint(np.concatenate([upper, lower]) * 16).astype(np.int32)], hair, AA, shift=4)
        curl = tuple(np.rint(shifted(tip, out[0] * 0.06, -0.12 * gap)).astype(int))
        cv2.circle(image, curl, max(2, round(0.045 * d)), hair, max(1, round(0.025 * d)), AA)
    return image


ACCESSORIES: dict[str, tuple[Callable[[np.ndarray, tuple[int, int]], np.ndarray], tuple[int, ...]]] = {
    "glasses": (paint_glasses, (mesh.RIGHT_EYE_OUTER, mesh.RIGHT_EYE_INNER, mesh.LEFT_EYE_INNER, mesh.LEFT_EYE_OUTER,
                                mesh.NOSE_BRIDGE)),
    "hat": (paint_hat, (mesh.FOREHEAD_TOP, mesh.RIGHT_TEMPLE, mesh.LEFT_TEMPLE, mesh.RIGHT_EYE_OUTER,
                        mesh.LEFT_EYE_OUTER)),
    "moustache": (paint_moustache, (mesh.NOSE_BOTTOM, mesh.UPPER_LIP_TOP, mesh.MOUTH_RIGHT, mesh.MOUTH_LEFT, 164)),
}
"""Accessory name -> (painter, mesh indices it is anchored to)."""
