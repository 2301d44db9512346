"""One followed object of a landmark tracker (a face, a hand), as MediaPipe's graphs follow them:
its next region comes from its own landmarks, which a One Euro filter smooths. The face and hand
trackers share it; each adds what its result carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from edgefx.vision.one_euro import OneEuroFilter
from edgefx.vision.rotated_rect import RotatedSquare, xy_bounds
from edgefx.vision.ssd import box_iou


def landmark_box(points: np.ndarray) -> np.ndarray:
    """Axis-aligned box (4,) float32 of ``(N, 2+)`` points."""
    return np.array(xy_bounds(points), np.float32)


@dataclass(slots=True, eq=False)
class LandmarkTrack:
    """A track's id, the region for the next frame, its smoothed landmarks and their box."""

    id: int
    roi: RotatedSquare
    filter: OneEuroFilter
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    score: float = 0.0
    time: float = 0.0
    box: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))

    def follow(self, points: np.ndarray, roi: RotatedSquare, score: float, t: float, smooth: bool) -> None:
        """Take a fresh model result at time ``t``: ``roi`` (from the raw ``points``) is the next
        region; the landmarks are the points smoothed at their own scale (or raw)."""
        self.roi, self.score, self.time = roi, score, t
        if smooth:
            x0, y0, x1, y1 = xy_bounds(points)
            scale = max(1.0, (x1 - x0 + y1 - y0) / 2.0)
            self.landmarks = self.filter(points, t, scale).astype(np.float32)
        else:
            self.landmarks = points
        self.box = landmark_box(self.landmarks)

    def predict(self, t: float) -> np.ndarray:
        """Landmarks extrapolated to time ``t`` at the filter's estimated velocity (no model run)."""
        if self.filter.speed is None or t <= self.time:
            return self.landmarks
        return (self.landmarks + self.filter.speed * (t - self.time)).astype(np.float32)


T = TypeVar("T", bound=LandmarkTrack)


def without_duplicates(tracks: list[T], iou: float) -> list[T]:
    """``tracks`` less those that converged on an older track's object (landmark boxes overlapping
    by more than ``iou``): the oldest of each such group is kept."""
    kept: list[T] = []
    for track in sorted(tracks, key=lambda tr: tr.id):
        if all(box_iou(track.box, other.box[None])[0] <= iou for other in kept):
            kept.append(track)
    return kept
