"""The ``face_mask`` effect: a textured mask warped piecewise-affinely onto each face, plus
accessories placed with a similarity transform. Only each face's bounding region is touched."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.face_mask.assets import AccessoryAsset, MaskAsset, available, check_asset, load_accessory, load_mask
from edgefx.results import Face
from edgefx.vision import face_mesh as mesh
from edgefx.vision.blend import blend_rgba
from edgefx.vision.piecewise_warp import PiecewiseWarp, delaunay_triangles

MESH_POINTS = tuple(sorted(set(
    mesh.FACE_OVAL + mesh.RIGHT_EYE + mesh.LEFT_EYE + mesh.RIGHT_BROW + mesh.LEFT_BROW
    + mesh.LIPS_OUTER + mesh.LIPS_INNER
    + (1, 2, 4, 5, 6, 9, 168, 197, 195, 98, 327, 48, 278, 64, 294)  # nose
    + (50, 280, 101, 330, 205, 425, 187, 411, 36, 266, 117, 346, 118, 347, 123, 352, 147, 376, 213, 433)  # cheeks
    + (151, 108, 337, 69, 299, 104, 333)  # forehead
    + (18, 200, 199, 175, 32, 262, 208, 428, 43, 273, 106, 335, 182, 406, 83, 313)  # chin
)))
"""The landmarks the mask mesh uses (a subset of the 468: fewer triangles to rasterise per frame)."""

COARSE_MESH_POINTS = tuple(sorted(set(
    mesh.FACE_OVAL + mesh.RIGHT_EYE[::2] + mesh.LEFT_EYE[::2] + mesh.RIGHT_BROW[::2] + mesh.LEFT_BROW[::2]
    + mesh.LIPS_OUTER[::2] + mesh.LIPS_INNER[::2] + (1, 2, 6, 168, 98, 327, 205, 425, 151, 18, 200)
)))
"""The mesh of the ``coarse`` level: outlines at half density (about 40% of the triangles)."""
LEVELS = {"full": (MESH_POINTS, 1), "coarse": (COARSE_MESH_POINTS, 2)}
"""Per quality level: the mesh landmarks and the multiplier of ``grid_step``."""
OPENING_CONTOURS = {"eyes": (mesh.RIGHT_EYE, mesh.LEFT_EYE), "mouth": (mesh.LIPS_INNER,)}


class FaceMask(Effect):
    """Masks and accessories that follow every face found by the ``faces`` analyzer."""

    name = "face_mask"
    layer = Layer.FACE
    requires = ("faces",)
    levels: ClassVar[tuple[str, ...]] = tuple(LEVELS)
    options: ClassVar[dict[str, Option]] = {
        "mask": Option("tiger", "mask name (`edgefx masks list`), path of a mask .json, or 'none'",
                       media=True, names=lambda: (*available("mask"), "none"),
                       validate=lambda value: value == "none" or check_asset(value, "mask")),
        "accessories": Option([], "accessory names or .json paths drawn over the mask, e.g. ['glasses', 'hat']",
                              media=True, names=lambda: available("accessory")),
        "opacity": Option(1.0, "mask and accessory opacity", min=0.0, max=1.0),
        "max_age": Option(5, "draw nothing when the face result is older than this many frames", min=0, max=1000),
        "grid_step": Option(4, "mask warp grid spacing in pixels (larger = faster, coarser)", min=1, max=16),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.mask: MaskAsset | None = None
        self.warps: dict[str, tuple[np.ndarray, PiecewiseWarp]] = {}
        self.accessories: list[AccessoryAsset] = []
        self._loaded = False

    def start(self, stream: StreamInfo | None = None) -> None:
        """Load the mask and accessories (errors name the assets that exist; nothing changes on error)."""
        mask_name = self.settings["mask"]
        mask = None if mask_name == "none" else load_mask(mask_name)
        accessories = [load_accessory(str(name)) for name in self.settings["accessories"]]
        warps = {}
        for level, (points, factor) in LEVELS.items() if mask is not None else ():
            index = np.array(points, dtype=np.intp)
            src = mask.landmarks[index]
            step = self.settings["grid_step"] * factor
            warps[level] = (index, PiecewiseWarp(mask.image, src, delaunay_triangles(src), step))
        self.mask, self.accessories, self.warps = mask, accessories, warps
        self._loaded = True

    def option_changed(self, key: str) -> None:
        """A new mask, accessory or grid is loaded at once (an unknown asset raises ``ConfigError``
        and the assets in use stay)."""
        if self._loaded and key in ("mask", "accessories", "grid_step"):
            self.start()

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        if not self._loaded:
            self.start()
        faces: list[Face] = ctx.get("faces") or []
        if not faces or ctx.age.get("faces", 0) > self.settings["max_age"]:
            return
        for face in faces:
            if self.mask is not None:
                self._draw_mask(frame.image, face.landmarks, self.mask, *self.warps[self.level])
            for accessory in self.accessories:
                self._draw_accessory(frame.image, face.landmarks, accessory)

    def _draw_mask(self, image: np.ndarray, landmarks: np.ndarray, mask: MaskAsset, index: np.ndarray,
                   warp: PiecewiseWarp) -> None:
        dst = landmarks[index, :2]
        rect = clipped_rect(dst, image.shape)
        if rect is None:
            return
        x0, y0, w, h = rect
        warped = warp.render(dst, rect)
        if mask.open:
            keep = np.full((h, w), 255, np.uint8)
            holes = [np.rint((landmarks[list(c), :2] - (x0, y0)) * 16).astype(np.int32)  # 1/16 px: no stair-steps
                     for name in mask.open for c in OPENING_CONTOURS[name]]
            cv2.fillPoly(keep, holes, 0, cv2.LINE_AA, shift=4)
            warped[:, :, 3] = cv2.min(np.ascontiguousarray(warped[:, :, 3]), keep)
        blend_rgba(image[y0:y0 + h, x0:x0 + w], warped, self.settings["opacity"])

    def _draw_accessory(self, image: np.ndarray, landmarks: np.ndarray, accessory: AccessoryAsset) -> None:
        target = landmarks[accessory.indices, :2]
        tolerance = 0.1 * float(np.ptp(target, axis=0).max()) + 1.0  # every anchor is an inlier; LM refines on all
        m, _ = cv2.estimateAffinePartial2D(accessory.anchors, target, ransacReprojThreshold=tolerance)
        if m is None:
            return
        sh, sw = accessory.image.shape[:2]
        corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float64) @ m[:, :2].T + m[:, 2]
        rect = clipped_rect(corners, image.shape)
        if rect is None:
            return
        x0, y0, w, h = rect
        m[:, 2] -= (x0, y0)
        sprite = cv2.warpAffine(accessory.image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                                borderValue=0)
        blend_rgba(image[y0:y0 + h, x0:x0 + w], sprite, self.settings["opacity"])


def clipped_rect(points: np.ndarray, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """The integer box ``(x0, y0, w, h)`` around ``(N, 2)`` points, clipped to a frame of ``shape``;
    ``None`` when less than 2x2 pixels of it are inside."""
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + 1
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return None
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)
