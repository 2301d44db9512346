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
DEFAULT_NEUTRAL = {"mouth_open": 0.05, "smile": 0.60, "brow": 0.18, "eye": 0.32, "lid": 0.30}
MARGIN = {"mouth_open": 0.20, "smile": 0.08, "brow": 0.06}
"""How far above its neutral a measure must go to count (eye-corner units)."""
EYE_CLOSED, EYE_OPEN = 0.86, 0.93
"""An eye is closed below this fraction of its neutral opening, and open above the second. The
468-point mesh follows eyelids only partly: a fully shut eye measures about 0.75-0.8 of its open
opening (tests/test_expressions_faces.py), so the closed threshold sits close to 1."""
EYELID_CLOSED, EYELID_OPEN = 0.8, 0.9
"""From the iris model (``eyelids.py``), which follows each eye on its own: an eye is shut below
this fraction of its neutral opening, and open above the second. A wink is one eye shut and the
other open; the mesh alone cannot tell it from a blink."""
HEAD_SWING = 0.08
"""Nod / shake: the nose swings this far (eye-corner units) within ``HEAD_WINDOW_S``, mostly on one axis."""
HEAD_WINDOW_S = 1.0


def smile_measure(m: Measures) -> float:
    """Mouth width plus twice the corners' lift: both grow with a smile."""
    return m.mouth_width + 2.0 * m.corner_lift


@dataclass(frozen=True, slots=True)
class Baseline:
    """A face's neutral: mouth opening, smile measure, brow height, each eye's opening (mesh), and
    each eye's opening from the iris model (``right_lid``, ``left_lid``)."""

    mouth_open: float = DEFAULT_NEUTRAL["mouth_open"]
    smile: float = DEFAULT_NEUTRAL["smile"]
    brow: float = DEFAULT_NEUTRAL["brow"]
    right_eye: float = DEFAULT_NEUTRAL["eye"]
    left_eye: float = DEFAULT_NEUTRAL["eye"]
    right_lid: float = DEFAULT_NEUTRAL["lid"]
    left_lid: float = DEFAULT_NEUTRAL["lid"]

    @classmethod
    def from_samples(cls, samples: Sequence[Measures], lids: Sequence[tuple[float, float]] = ()) -> Baseline:
        """The median of ``samples``, each capped at a neutral face's value, and of the iris model's
        ``lids`` (right, left; the default neutral when there are none)."""
        def med(values: list[float]) -> float:
            return float(np.median(values))
        def eye(values: list[float]) -> float:
            return min(max(med(values), 0.2), NEUTRAL_CAP["eye"])
        return cls(min(med([m.mouth_open for m in samples]), NEUTRAL_CAP["mouth_open"]),
                   min(med([smile_measure(m) for m in samples]), NEUTRAL_CAP["smile"]),
                   min(med([m.brow for m in samples]), NEUTRAL_CAP["brow"]),
                   eye([m.right_eye for m in samples]), eye([m.left_eye for m in samples]),
                   *((max(med([r for r, _ in lids]), 0.05), max(med([a for _, a in lids]), 0.05)) if lids
                     else (DEFAULT_NEUTRAL["lid"], DEFAULT_NEUTRAL["lid"])))


def face_expressions(m: Measures, base: Baseline, lids: tuple[float, float] | None = None) -> list[str]:
    """The still expressions (all but nod and shake) of measures ``m`` against ``base``. ``lids``,
    each eye's opening from the iris model (``winks = true``), tells a wink from a blink; without
    it there are no winks, as the mesh reads a wink as a small blink of both eyes."""
    out = []
    if m.mouth_open > base.mouth_open + MARGIN["mouth_open"]:
        out.append("mouth_open")
    if smile_measure(m) > base.smile + MARGIN["smile"]:
        out.append("smile")
    if m.brow > base.brow + MARGIN["brow"]:
        out.append("eyebrows_raised")
    right, left = (1.0, 1.0) if lids is None else (lids[0] / base.right_lid, lids[1] / base.left_lid)
    if right < EYELID_CLOSED and left > EYELID_OPEN:
        out.append("wink_right")
    elif left < EYELID_CLOSED and right > EYELID_OPEN:
        out.append("wink_left")
    elif m.right_eye < EYE_CLOSED * base.right_eye and m.left_eye < EYE_CLOSED * base.left_eye:
        out.append("blink")
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
