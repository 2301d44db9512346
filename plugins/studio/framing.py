"""Where ``autoframe`` points its virtual camera: the framing rule and the motion that follows it.

``framing_target`` turns face boxes into the crop a camera operator would choose (every face in,
the faces a set share of the picture's height, room above the heads, never past ``max_zoom``);
``Framer`` moves the crop there like a critically damped camera head: it waits inside a dead zone
(a still face gives a still picture), then glides without overshoot, and jumps at a scene cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FramingRule:
    """How to frame faces in a picture of ``aspect`` (width / height).

    ``face_share``: one face's height as a share of the crop height; ``headroom``: space above the
    topmost face as a share of the crop height; ``margin``: room beside the outer faces, in face
    heights; ``max_zoom``: the crop is at least 1 / ``max_zoom`` of the frame.
    """

    aspect: float
    face_share: float = 0.3
    headroom: float = 0.2
    margin: float = 0.6
    max_zoom: float = 2.0


def framing_target(boxes: np.ndarray, frame_w: int, frame_h: int, rule: FramingRule) -> np.ndarray:
    """The crop ``(cx, cy, height)`` (frame pixels) framing the face ``boxes`` ``(N, 4)`` x0, y0, x1, y1 together;
    the whole frame when there is none. The crop keeps ``rule.aspect`` and stays inside the frame."""
    full = np.array([frame_w / 2, frame_h / 2, float(frame_h)])
    if len(boxes) == 0:
        return full
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
    face_h = float(np.max(boxes[:, 3] - boxes[:, 1]))
    room = rule.margin * face_h
    height = max(face_h / rule.face_share,  # one face: its share of the picture
                 (y1 - y0 + room) / (1.0 - rule.headroom),  # faces one above the other: all of them
                 (x1 - x0 + 2 * room) / rule.aspect)  # side by side: all of them and room beside
    height = float(np.clip(height, frame_h / rule.max_zoom, frame_h))
    height = min(height, frame_w / rule.aspect)
    cx = (x0 + x1) / 2
    cy = y0 - rule.headroom * height + height / 2
    return clamp_crop(np.array([cx, cy, height]), frame_w, frame_h, rule.aspect)


def clamp_crop(crop: np.ndarray, frame_w: int, frame_h: int, aspect: float) -> np.ndarray:
    """``crop`` ``(cx, cy, height)`` moved (not resized) so it lies inside the frame."""
    cx, cy, height = crop
    half_w, half_h = height * aspect / 2, height / 2
    return np.array([min(max(cx, half_w), frame_w - half_w), min(max(cy, half_h), frame_h - half_h), height])


class Framer:
    """The crop ``(cx, cy, height)`` over time: a critically damped spring towards a target that only
    moves once the wanted framing left the dead zone.

    ``settle``: seconds to reach 2% of a step; ``dead_zone``: how far (share of the crop height, for
    the centre and for the height alike) the wanted framing may drift before the camera follows; it
    follows until it has caught up to a quarter of that.
    """

    def __init__(self, settle: float = 1.0, dead_zone: float = 0.08) -> None:
        self.omega = 5.84 / settle  # (1 + w t) exp(-w t) = 0.02 at w t = 5.84
        self.dead_zone = dead_zone
        self.crop: np.ndarray | None = None
        self.velocity = np.zeros(3)
        self.target = np.zeros(3)
        self.following = False

    def reset(self, crop: np.ndarray) -> None:
        """Jump to ``crop`` and stand still (a scene cut, the first frame)."""
        self.crop, self.target, self.velocity = crop.astype(np.float64), crop.astype(np.float64), np.zeros(3)
        self.following = False

    def step(self, wanted: np.ndarray, dt: float) -> np.ndarray:
        """Advance by ``dt`` seconds towards ``wanted``; returns the crop."""
        if self.crop is None:
            self.reset(wanted)
            return self.crop
        off = np.abs(wanted - self.crop) / self.crop[2]
        if not self.following and off.max() > self.dead_zone:
            self.following = True
        elif self.following and off.max() < self.dead_zone / 4 and np.abs(self.velocity).max() < 0.05 * self.crop[2]:
            self.following = False
        if self.following:
            self.target = wanted.astype(np.float64)
        # the exact step of x'' = -w^2 (x - target) - 2 w x' over dt (stable for any dt)
        decay = math.exp(-self.omega * dt)
        delta = self.crop - self.target
        push = (self.velocity + self.omega * delta) * dt
        self.crop = self.target + (delta + push) * decay
        self.velocity = (self.velocity - self.omega * push) * decay
        return self.crop
