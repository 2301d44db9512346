"""Geometric measures of a face from its 468 mesh points, in the face's own upright frame and in
units of the distance between the outer eye corners, so they do not depend on the face's size,
place or roll in the picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER = 33, 133, 362, 263
RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM, LEFT_EYE_TOP, LEFT_EYE_BOTTOM = 159, 145, 386, 374
MOUTH_RIGHT, MOUTH_LEFT, INNER_LIP_TOP, INNER_LIP_BOTTOM = 61, 291, 13, 14
RIGHT_BROW_MID, LEFT_BROW_MID, NOSE_TIP = 105, 334, 1
"""MediaPipe face-mesh indices ("right"/"left" are the subject's)."""
POINTS = (RIGHT_EYE_OUTER, RIGHT_EYE_INNER, LEFT_EYE_INNER, LEFT_EYE_OUTER, RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM,
          LEFT_EYE_TOP, LEFT_EYE_BOTTOM, MOUTH_RIGHT, MOUTH_LEFT, INNER_LIP_TOP, INNER_LIP_BOTTOM,
          RIGHT_BROW_MID, LEFT_BROW_MID, NOSE_TIP)


@dataclass(frozen=True, slots=True)
class Measures:
    """One face's measures on one frame (all divided by the eye-corner distance).

    ``mouth_open``: inner lip gap / mouth width; ``mouth_width``: mouth corner to corner;
    ``corner_lift``: how far the mouth corners sit above the upper lip's middle (not the lower lip's:
    an opened mouth is no smile); ``brow``: eyebrow middle
    to upper eyelid, both sides averaged; ``right_eye``/``left_eye``: eyelid gap / eye width;
    ``yaw``/``pitch``: nose tip from the eye line's middle, sideways and down (head turn and nod).
    """

    mouth_open: float
    mouth_width: float
    corner_lift: float
    brow: float
    right_eye: float
    left_eye: float
    yaw: float
    pitch: float


def upright(landmarks: np.ndarray) -> np.ndarray:
    """The measured points ``(len(POINTS), 2)`` turned so the eye line is level, in eye-corner units,
    the middle of the eye line at the origin."""
    pts = landmarks[list(POINTS), :2].astype(np.float64)
    right, left = pts[0], pts[3]
    d = left - right
    iod = max(1e-6, math.hypot(d[0], d[1]))
    c, s = d / iod
    rot = np.array([[c, s], [-s, c]])
    return (pts - (right + left) / 2.0) @ rot.T / iod


def measure(landmarks: np.ndarray) -> Measures:
    """The measures of one face's ``(468, 2+)`` landmarks (frame pixels). Plain floats after one
    NumPy transform: on 15 points the calls, not the arithmetic, are the cost."""
    points = upright(landmarks).tolist()
    (rox, roy), (rix, riy), (lix, liy), (lox, loy), (rtx, rty), (rbx, rby), (ltx, lty), (lbx, lby) = points[:8]
    (mrx, mry), (mlx, mly), (utx, uty), (ubx, uby), (_, rbry), (_, lbry), (nx, ny) = points[8:]
    width = max(1e-6, math.hypot(mlx - mrx, mly - mry))
    return Measures(
        mouth_open=math.hypot(ubx - utx, uby - uty) / width,
        mouth_width=width,
        corner_lift=uty - (mry + mly) / 2.0,
        brow=((rty - rbry) + (lty - lbry)) / 2.0,
        right_eye=math.hypot(rbx - rtx, rby - rty) / max(1e-6, math.hypot(rix - rox, riy - roy)),
        left_eye=math.hypot(lbx - ltx, lby - lty) / max(1e-6, math.hypot(lox - lix, loy - liy)),
        yaw=nx,
        pitch=ny,
    )
