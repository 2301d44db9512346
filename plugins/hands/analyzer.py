"""The ``hands`` analyzer: palm detection + 21 hand landmarks with tracking, ids, smoothing and gestures."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edgefx.contract import Analyzer
from edgefx.events import EventBus, Holds
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.hands.detector import PalmDetector
from edgefx.plugins.hands.gestures import two_hand_gesture
from edgefx.plugins.hands.landmarks import HandLandmarker
from edgefx.plugins.hands.tracker import HandTracker
from edgefx.results import Hand
from edgefx.vision.one_euro import FilterParams

LEVEL_INTERVALS = {"full": (1, 1, 1), "balanced": (2, 1.5, 2), "lite": (4, 2, 3)}
"""Per quality level: multipliers of ``detect_interval`` (while tracking), ``search_interval``
(while no hand is in view) and ``landmark_interval``."""


class HandsAnalyzer(Analyzer):
    """Hands with 21 landmarks, handedness and gesture each; result: ``list[Hand]`` (empty when none).

    The palm detector is the expensive part (about 8x the face-landmark model) and runs only every
    ``search_interval`` frames while no hand is in view, so a hand is found within about a second;
    the landmark model (about 3x) runs every ``landmark_interval`` frames, hands are extrapolated in
    between. Levels stretch all three intervals.
    Publishes ``Event("gesture", t, "hands", {"gesture", "who", "since", "held_s"})`` on every
    analyzed frame a gesture is shown (``who``: the hand id, or both ids for two-hand gestures);
    ``[[triggers]]`` with ``gesture = "..."`` turn them into effect actions.
    """

    name = "hands"
    result_type = list[Hand]
    levels: ClassVar[tuple[str, ...]] = tuple(LEVEL_INTERVALS)
    options: ClassVar[dict[str, Option]] = {
        "model": Option("lite", "models: 'lite' (faster) or 'full' (palm detector and landmarks)",
                        choices=("lite", "full")),
        "max_hands": Option(2, "most hands tracked at once", min=1, max=4),
        "detect_interval": Option(60, "frames between detector runs while tracking (a second hand)", min=1, max=10000),
        "search_interval": Option(40, "frames between detector runs while no hand is in view", min=1, max=10000),
        "landmark_interval": Option(2, "frames between landmark runs while tracking (extrapolated between)",
                                    min=1, max=100),
        "detect_delay": Option(2, "frames after which a palm search on the worker thread joins the tracks "
                                  "(0: on its own frame, no thread)", min=0, max=30),
        "min_detection_score": Option(0.5, "palm detector score threshold", min=0.0, max=1.0),
        "min_presence": Option(0.5, "hand presence below which a track is lost", min=0.0, max=1.0),
        "threads": Option(1, "LiteRT threads per model", min=1, max=8),
        "smoothing": Option(True, "One Euro filter on landmarks"),
        "min_cutoff": Option(0.05, "One Euro cutoff at rest (Hz); lower = steadier", min=0.001, max=100.0),
        "beta": Option(80.0, "One Euro speed coefficient (hand sizes/s); higher = less lag", min=0.0, max=10000.0),
        "max_carry": Option(5, "frames a result is extrapolated when the scheduler skips the model", min=0, max=1000),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.tracker: HandTracker | None = None
        self.carried = 0
        self.bus: EventBus | None = None
        self.holds = Holds("gesture", "gesture", self.name)

    def start(self, stream: StreamInfo | None = None) -> None:
        """Load both models (``stream`` is not needed: regions are in frame pixels)."""
        s = self.settings
        detector = PalmDetector(s["model"], threads=s["threads"], min_score=s["min_detection_score"])
        params = FilterParams(s["smoothing"], s["min_cutoff"], s["beta"])
        self.tracker = HandTracker(detector, HandLandmarker(s["model"], threads=s["threads"]), s["max_hands"],
                                   min_presence=s["min_presence"], filter_params=params,
                                   detect_delay=s["detect_delay"])
        self.set_level(self.level)

    def set_level(self, level: str) -> None:
        super().set_level(level)
        if self.tracker is not None:
            track_mul, search_mul, landmark_mul = LEVEL_INTERVALS[level]
            self.tracker.detect_interval = self.settings["detect_interval"] * track_mul
            self.tracker.search_interval = round(self.settings["search_interval"] * search_mul)
            self.tracker.landmark_interval = self.settings["landmark_interval"] * landmark_mul

    def analyze(self, frame: Frame, ctx: FrameContext) -> list[Hand]:
        if self.tracker is None:
            self.start()
        assert self.tracker is not None
        self.carried = 0
        hands = with_two_hand_gestures(self.tracker.update(frame.image, frame.time))
        self.holds.update(shown_gestures(hands), frame.time, self.bus)
        return hands

    def carry(self, frame: Frame, ctx: FrameContext, last: Any) -> list[Hand]:
        """Extrapolate each hand at its velocity for up to ``max_carry`` frames, then report none
        (so no effect draws on a hand that may have left). Gestures keep their hold."""
        self.carried += 1
        if self.tracker is None or self.carried > self.settings["max_carry"]:
            return []
        return with_two_hand_gestures(self.tracker.carry(frame.time))

    def export(self, result: list[Hand] | None, frame: Frame, out_dir: Path) -> list[dict[str, Any]]:
        """``[{"id", "handedness", "score", "landmarks": [[x, y, z], ...], "gesture"}]`` in frame pixels."""
        return [{"id": h.id, "handedness": h.handedness, "score": round(h.score, 4),
                 "landmarks": h.landmarks.astype(np.float64).round(2).tolist(), "gesture": h.gesture}
                for h in result or []]

    def close(self) -> None:
        if self.tracker is not None:
            self.tracker.close()
        self.tracker = None


def with_two_hand_gestures(hands: list[Hand]) -> list[Hand]:
    """``hands`` with a two-hand gesture (heart, both thumbs up) replacing the one-hand gestures of
    the two hands that make it."""
    if len(hands) >= 2:
        a, b = hands[0], hands[1]
        both = two_hand_gesture(a.landmarks, b.landmarks, a.gesture, b.gesture)
        if both is not None:
            a.gesture = b.gesture = both
    return hands


def shown_gestures(hands: list[Hand]) -> list[tuple[str, Any]]:
    """(gesture, who) pairs for ``Holds``: a two-hand gesture once for both ids, others per hand."""
    shown: dict[str, list[int]] = {}
    out = []
    for hand in hands:
        if hand.gesture in ("heart", "both_thumbs_up"):
            shown.setdefault(hand.gesture, []).append(hand.id)
        elif hand.gesture is not None:
            out.append((hand.gesture, hand.id))
    return out + [(name, tuple(ids)) for name, ids in shown.items()]
