"""How much each picture changed since the one before, measured by the source that made it.

The scheduler's similarity gate skips an analyzer while the picture has barely changed. Sources
measure the change where they make the picture (PyAV inputs on their decode thread, the demo
right after rendering, pixels still in cache) and hand it over as ``Frame.change``, so the
scheduler reads one number instead of touching the frame again.
"""

from __future__ import annotations

import math

import av
import cv2
import numpy as np

STEP = 32
"""Every this many rows and columns are sampled (23x40 samples at 720p: enough for a mean)."""


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The gate's view of a BGR picture: every ``STEP``-th pixel of the green channel.

    ``image``: (H, W, 3) uint8 -> (ceil(H/STEP), ceil(W/STEP)) uint8, a contiguous copy.
    """
    return image[::STEP, ::STEP, 1].copy()


def plane_thumbnail(picture: av.VideoFrame) -> np.ndarray | None:
    """The same sampling of a decoded picture's first plane (the luma of YUV formats; one byte of
    each sampled pixel of packed formats), read before any conversion. The same bytes are read from
    every picture of a stream, so the difference of two thumbnails measures change in any 8-bit
    format. ``None`` where the plane cannot be read as bytes (hardware frames)."""
    try:
        plane = picture.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)
    except (TypeError, ValueError, IndexError):
        return None
    pixel = max(1, plane.line_size // max(1, plane.width))  # bytes per pixel (about: lines are padded)
    return rows[:plane.height:STEP, :plane.width * pixel:STEP * pixel].copy()


class ChangeMeter:
    """Mean absolute difference (0-255) of each thumbnail from the previous one."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: np.ndarray | None = None

    def update(self, thumb: np.ndarray) -> float:
        """The change from the last thumbnail to ``thumb`` (inf for the first or a new size)."""
        last, self._last = self._last, thumb
        if last is None or last.shape != thumb.shape:
            return math.inf
        return cv2.norm(thumb, last, cv2.NORM_L1) / thumb.size
