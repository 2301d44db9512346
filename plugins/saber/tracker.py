"""Tracking the stick: pick the candidate that continues the track, smooth both endpoints with a
constant-velocity Kalman filter, predict through short occlusions, confirm new tracks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from edgefx.results import Saber


@dataclass(frozen=True, slots=True)
class Segment:
    """A candidate stick in frame pixels, ends in no particular order, with a quality 0..1."""

    p0: np.ndarray
    p1: np.ndarray
    quality: float


@dataclass(frozen=True, slots=True)
class TrackParams:
    """``gate``: farthest an endpoint may be from its prediction, as a fraction of the frame diagonal;
    ``max_missing``: frames predicted without a measurement before the track is dropped;
    ``confirm``: consecutive consistent detections that start a new track; ``decay``: confidence factor
    per predicted frame; ``process_noise``/``measurement_noise``: Kalman noise in pixels (at a 1000 px diagonal)."""

    gate: float = 0.12
    max_missing: int = 10
    confirm: int = 2
    decay: float = 0.85
    process_noise: float = 6.0
    measurement_noise: float = 2.0
    fast: float = 0.02
    """Endpoint speed (fraction of the diagonal per frame) above which motion blur may fade the tip: the
    tip is then kept at the stick's length measured while it moved slowly."""
    grow: float = 1.25
    """Most the measured stick may outgrow its learned length in one frame."""


MAX_TURN = 0.35
"""Largest rotation per frame (radians, 20°) the prediction extrapolates."""


def _point(p: np.ndarray) -> tuple[float, float]:
    return (round(float(p[0]), 2), round(float(p[1]), 2))


