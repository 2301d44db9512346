"""The One Euro filter (Casiez et al., CHI 2012): low jitter when still, little lag when moving.

The cutoff frequency of a first-order low-pass filter rises with the (filtered) speed of the
signal: ``cutoff = min_cutoff + beta * |speed|``. Works element-wise on arrays of any shape, so a
whole set of landmarks is filtered in one vectorised call.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np


@dataclass(frozen=True, slots=True)
class FilterParams:
    """One Euro parameters in object-size units (landmarks are divided by the object's size first)."""

    enabled: bool = True
    min_cutoff: float = 0.05
    beta: float = 80.0
    d_cutoff: float = 1.0

    def new_filter(self) -> OneEuroFilter:
        """A fresh filter with these parameters."""
        return OneEuroFilter(self.min_cutoff, self.beta, self.d_cutoff)


def smoothing_factor(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    """The exponential smoothing factor of a low-pass filter with ``cutoff`` Hz sampled every ``dt`` s."""
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


@cache
def _ones_column(n: int) -> np.ndarray:
    return np.ones((n, 1))


def _magnitude(speed: np.ndarray, per_point: bool) -> np.ndarray:
    """A new array of |speed|: per element, or with ``per_point`` per point over the last axis
    (shape ``(..., 1)``; a matmul sums the squares faster than ``np.linalg.norm``)."""
    if per_point and speed.ndim > 1:
        return np.sqrt(np.square(speed) @ _ones_column(speed.shape[-1]))
    return np.abs(speed)


class OneEuroFilter:
    """One Euro filter over arrays (e.g. ``(468, 3)`` float landmarks).

    ``min_cutoff`` (Hz) sets the smoothing of a still signal; ``beta`` how fast the cutoff rises
    with speed; ``d_cutoff`` (Hz) smooths the speed estimate. ``scale`` passed to ``__call__``
    divides values before the speed is measured (e.g. the face size), so the same parameters work
    for near and far objects. ``speed`` is the magnitude per point over the last axis when
    ``vector_speed`` is true (all coordinates of a point share one cutoff).
    """

    def __init__(self, min_cutoff: float = 1.0, beta: float = 0.0, d_cutoff: float = 1.0,
                 vector_speed: bool = True) -> None:
        self.min_cutoff, self.beta, self.d_cutoff = min_cutoff, beta, d_cutoff
        self.vector_speed = vector_speed
        self.value: np.ndarray | None = None
        self.speed: np.ndarray | None = None
        self.time: float | None = None

    def reset(self) -> None:
        """Forget the past: the next value passes through unfiltered."""
        self.value = self.speed = self.time = None

    def __call__(self, x: np.ndarray, t: float, scale: float = 1.0) -> np.ndarray:
        """Filter sample ``x`` taken at time ``t`` (seconds); returns the filtered array (float64).

        Written as few NumPy calls, mostly in place: on (468, 3) landmarks the calls, not the
        arithmetic, are the cost.
        """
        x = np.asarray(x, dtype=np.float64)
        if self.value is None or self.speed is None or self.time is None or t <= self.time:
            if self.value is None or self.time is None:
                self.value, self.speed, self.time = x, np.zeros_like(x), t
            return self.value
        dt = t - self.time
        step = x - self.value
        a = smoothing_factor(self.d_cutoff, dt)
        self.speed = self.speed * (1.0 - a)  # speed += a * (step / dt - speed)
        self.speed += step * (a / dt)
        # alpha = smoothing_factor(cutoff, dt) = k / (k + 1) with k = 2 pi dt cutoff
        alpha = _magnitude(self.speed, self.vector_speed)
        alpha *= 2.0 * math.pi * dt * self.beta / scale
        alpha += 2.0 * math.pi * dt * self.min_cutoff
        alpha /= alpha + 1.0
        step *= alpha
        self.value = self.value + step
        self.time = t
        return self.value
