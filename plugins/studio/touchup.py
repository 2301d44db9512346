"""The ``touchup`` effect: skin smoothing inside the face mesh, eyes, brows, lips and hair left sharp.

Per face, on its box only: the box is shrunk to about 64 px wide and each colour channel smoothed there by a
self-guided guided filter (``edgefx.vision.guided_filter``): skin texture (pores, noise, small
blemishes: contrast below ``smoothness``) is flattened, the larger shapes of the face (nose, cheeks,
shading) keep their contrast; the result is scaled back up, so no fine texture comes back. A skin mask
(the face oval minus the eyes, brows and lips, feathered inwards, never past the oval) blends the
smooth picture in at ``strength``; pixels outside the face are not touched. Optionally the eyes are
brightened a little.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.options import Option
from edgefx.results import Face
from edgefx.vision import face_mesh as mesh
from edgefx.vision.guided_filter import guided_filter

LEVEL_WIDTH = {"full": 64, "lite": 32}
"""Per quality level: the smoothing and the skin mask are computed with the face box shrunk (by a
whole factor) to about this many pixels wide."""
KEEP_SHARP = ((mesh.RIGHT_EYE, 1.4), (mesh.LEFT_EYE, 1.4), (mesh.RIGHT_BROW, 1.3), (mesh.LEFT_BROW, 1.3),
              (mesh.LIPS_OUTER, 1.15))
"""Features left out of the skin mask, each grown by a factor about its centre (room for lashes, edges)."""


def grown(points: np.ndarray, factor: float) -> np.ndarray:
    """``(N, 2)`` points scaled by ``factor`` about their centre."""
    c = points.mean(axis=0)
    return c + (points - c) * factor


def skin_weight(landmarks: np.ndarray, origin: tuple[int, int], size: tuple[int, int], scale: float,
                feather: float) -> np.ndarray:
    """The skin mask of one face, HxW float32 in [0, 1] for the box at ``origin`` of ``size`` (width,
    height), computed at ``scale`` of it: 1 on skin, 0 on the features and outside the oval, with
    edges ramping over ``feather`` pixels (of the scaled grid) inside the oval."""
    w, h = max(1, round(size[0] * scale)), max(1, round(size[1] * scale))

    def shape(indices: tuple[int, ...], factor: float = 1.0) -> np.ndarray:
        pts = (grown(landmarks[list(indices), :2], factor) - origin + 0.5) * scale - 0.5
        return np.rint(pts * 16).astype(np.int32)

    oval = np.zeros((h, w), np.uint8)
    cv2.fillPoly(oval, [shape(mesh.FACE_OVAL)], 255, cv2.LINE_AA, shift=4)
    skin = oval.copy()
    oval = cv2.erode(oval, np.ones((3, 3), np.uint8))  # scaled back up, the mask stays inside the oval
    cv2.fillPoly(skin, [shape(indices, factor) for indices, factor in KEEP_SHARP], 0, cv2.LINE_AA, shift=4)
    k = max(1, round(feather / 2))
    skin = cv2.erode(skin, np.ones((2 * k + 1, 2 * k + 1), np.uint8))  # the feather stays inside the skin
    skin = cv2.blur(skin, (2 * k + 1, 2 * k + 1))
    return cv2.min(skin, oval).astype(np.float32) * (1.0 / 255.0)


class TouchUp(Effect):
    """Edge-preserving skin smoothing on every face, with optional eye brightening."""

    name = "touchup"
    layer = Layer.CAMERA
    requires = ("faces",)
    levels: ClassVar[tuple[str, ...]] = tuple(LEVEL_WIDTH)
    options: ClassVar[dict[str, Option]] = {
        "strength": Option(0.7, "how much of the smoothed skin replaces the original (0 = off)", min=0.0, max=1.0),
        "smoothness": Option(0.1, "skin texture contrast (0-1 of full scale) that is smoothed away; edges above "
                             "it stay", min=0.005, max=0.5),
        "eye_brighten": Option(0.0, "brighten the eyes: gain - 1 inside them (0 = off, 0.2 = 20% brighter)",
                               min=0.0, max=0.5),
        "max_age": Option(5, "ignore face results older than this many frames", min=0, max=1000),
    }

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        faces: list[Face] = ctx.get("faces") or []
        if not faces or ctx.age.get("faces", 0) > self.settings["max_age"]:
            return
        for face in faces:
            self._touch_up(frame.image, face.landmarks)

    def _touch_up(self, image: np.ndarray, landmarks: np.ndarray) -> None:
        s = self.settings
        h, w = image.shape[:2]
        x0, y0 = np.floor(landmarks[:, :2].min(axis=0)).astype(int)
        x1, y1 = np.ceil(landmarks[:, :2].max(axis=0)).astype(int) + 1
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
        if x1 - x0 < 16 or y1 - y0 < 16:
            return
        roi = image[y0:y1, x0:x1]
        subsample = max(1, (x1 - x0) // LEVEL_WIDTH[self.level])
        radius = max(1, round((x1 - x0) / 24 / subsample))  # about a pore cluster: 1/24 of the face width
        weight_small = skin_weight(landmarks, (x0, y0), (x1 - x0, y1 - y0), 1.0 / subsample, 1.0 + radius / 2)
        if s["strength"] > 0 and weight_small.any():
            weight = cv2.resize(weight_small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
            inside = np.zeros(weight.shape, np.float32)  # exactly the oval's pixels: nothing outside changes
            cv2.fillPoly(inside, [np.rint(landmarks[list(mesh.FACE_OVAL), :2] - (x0, y0)).astype(np.int32)],
                         float(s["strength"]))
            weight *= inside
            small = cv2.resize(roi, weight_small.shape[::-1], interpolation=cv2.INTER_AREA)
            colour = small.astype(np.float32) * np.float32(1.0 / 255.0)
            smooth = guided_filter(colour, colour, radius, s["smoothness"] ** 2)  # each channel guides itself
            smooth = cv2.convertScaleAbs(smooth, alpha=255.0)  # to uint8 while small, then scaled up
            smooth = cv2.resize(smooth, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
            roi[:] = cv2.blendLinear(smooth, roi, weight, 1.0 - weight)
        if s["eye_brighten"] > 0:
            self._brighten_eyes(roi, landmarks, (x0, y0))

    def _brighten_eyes(self, roi: np.ndarray, landmarks: np.ndarray, origin: tuple[int, int]) -> None:
        eyes = np.zeros(roi.shape[:2], np.uint8)
        polys = [np.rint((landmarks[list(eye), :2] - origin) * 16).astype(np.int32) for eye in (mesh.RIGHT_EYE,
                                                                                                mesh.LEFT_EYE)]
        cv2.fillPoly(eyes, polys, 255, cv2.LINE_AA, shift=4)
        weight = eyes.astype(np.float32) * np.float32(1.0 / 255.0)
        brighter = cv2.convertScaleAbs(roi, alpha=1.0 + self.settings["eye_brighten"])
        roi[:] = cv2.blendLinear(brighter, roi, weight, 1.0 - weight)
