"""The fast guided filter (He and Sun, 2015): edge-aware smoothing of one image steered by another.

Used to snap a coarse mask to the edges of the picture. The linear coefficients are computed
at ``1 / subsample`` of the size (they are smooth, so little is lost) and applied at full size.
"""

from __future__ import annotations

import cv2
import numpy as np


def guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float, subsample: int = 1) -> np.ndarray:
    """Filter ``src`` (HxW float32) guided by the grey ``guide`` (HxW float32, same size, [0, 1]).
    Both may also be HxWxC of the same shape: each channel is then guided by its own (e.g. a colour
    image by itself, for edge-preserving smoothing).

    ``radius`` is the box half-size in pixels of the subsampled grid; ``eps`` the regulariser
    (larger = smoother, less edge-following; about 1e-3 follows clear edges of a [0, 1] guide).
    Returns HxW float32.
    """
    h, w = guide.shape[:2]
    if subsample > 1:
        size = (max(1, w // subsample), max(1, h // subsample))
        i = cv2.resize(guide, size, interpolation=cv2.INTER_AREA)
        p = cv2.resize(src, size, interpolation=cv2.INTER_AREA)
    else:
        i, p = guide, src
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:  # one channel at a time: OpenCV's fast path
        return cv2.blur(x, size, borderType=cv2.BORDER_REFLECT)

    mean_i, mean_p = box(i), box(p)
    a = (box(i * p) - mean_i * mean_p) / (box(i * i) - mean_i * mean_i + eps)
    a_mean, b_mean = box(a), box(mean_p - a * mean_i)
    if subsample > 1:
        a_mean = cv2.resize(a_mean, (w, h), interpolation=cv2.INTER_LINEAR)
        b_mean = cv2.resize(b_mean, (w, h), interpolation=cv2.INTER_LINEAR)
    a_mean *= guide  # in place: no full-size temporaries
    a_mean += b_mean
    return a_mean
