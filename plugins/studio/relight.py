"""The ``relight`` effect: low-light and backlight correction from the face's brightness (like Studio Light).

The mean luminance of the face (inside its oval, measured on a 1/4-size sample) is compared with a
well-exposed ``target``; the gain that brings it there drives a tone curve on the whole picture,
``y = g x / (1 + (g - 1) x)`` (x, y in [0, 1]): slope ``g`` in the shadows, black stays black and
white stays white, highlights are compressed rather than clipped, so a bright window behind a dark
face does not burn out. A little contrast is added back with an S-curve. The gain moves towards its
new value exponentially (``speed`` seconds) and the curve is rebuilt only when it changed by more
than a hair, so a still scene does not flicker. Only ever brightens (``max_gain`` caps the lift).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.options import Option
from edgefx.results import Face
from edgefx.vision import face_mesh as mesh

SAMPLE = 4
"""The face's luminance is measured every SAMPLE pixels."""
REBUILD = 0.002
"""The curve is rebuilt when log(gain) moved by more than this (0.2%: well under a level)."""


def tone_curve(gain: float, contrast: float) -> np.ndarray:
    """The 256-entry uint8 curve lifting the shadows by ``gain`` with an S-curve of ``contrast`` (0-1) on top."""
    x = np.arange(256, dtype=np.float64) / 255.0
    y = gain * x / (1.0 + (gain - 1.0) * x)
    y = y + contrast * (y * y * (3.0 - 2.0 * y) - y)
    return np.clip(np.rint(y * 255.0), 0, 255).astype(np.uint8)


def gain_for(mean: float, target: float) -> float:
    """The gain whose curve takes ``mean`` (0-1) to ``target`` (0-1); 1 when already as bright."""
    if mean >= target or mean <= 0.0:
        return 1.0 if mean >= target else math.inf
    return target * (1.0 - mean) / (mean * (1.0 - target))


def face_luminance(image: np.ndarray, faces: list[Face]) -> float | None:
    """Mean luminance (0-1) inside the faces' ovals, measured every ``SAMPLE`` pixels; ``None``: no face in view."""
    h, w = image.shape[:2]
    total, count = 0.0, 0
    for face in faces:
        x0, y0 = (max(0, int(v)) for v in face.bbox[:2])
        x1, y1 = min(w, int(face.bbox[2]) + 1), min(h, int(face.bbox[3]) + 1)
        if x1 - x0 < 2 * SAMPLE or y1 - y0 < 2 * SAMPLE:
            continue
        part = cv2.cvtColor(np.ascontiguousarray(image[y0:y1:SAMPLE, x0:x1:SAMPLE]), cv2.COLOR_BGR2GRAY)
        oval = np.zeros(part.shape, np.uint8)
        pts = np.rint((face.landmarks[list(mesh.FACE_OVAL), :2] - (x0, y0)) / SAMPLE * 16).astype(np.int32)
        cv2.fillPoly(oval, [pts], 1, cv2.LINE_8, shift=4)
        n = int(cv2.countNonZero(oval))
        if n:
            total += float(cv2.mean(part, oval)[0]) * n
            count += n
    return total / count / 255.0 if count else None


class Relight(Effect):
    """Brightens a dark or backlit face to a well-exposed level, smoothly over time."""

    name = "relight"
    layer = Layer.CAMERA
    requires = ("faces",)
    options: ClassVar[dict[str, Option]] = {
        "target": Option(0.6, "face luminance to reach (0-1 of full scale)", min=0.1, max=0.9),
        "max_gain": Option(8.0, "largest shadow lift", min=1.0, max=16.0),
        "contrast": Option(0.15, "S-curve contrast added on top of the lift (0 = none)", min=0.0, max=1.0),
        "speed": Option(0.7, "seconds the correction takes to follow a change of light (time constant)",
                        min=0.0, max=30.0),
        "lost_after": Option(2.0, "seconds without a face before the correction eases back to none",
                             min=0.0, max=600.0),
        "max_age": Option(5, "ignore face results older than this many frames", min=0, max=1000),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.log_gain = 0.0
        self.applied: float | None = None
        self.lut = tone_curve(1.0, 0.0)
        self.last_time: float | None = None
        self.last_face_time = -1e9

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        s = self.settings
        faces: list[Face] = ctx.get("faces") or []
        mean = face_luminance(frame.image, faces) if ctx.age.get("faces", 0) <= s["max_age"] else None
        if mean is not None:
            self.last_face_time = frame.time
            # the face was measured on the picture as it came: correct what the curve does to it
            wanted = math.log(min(s["max_gain"], gain_for(mean, s["target"])))
        elif frame.time - self.last_face_time > s["lost_after"]:
            wanted = 0.0
        else:
            wanted = self.log_gain
        dt = 0.0 if self.last_time is None else max(0.0, frame.time - self.last_time)
        first = self.last_time is None
        self.last_time = frame.time
        k = 1.0 if first or s["speed"] <= 0 else 1.0 - math.exp(-dt / s["speed"])
        self.log_gain += k * (wanted - self.log_gain)
        if self.applied is None or abs(self.log_gain - self.applied) > REBUILD:
            self.applied = self.log_gain
            lift = min(1.0, max(0.0, self.log_gain) / math.log(2.0))  # contrast grows with the lift
            self.lut = tone_curve(math.exp(self.log_gain), s["contrast"] * lift)
        if self.applied > REBUILD:
            cv2.LUT(frame.image, self.lut, dst=frame.image)
