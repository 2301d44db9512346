"""The guided filter (He, Sun and Tang): edge-aware smoothing of one image steered by another.

Used to snap a coarse mask to the edges of the picture. ``guided_filter`` works at whatever
resolution it is given; callers run it at a reduced size and upsample the result (the fast
guided filter's trade: the coefficients are smooth, so little is lost).
"""

from __future__ import annotations

import cv2
import numpy as np


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """Filter ``src`` (HxW float32) guided by the grey ``guide`` (HxW float32, same size, [0, 1]).

    ``radius`` is the box half-size in pixels; ``eps`` the regulariser (larger = smoother, less
    edge-following; about 1e-3 follows clear edges of a [0, 1] guide). Returns HxW float32.
    """
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.blur(x, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(guide), box(src)
    cov_ip = box(guide * src) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return box(a) * guide + box(b)
