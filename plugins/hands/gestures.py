"""Hand gestures from 21 landmarks: geometric rules that hold at any turn and size of the hand.

Each finger is *extended* (its tip well beyond its middle joint, seen from the wrist), *folded*
(the tip curled back nearer the wrist than the middle joint) or neither; distances are in palm
sizes (wrist to middle-finger knuckle), so the rules do not depend on the hand's size in the picture.
Only x and y are used: the model's depth is the noisiest coordinate.

One hand: ``thumbs_up``, ``thumbs_down``, ``open_palm``, ``victory``, ``fist``, ``pointing``, ``ok``.
Two hands: ``heart`` (index tips together above thumb tips together) and ``both_thumbs_up``.
"""

from __future__ import annotations

import numpy as np

ONE_HAND = ("thumbs_up", "thumbs_down", "open_palm", "victory", "fist", "pointing", "ok")
TWO_HANDS = ("heart", "both_thumbs_up")
GESTURES = ONE_HAND + TWO_HANDS

FINGERS = {"index": (5, 6, 7, 8), "middle": (9, 10, 11, 12), "ring": (13, 14, 15, 16), "pinky": (17, 18, 19, 20)}
"""Knuckle (MCP), middle joint (PIP), last joint (DIP) and tip of each finger."""
WRIST, THUMB_MCP, THUMB_IP, THUMB_TIP, INDEX_MCP, INDEX_TIP, MIDDLE_MCP = 0, 2, 3, 4, 5, 8, 9
ACROSS = (6, 7, 10, 11)
"""Index and middle fingers' middle and last joints, where a thumb folded across a fist lies."""

EXTENDED_RATIO = 1.15
"""A finger is extended when its tip is this many times farther from the wrist than its middle joint."""
THUMB_OUT = 0.75
"""The thumb is extended when its tip is this many palm sizes from the index knuckle and straight."""
THUMB_CLEAR = 0.55
"""Unless index and middle are both extended, the thumb counts as extended only with its tip this
many palm sizes clear of their middle and last joints; nearer, it lies folded across them (a fist):
on fingerpose's real fist and pointing photos the tip is 0.15-0.48 palm sizes from them (and read as
``thumbs_up`` in 6 of 12 fist landmark sets before this), on opencv-doc's open palms 0.87-1.27."""
THUMB_VERTICAL = 0.7
"""Thumbs up/down: the thumb's direction is within ~45 degrees of the picture's vertical."""
OK_TOUCH = 0.4
"""OK sign: thumb and index tips closer than this many palm sizes."""
VICTORY_SPREAD = 0.25
"""Victory: index and middle tips at least this many palm sizes apart."""
HEART_TOUCH = 0.6
"""Heart: both index tips, and both thumb tips, closer than this many palm sizes."""


def palm_size(points: np.ndarray) -> float:
    """Wrist to middle-finger knuckle in pixels (at least 1)."""
    return max(1.0, float(np.linalg.norm(points[MIDDLE_MCP, :2] - points[WRIST, :2])))


def finger_states(points: np.ndarray) -> dict[str, str]:
    """``"extended"``, ``"folded"`` or ``"unsure"`` for thumb, index, middle, ring and pinky."""
    xy = points[:, :2].astype(np.float64)
    wrist = xy[WRIST]
    states = {}
    for name, (_mcp, pip, _dip, tip) in FINGERS.items():
        ratio = np.linalg.norm(xy[tip] - wrist) / max(1e-6, float(np.linalg.norm(xy[pip] - wrist)))
        states[name] = "extended" if ratio > EXTENDED_RATIO else "folded" if ratio < 1.0 else "unsure"
    palm = palm_size(points)
    out = np.linalg.norm(xy[THUMB_TIP] - xy[INDEX_MCP]) / palm
    straight = np.linalg.norm(xy[THUMB_TIP] - xy[THUMB_MCP]) > 0.9 * (
        np.linalg.norm(xy[THUMB_IP] - xy[THUMB_MCP]) + np.linalg.norm(xy[THUMB_TIP] - xy[THUMB_IP]))
    clear = min(np.linalg.norm(xy[THUMB_TIP] - xy[j]) for j in ACROSS) / palm
    across = clear < THUMB_CLEAR and not states["index"] == states["middle"] == "extended"
    states["thumb"] = "folded" if out < 0.5 or across else "extended" if out > THUMB_OUT and straight else "unsure"
    return states


def hand_gesture(points: np.ndarray) -> str | None:
    """The one-hand gesture ``points`` (21, 2+) show, or ``None``."""
    s = finger_states(points)
    fingers = [s[name] for name in FINGERS]
    palm = palm_size(points)
    xy = points[:, :2].astype(np.float64)
    if s["middle"] == s["ring"] == s["pinky"] == "extended" and \
            np.linalg.norm(xy[THUMB_TIP] - xy[INDEX_TIP]) < OK_TOUCH * palm:
        return "ok"
    if all(f == "extended" for f in fingers):
        return "open_palm" if s["thumb"] == "extended" else None
    if all(f == "folded" for f in fingers):
        if s["thumb"] == "extended":
            direction = xy[THUMB_TIP] - xy[THUMB_MCP]
            dy = direction[1] / max(1e-6, float(np.linalg.norm(direction)))
            return "thumbs_up" if dy < -THUMB_VERTICAL else "thumbs_down" if dy > THUMB_VERTICAL else None
        return "fist" if s["thumb"] == "folded" else None
    if s["thumb"] == "extended":
        return None
    if fingers == ["extended", "extended", "folded", "folded"]:
        spread = np.linalg.norm(xy[INDEX_TIP] - xy[FINGERS["middle"][3]])
        return "victory" if spread > VICTORY_SPREAD * palm else None
    if fingers == ["extended", "folded", "folded", "folded"]:
        return "pointing"
    return None


def two_hand_gesture(a: np.ndarray, b: np.ndarray, gesture_a: str | None, gesture_b: str | None) -> str | None:
    """The two-hand gesture of hands ``a`` and ``b`` (21, 2+ each, with their one-hand gestures), or ``None``."""
    if gesture_a == gesture_b == "thumbs_up":
        return "both_thumbs_up"
    palm = (palm_size(a) + palm_size(b)) / 2.0
    index_gap = np.linalg.norm(a[INDEX_TIP, :2] - b[INDEX_TIP, :2])
    thumb_gap = np.linalg.norm(a[THUMB_TIP, :2] - b[THUMB_TIP, :2])
    index_y = (a[INDEX_TIP, 1] + b[INDEX_TIP, 1]) / 2.0
    thumb_y = (a[THUMB_TIP, 1] + b[THUMB_TIP, 1]) / 2.0
    apart = abs(float(a[WRIST, 0] - b[WRIST, 0])) > palm  # one hand on each side
    if index_gap < HEART_TOUCH * palm and thumb_gap < HEART_TOUCH * palm and thumb_y - index_y > 0.5 * palm and apart:
        return "heart"
    return None
