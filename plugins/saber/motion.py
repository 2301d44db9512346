"""Is a candidate held? The camera's own motion between frames and where the picture changed against
the scene a few frames ago: a held stick moves, scene structure (lamp posts, frames, edges) does not."""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

MOTION_WIDTH = 160
"""Width of the image the camera's motion is measured on (phase correlation; at 80 px the error of
its peak let a panned lamp post count as moving at 1280x720)."""
CUT = 0.8
"""Changed fraction of the picture above which it is taken as a cut or a sudden light change: the
history restarts rather than every edge counting as motion."""
CHANGE_WEIGHTS = np.array([[1.0, 2.0, 2.0]], np.float32)
"""Weights of the L, a and b differences (a and b span about half the range of L)."""
_NEIGHBOURS = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))


class MotionHistory:
    """The last ``depth`` working Lab images and the camera's motion since each, to compare the current
    frame with what was at the same place of the scene a few frames ago."""

    def __init__(self, depth: int = 6) -> None:
        self.frames: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=depth)
        """(Lab image, scene motion in work pixels from it to the current frame), oldest first."""
        self.window: np.ndarray | None = None
        self.previous: np.ndarray | None = None

    def push(self, lab: np.ndarray) -> None:
        """Add the current frame ((H, W, 3) uint8 Lab): measure the camera's motion from the previous
        one (phase correlation of the L channel at ``MOTION_WIDTH``) and add it to every older frame's."""
        h, w = lab.shape[:2]
        small = cv2.resize(lab, (MOTION_WIDTH, max(8, round(h * MOTION_WIDTH / w))), interpolation=cv2.INTER_AREA)
        small = small[:, :, 0].astype(np.float32)
        step = np.zeros(2)
        if self.previous is not None and self.previous.shape == small.shape:
            if self.window is None or self.window.shape != small.shape:
                self.window = cv2.createHanningWindow(small.shape[::-1], cv2.CV_32F)
            (dx, dy), _ = cv2.phaseCorrelate(self.previous, small, self.window)
            step = np.array([dx, dy]) * (w / MOTION_WIDTH)
        else:
            self.frames.clear()
        self.previous = small
        for k, (image, moved) in enumerate(self.frames):
            self.frames[k] = (image, moved + step)
        self.frames.append((lab, np.zeros(2)))

    def change(self, threshold: float) -> np.ndarray:
        """(H, W) uint8 mask, 255 where the current frame differs (L + 2a + 2b over ``threshold``) from
        the same scene point on the oldest remembered frame, beyond the range of its 3x3 neighbourhood
        (so a sub-pixel error in the camera's motion does not light up every edge). All 0 with no
        history, and after a cut or a sudden light change (``CUT``), which restarts the history."""
        now = self.frames[-1][0]
        h, w = now.shape[:2]
        out = np.zeros((h, w), np.uint8)
        if len(self.frames) < 2:
            return out
        old, shift = self.frames[0]
        dx, dy = (int(v) for v in np.rint(shift))
        if abs(dx) >= w // 2 or abs(dy) >= h // 2:
            return out
        x0, x1, y0, y1 = max(0, dx), min(w, w + dx), max(0, dy), min(h, h + dy)
        a, b = now[y0:y1, x0:x1], old[y0 - dy:y1 - dy, x0 - dx:x1 - dx]
        beyond = cv2.add(cv2.subtract(a, cv2.dilate(b, _NEIGHBOURS)), cv2.subtract(cv2.erode(b, _NEIGHBOURS), a))
        out[y0:y1, x0:x1] = cv2.threshold(cv2.transform(beyond, CHANGE_WEIGHTS), threshold, 255, cv2.THRESH_BINARY)[1]
        if cv2.countNonZero(out) > CUT * out.size:
            self.frames = deque([self.frames[-1]], maxlen=self.frames.maxlen)
            out[:] = 0
        return out


def moved(change: np.ndarray, p0: np.ndarray, p1: np.ndarray, samples: int = 12) -> float:
    """Fraction of ``samples`` points along ``p0``-``p1`` (work pixels; the outer 85%, away from the hand)
    inside the ``change`` mask: high for a stick moved against the background, 0 for scene structure."""
    h, w = change.shape
    t = np.linspace(0.15, 0.95, samples)[:, None]
    pts = np.rint(p0 + t * (p1 - p0)).astype(int)
    pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)]
    near = np.zeros(len(pts), bool)  # a changed pixel in the 3x3 neighbourhood of each point
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            near |= change[np.clip(pts[:, 1] + dy, 0, h - 1), np.clip(pts[:, 0] + dx, 0, w - 1)] > 0
    return float(np.count_nonzero(near)) / samples
