"""Piecewise-affine warping of a texture over a triangle mesh, computed on a coarse grid.

The map from output pixels to texture pixels is affine inside each triangle and continuous
across edges, so it is evaluated on a grid every ``step`` pixels and bilinearly upsampled
(exact inside cells that lie in one triangle); ``cv2.remap`` then samples the texture once.
The texture is kept as a pyramid (``cv2.pyrDown``): a face drawn smaller than the texture is sampled
from the level nearest its size, so edges and stripes stay anti-aliased instead of stair-stepped.
"""

from __future__ import annotations

import math

import cv2
import numpy as np


def delaunay_triangles(points: np.ndarray) -> np.ndarray:
    """Delaunay triangulation of ``(N, 2)`` points as ``(T, 3)`` int32 vertex indices (``cv2.Subdiv2D``)."""
    lo = np.floor(points.min(axis=0)) - 1
    hi = np.ceil(points.max(axis=0)) + 1
    subdiv = cv2.Subdiv2D((int(lo[0]), int(lo[1]), int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1))
    index = {}
    for i, (x, y) in enumerate(points.astype(np.float32)):
        index.setdefault((float(x), float(y)), i)
        subdiv.insert((float(x), float(y)))
    triangles = []
    for x0, y0, x1, y1, x2, y2 in subdiv.getTriangleList():
        corners = ((float(x0), float(y0)), (float(x1), float(y1)), (float(x2), float(y2)))
        if all(c in index for c in corners):  # drop triangles touching Subdiv2D's virtual outer vertices
            triangles.append([index[c] for c in corners])
    return np.array(triangles, dtype=np.int32)


def triangle_affines(dst: np.ndarray, src: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Per triangle, the affine taking ``dst`` coordinates to ``src`` ones, as ``(T, 6)`` float32
    ``(a, b, c, d, e, f)`` with ``src_x = a x + b y + c``, ``src_y = d x + e y + f``.

    Closed form (2x2 inverse), vectorised; flat triangles get a large but finite map.
    """
    p, q = dst[triangles], src[triangles]  # (T, 3, 2)
    dp1, dp2 = p[:, 1] - p[:, 0], p[:, 2] - p[:, 0]
    dq1, dq2 = q[:, 1] - q[:, 0], q[:, 2] - q[:, 0]
    det = dp1[:, 0] * dp2[:, 1] - dp2[:, 0] * dp1[:, 1]
    det = np.where(np.abs(det) < 1e-6, 1e-6, det)
    # inverse of [[dp1x, dp2x], [dp1y, dp2y]]
    i00, i01, i10, i11 = dp2[:, 1] / det, -dp2[:, 0] / det, -dp1[:, 1] / det, dp1[:, 0] / det
    a = dq1[:, 0] * i00 + dq2[:, 0] * i10
    b = dq1[:, 0] * i01 + dq2[:, 0] * i11
    d = dq1[:, 1] * i00 + dq2[:, 1] * i10
    e = dq1[:, 1] * i01 + dq2[:, 1] * i11
    c = q[:, 0, 0] - a * p[:, 0, 0] - b * p[:, 0, 1]
    f = q[:, 0, 1] - d * p[:, 0, 0] - e * p[:, 0, 1]
    return np.stack([a, b, c, d, e, f], axis=1).astype(np.float32)


class PiecewiseWarp:
    """Warps an RGBA ``texture`` whose mesh vertices are ``src_points`` onto a frame region.

    ``triangles`` ``(T, 3)`` index both point sets; ``step`` is the grid spacing in output pixels.
    """

    def __init__(self, texture: np.ndarray, src_points: np.ndarray, triangles: np.ndarray, step: int = 4) -> None:
        self.texture, self.src, self.triangles, self.step = texture, src_points.astype(np.float64), triangles, step
        self.levels = [texture]
        while min(self.levels[-1].shape[:2]) >= 32:
            self.levels.append(cv2.pyrDown(self.levels[-1]))
        self.src_levels = [(self.src + 0.5) / 2 ** k - 0.5 for k in range(len(self.levels))]
        """Mesh points in each pyramid level's pixels (pixel centres, as ``cv2.pyrDown`` halves them)."""
        self.src_extent = float(np.linalg.norm(np.ptp(self.src, axis=0)))

    def level_for(self, dst_points: np.ndarray) -> int:
        """The pyramid level whose texture pixels are closest to (not smaller than) output pixels."""
        shrink = self.src_extent / max(1e-6, float(np.linalg.norm(np.ptp(dst_points[:, :2], axis=0))))
        return int(np.clip(np.floor(np.log2(max(shrink, 1.0))), 0, len(self.levels) - 1))

    def render(self, dst_points: np.ndarray, rect: tuple[int, int, int, int]) -> np.ndarray:
        """The texture warped so ``src_points`` land on ``dst_points`` (frame pixels), for the frame
        region ``rect = (x0, y0, width, height)``. Returns ``(height, width, C)`` uint8 (C of the texture)."""
        x0, y0, w, h = rect
        gw, gh = max(2, math.ceil(w / self.step)), max(2, math.ceil(h / self.step))
        sx, sy = gw / w, gh / h
        # grid cell (i, j) sits at frame pixel ((i + 0.5) / sx - 0.5 + x0, ...) so cv2.resize upsamples exactly
        grid_pts = (dst_points[:, :2] - (x0, y0) + 0.5) * (sx, sy) - 0.5
        ids = np.zeros((gh, gw), np.int32)
        polys = np.rint(grid_pts[self.triangles] * 16.0).astype(np.int32)  # 4 fractional bits
        for k, poly in enumerate(polys, start=1):
            cv2.fillConvexPoly(ids, poly, k, lineType=cv2.LINE_8, shift=4)
        ids = cv2.dilate(ids.astype(np.float32), np.ones((3, 3), np.uint8)).astype(np.int32)
        affines = np.empty((len(self.triangles) + 1, 6), np.float32)
        affines[0] = (0, 0, -1e4, 0, 0, -1e4)  # grid points in no triangle sample far outside (transparent)
        level = self.level_for(dst_points)
        affines[1:] = triangle_affines(dst_points[:, :2].astype(np.float64), self.src_levels[level], self.triangles)
        gx = ((np.arange(gw) + 0.5) / sx - 0.5 + x0).astype(np.float32)[None, :]
        gy = ((np.arange(gh) + 0.5) / sy - 0.5 + y0).astype(np.float32)[:, None]
        a = affines[ids]  # (gh, gw, 6)
        map_x = gx * a[..., 0] + gy * a[..., 1] + a[..., 2]
        map_y = gx * a[..., 3] + gy * a[..., 4] + a[..., 5]
        map_x = cv2.resize(map_x, (w, h), interpolation=cv2.INTER_LINEAR)
        map_y = cv2.resize(map_y, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.remap(self.levels[level], map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=0)
