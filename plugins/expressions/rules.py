"""Which expressions a face shows, from its measures against its own neutral (the baseline).

The baseline is the median of the face's first seconds, capped at what a neutral face can be
(``NEUTRAL_CAP``): a naturally open mouth raises the mouth-open threshold, but a face that smiles
from the start still fires ``smile`` once the cap is passed. Until calibrated, ``DEFAULT_NEUTRAL``
(a typical neutral face) stands in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgefx.plugins.expressions.measures import Measures

EXPRESSIONS = ("mouth_open", "smile", "eyebrows_raised", "wink_left", "wink_right", "blink", "nod", "shake")
NEUTRAL_CAP = {"mouth_open": 0.12, "smile": 0.62, "brow": 0.22, "eye": 0.45}
DEFAULT_NEUTRAL = {"mouth_open": 0.05, "smile": 0.60, "brow": 0.18, "eye": 0.32}
MARGIN = {"mouth_open": 0.20, "smile": 0.08, "brow": 0.06}
"""How far above its neutral a measure must go to count (eye-corner units)."""
EYE_CLOSED, EYE_OPEN = 0.86, 0.93
"""An eye is closed below this fraction of its neutral opening, and open above the second. The
468-point mesh follows eyelids only partly: a fully shut eye measures about 0.75-0.8 of its open
opening (tests/test_expressions_faces.py), so the closed threshold sits close to 1."""
HEAD_SWING = 0.08
"""Nod / shake: the nose swings this far (eye-corner units) within ``HEAD_WINDOW_S``, mostly on one axis."""
HEAD_WINDOW_S = 1.0


def smile_measure(m: Measures) -> float:
    """Mouth width plus twice the corners' lift: both grow with a smile."""
    return m.mouth_width + 2.0 * m.corner_lift


@dataclass(frozen=True, slots=True)
class Baseline:
    """A face's neutral: mouth opening, smile measure, brow height and each eye's opening."""

    mouth_open: float = DEFAULT_NEUTRAL["mouth_open"]
    smile: float = DEFAULT_NEUTRAL["smile"]
    brow: float = DEFAULT_NEUTRAL["brow"]
    right_eye: float = DEFAULT_NEUTRAL["eye"]
    left_eye: float = DEFAULT_NEUTRAL["eye"]

    @classmethod
    def from_samples(cls, samples: Sequence[Measures]) -> Baseline:
        """The median of ``samples``, each capped at a neutral face's value."""
        def med(values: list[float]) -> float:
            return float(np.median(values))
        def eye(values: list[float]) -> float:
            return min(max(med(values), 0.2), NEUTRAL_CAP["eye"])
        return cls(min(med([m.mouth_open for m in samples]), NEUTRAL_CAP["mouth_open"]),
                   min(med([smile_measure(m) for m in samples]), NEUTRAL_CAP["smile"]),
                   min(med([m.brow for m in samples]), NEUTRAL_CAP["brow"]),
                   eye([m.right_eye for m in samples]), eye([m.left_eye for m in samples]))


def face_expressions(m: Measures, base: Baseline) -> list[str]:
    """The still expressions (all but nod and shake) of measures ``m`` against ``base``."""
    out = []
    if m.mouth_open > base.mouth_open + MARGIN["mouth_open"]:
        out.append("mouth_open")
    if smile_measure(m) > base.smile + MARGIN["smile"]:
        out.append("smile")
    if m.brow > base.brow + MARGIN["brow"]:
        out.append("eyebrows_raised")
    right_closed, left_closed = m.right_eye < EYE_CLOSED * base.right_eye, m.left_eye < EYE_CLOSED * base.left_eye
    if right_closed and left_closed:
        out.append("blink")
    elif left_closed and m.right_eye > EYE_OPEN * base.right_eye:
        out.append("wink_left")
    elif right_closed and m.left_eye > EYE_OPEN * base.left_eye:
        out.append("wink_right")
    return out


def head_motion(history: Sequence[tuple[float, float, float]]) -> str | None:
    """``"nod"`` or ``"shake"`` from recent (t, yaw, pitch) samples of one face, or ``None``."""
    if len(history) < 3:
        return None
    _, yaw, pitch = np.array(history).T
    yaw_swing, pitch_swing = float(np.ptp(yaw)), float(np.ptp(pitch))
    if pitch_swing > HEAD_SWING and pitch_swing > 2.0 * yaw_swing:
        return "nod"
    if yaw_swing > HEAD_SWING and yaw_swing > 2.0 * pitch_swing:
        return "shake"
    return None
