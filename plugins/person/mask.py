"""The temporal smoothing of the person model's probability map (the result, ``PersonMask``, is in
``edgefx.results``)."""

from __future__ import annotations

import cv2
import numpy as np


class TemporalSmoother:
    """An exponential moving average whose weight adapts per pixel.

    Where the probability barely changes and the picture is still, the new value gets weight
    ``1 - strength`` (sensor noise and model jitter are averaged away: no edge flicker). Where
    the probability jumps or the picture itself moved, the weight rises to 1 (the mask follows
    at once: no ghost trail behind a moving person).
    """

    def __init__(self, strength: float, change: tuple[float, float] = (0.04, 0.25),
                 motion: tuple[float, float] = (0.03, 0.10)) -> None:
        self.strength = strength
        self.change, self.motion = change, motion
        self.prob: np.ndarray | None = None
        self.grey: np.ndarray | None = None

    def reset(self) -> None:
        self.prob = self.grey = None

    def update(self, prob: np.ndarray, grey: np.ndarray) -> np.ndarray:
        """Smooth ``prob`` (HxW float32 in [0, 1]) given the frame's ``grey`` (HxW float32 in [0, 1])."""
        if self.strength <= 0.0 or self.prob is None or self.prob.shape != prob.shape:
            self.prob, self.grey = prob, grey
            return prob
        delta = prob - self.prob
        w = np.abs(delta)
        w -= self.change[0]
        w *= 1.0 / (self.change[1] - self.change[0])
        moved = cv2.blur(cv2.absdiff(grey, self.grey), (3, 3))
        moved -= self.motion[0]
        moved *= 1.0 / (self.motion[1] - self.motion[0])
        np.maximum(w, moved, out=w)
        np.clip(w, 0.0, 1.0, out=w)  # 0 below the low end of both ramps, 1 above the high end of either
        w *= self.strength
        w += 1.0 - self.strength
        delta *= w
        delta += self.prob  # in place: delta becomes the new state
        self.prob, self.grey = delta, grey
        return delta