class EndpointFilter:
    """``cv2.KalmanFilter`` with constant velocity on both endpoints: state (bx, by, tx, ty, and their velocities)."""

    def __init__(self, base: np.ndarray, tip: np.ndarray, process_noise: float, measurement_noise: float) -> None:
        kf = cv2.KalmanFilter(8, 4)
        kf.transitionMatrix = np.eye(8, dtype=np.float32)
        kf.transitionMatrix[:4, 4:] = np.eye(4, dtype=np.float32)
        kf.measurementMatrix = np.eye(4, 8, dtype=np.float32)
        q = np.diag([0.25] * 4 + [1.0] * 4).astype(np.float32) * process_noise**2
        kf.processNoiseCov = q
        kf.measurementNoiseCov = np.eye(4, dtype=np.float32) * measurement_noise**2
        kf.errorCovPost = np.diag([measurement_noise**2] * 4 + [(4 * process_noise) ** 2] * 4).astype(np.float32)
        kf.statePost = np.concatenate([base, tip, np.zeros(4)]).astype(np.float32).reshape(8, 1)
        self.kf = kf

    def predict(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.kf.predict().ravel()
        return s[0:2].astype(float), s[2:4].astype(float)

    def correct(self, base: np.ndarray, tip: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.kf.correct(np.concatenate([base, tip]).astype(np.float32).reshape(4, 1)).ravel()
        return s[0:2].astype(float), s[2:4].astype(float)

    @property
    def speed(self) -> float:
        """The faster endpoint's speed in pixels per frame."""
        v = self.kf.statePost[4:].ravel()
        return float(max(np.hypot(v[0], v[1]), np.hypot(v[2], v[3])))

    def damp(self, factor: float) -> None:
        """Slow the velocity (while predicting blind, so the blade does not fly off)."""
        self.kf.statePost[4:] *= factor
        self.kf.statePre[4:] *= factor


class SaberTracker:
    """One stick over time. ``update`` takes the frame's candidates and returns a ``Saber`` or ``None``."""

    def __init__(self, params: TrackParams, diagonal: float) -> None:
        self.params = params
        self.diagonal = diagonal
        scale = diagonal / 1000.0
        self.process_noise = params.process_noise * scale
        self.measurement_noise = params.measurement_noise * scale
        self.filter: EndpointFilter | None = None
        self.missed = 0
        self.quality = 0.0
        self.last: tuple[np.ndarray, np.ndarray] | None = None
        self.pending: Segment | None = None
        self.pending_count = 0
        self.last_base: np.ndarray | None = None
        self.prediction: tuple[np.ndarray, np.ndarray] | None = None
        self.length: float | None = None
        self.turn = 0.0
        """Rotation of the stick per frame in radians (the prediction turns the tip about the base)."""
        self.measured: tuple[float, int] | None = None
        """The stick's angle at its last measurement and the frames since."""

    def _match(self, segment: Segment, base: np.ndarray, tip: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Largest endpoint distance to (``base``, ``tip``) and the segment oriented to fit them: the
        pairing of ends with the smaller sum of distances (the larger distance alone let a prediction
        whose tip had drifted through an occlusion swap the ends of the stick found again)."""
        straight = (np.hypot(*(segment.p0 - base)), np.hypot(*(segment.p1 - tip)))
        swapped = (np.hypot(*(segment.p1 - base)), np.hypot(*(segment.p0 - tip)))
        if sum(straight) <= sum(swapped):
            return float(max(straight)), segment.p0, segment.p1
        return float(max(swapped)), segment.p1, segment.p0

    def predict(self) -> tuple[np.ndarray, np.ndarray] | None:
        """Where the track's base and tip should be on the coming frame (``None`` without a track).
        Call once per frame, before ``update``."""
        if self.filter is None:
            self.prediction = None
            return None
        base, tip = self.filter.predict()
        if self.last is not None and self.turn:  # a swing turns the stick about the hand: rotate, not slide
            c, s = np.cos(self.turn), np.sin(self.turn)
            arm = self.last[1] - self.last[0]
            tip = base + np.array([c * arm[0] - s * arm[1], s * arm[0] + c * arm[1]])
        self.prediction = (base, tip)
        return self.prediction

    def update(self, segments: list[Segment], orient: Callable[[Segment], tuple[np.ndarray, np.ndarray]],
               ) -> Saber | None:
        """Advance one frame with ``segments`` (best first), after ``predict``. ``orient`` tells base from
        tip for a new track when there is no previous base to go by."""
        gate = self.params.gate * self.diagonal
        if self.filter is not None and self.prediction is not None:
            fast = self.filter.speed > self.params.fast * self.diagonal
            base, tip = self.prediction
            scored = [(*self._match(s, base, tip), s) for s in segments]
            scored = [m for m in scored if m[0] <= gate * (1 + 0.2 * self.missed)]
            if scored:
                _, mb, mt, seg = min(scored, key=lambda m: m[0])
                mt = self._keep_length(mb, mt, fast)
                base, tip = self.filter.correct(mb, mt)
                self._follow_turn(base, tip)
                self.missed, self.quality, self.pending = 0, seg.quality, None
                self.last, self.last_base = (base, tip), base
                return Saber(_point(base), _point(tip), round(seg.quality, 3))
            self.missed += 1
            self.turn *= 0.6
            self._age_measurement()
            if self.missed > self.params.max_missing:
                self.filter = None
            else:
                self.filter.damp(0.6)
                self.last = (base, tip)
        started = self._acquire(segments, orient)
        if started is not None:
            return started
        if self.filter is not None and self.last is not None:
            return self._predicted(*self.last)
        return None

    def drop(self) -> None:
        """End the track (its stick stopped behaving like a held one)."""
        self.filter, self.last, self.pending, self.pending_count = None, None, None, 0

    def _predicted(self, base: np.ndarray, tip: np.ndarray) -> Saber:
        """A predicted (unmeasured) blade; confidence decays with each frame without a measurement."""
        conf = self.quality * self.params.decay**self.missed
        return Saber(_point(base), _point(tip), round(conf, 3), predicted=True)

    def _follow_turn(self, base: np.ndarray, tip: np.ndarray) -> None:
        """The stick's rotation per frame (radians) between the last two measurements (filtered ends),
        whatever frames were predicted or carried in between."""
        angle = float(np.arctan2(tip[1] - base[1], tip[0] - base[0]))
        if self.measured is not None:
            before, frames = self.measured
            rate = ((angle - before + np.pi) % (2 * np.pi) - np.pi) / frames
            self.turn = float(np.clip(rate, -MAX_TURN, MAX_TURN))
        self.measured = (angle, 1)

    def _age_measurement(self) -> None:
        if self.measured is not None:
            self.measured = (self.measured[0], self.measured[1] + 1)

    def _keep_length(self, base: np.ndarray, tip: np.ndarray, fast: bool) -> np.ndarray:
        """Learn the stick's length while it moves slowly; while it moves fast, put a tip that blur cut
        short back at that length along the measured axis. A tip running far past that length (into a
        bright wall behind the tip) is cut back to ``grow`` times it."""
        length = float(np.hypot(*(tip - base)))
        if self.length is not None and length > self.params.grow * self.length:
            tip = base + (tip - base) * (self.params.grow * self.length / length)
            length = self.params.grow * self.length
        if not fast:
            self.length = length if self.length is None else 0.8 * self.length + 0.2 * length
            return tip
        if self.length is not None and length < 0.85 * self.length:
            return base + (tip - base) * (self.length / max(length, 1e-6))
        return tip

    def _acquire(self, segments: list[Segment], orient: Callable[[Segment], tuple[np.ndarray, np.ndarray]],
                 ) -> Saber | None:
        """Start a new track once the best candidate has been seen ``confirm`` frames in a row."""
        if not segments:
            self.pending, self.pending_count = None, 0
            return None
        best = segments[0]
        gate = 2 * self.params.gate * self.diagonal  # a new stick may be moving fast
        if self.pending is not None and self._match(best, self.pending.p0, self.pending.p1)[0] <= gate:
            self.pending_count += 1
        else:
            self.pending_count = 1
        self.pending = best
        if self.pending_count < self.params.confirm:
            return None
        if self.last_base is not None:
            near0 = np.hypot(*(best.p0 - self.last_base)) <= np.hypot(*(best.p1 - self.last_base))
            base, tip = (best.p0, best.p1) if near0 else (best.p1, best.p0)
        else:
            base, tip = orient(best)
        self.filter = EndpointFilter(base, tip, self.process_noise, self.measurement_noise)
        self.length, self.turn, self.measured = None, 0.0, None
        self.missed, self.quality, self.pending, self.pending_count = 0, best.quality, None, 0
        self.last, self.last_base = (base, tip), base
        return Saber(_point(base), _point(tip), round(best.quality, 3))

    def carry(self) -> Saber | None:
        """Predict one frame ahead without a measurement (the scheduler skipped the analyzer). Not a
        miss: the track keeps its speed and confidence, and a new stick being confirmed stays pending."""
        prediction = self.predict()
        if prediction is None:
            return None
        self.last = prediction
        self._age_measurement()
        return self._predicted(*prediction)
