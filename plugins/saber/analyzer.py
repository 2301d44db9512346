"""The ``saber`` analyzer: finds and tracks a light stick (rolled paper) from hilt to tip."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Analyzer
from edgefx.frame import Frame, FrameContext, View
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.saber.color import DEFAULT_LAB, StickColor
from edgefx.plugins.saber.detect import find_candidates, measure_along, skin_beyond
from edgefx.plugins.saber.motion import MotionHistory, moved
from edgefx.plugins.saber.net import StickNet
from edgefx.plugins.saber.tracker import SaberTracker, Segment, TrackParams
from edgefx.results import Saber

WORK_WIDTH = 320
"""Width of the working image (the frame is downscaled to it). One level only: most of the cost is
shrinking the full frame, which a smaller working image does not save (224 px measured 2.1-2.8 ms
against 2.2-2.5 ms at 1280x720) while the stick, a few pixels wide there, was lost far more often;
under a tight budget the scheduler skips frames instead (``carry`` predicts)."""


def shrink(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """``image`` scaled down to ``width`` x ``height``. Exact halvings with bilinear interpolation
    average 2x2 blocks like area averaging at a fifth of its cost; a last bilinear step does the rest."""
    while image.shape[1] >= 2 * width and image.shape[0] >= 2 * height:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_LINEAR)
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR)


CHANGE = 14
"""Least change (L + 2a + 2b, 8-bit Lab) against the scene a few frames ago that counts as motion."""


NET_THRESHOLD = 0.5
"""Heatmap probability over which the stick net's mask marks the stick."""


SWING = 0.01
"""Endpoint speed (fraction of the diagonal per frame) at which a tracked stick counts as moving
whatever the change mask says (the smoothed ends lag a fast swing, so the samples miss the stick)."""


class SaberAnalyzer(Analyzer):
    """The stick's base (hilt) and tip; result: ``Saber`` or ``None``.

    Per frame: downscale, a mask of the stick (``detector``: the Lab colour mask of the calibrated stick
    colour, opened, or the learned stick net's heatmap thresholded, ``net.py``), contours, long thin
    well-filled blobs; the one that continues the track (Kalman-predicted endpoints) wins. A new track
    needs ``confirm_frames`` consistent detections of a candidate that moved against the background
    (``motion.py``: the camera's own motion taken out), so scene structure never starts one; a track
    whose stick stops moving for ``max_still`` frames is dropped, and a lost stick is reported
    (predicted) for ``report_missing`` frames only. The hilt of a new track is the end next to a
    skin-coloured hand, else the one lower in the frame (after a short loss: the end nearer the
    previous hilt).
    """

    name = "saber"
    result_type = Saber | None
    expected_ms: ClassVar[float | None] = 3.0
    options: ClassVar[dict[str, Option]] = {
        "detector": Option("colour", "how the stick is found: `colour` (a mask of the calibrated `color`) or `net` "
                           "(the learned stick net shipped as plugins/saber/stick_net.tflite; `color` unused)",
                           choices=("colour", "net")),
        "color": Option(list(DEFAULT_LAB), "stick colour [L, a, b] (OpenCV 8-bit Lab); `edgefx saber calibrate` "
                        "measures it"),
        "ab_tolerance": Option(7, "how far the stick's a and b (colour) may stray from `color`", min=1, max=60),
        "l_tolerance": Option(0.25, "fraction of its brightness the stick may lose (shadow, exposure)",
                              min=0.0, max=0.95),
        "min_length": Option(0.12, "shortest stick, as a fraction of the frame diagonal", min=0.01, max=1.0),
        "max_width": Option(0.08, "widest stick, as a fraction of the frame height", min=0.005, max=0.5),
        "min_fill": Option(0.6, "how much of its bounding rectangle a new stick's blob must fill", min=0.1, max=1.0),
        "max_missing": Option(10, "frames the blade is predicted through an occlusion before it is dropped",
                              min=0, max=300),
        "confirm_frames": Option(3, "consistent detections needed before a new stick is reported", min=1, max=30),
        "report_missing": Option(2, "frames a lost stick is still reported where it is predicted (it is searched "
                                 "for near the prediction for `max_missing` frames)", min=0, max=300),
        "max_still": Option(8, "frames a tracked stick may stop moving against the background before the track "
                            "is dropped", min=1, max=300),
        "gate": Option(0.12, "farthest an endpoint may jump from its prediction (fraction of the diagonal)",
                       min=0.01, max=1.0),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        s = self.settings
        self.color = StickColor.from_option(s["color"], s["ab_tolerance"], s["l_tolerance"])
        self.kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
        self.net = StickNet(threads=1) if s["detector"] == "net" else None
        self.tracker: SaberTracker | None = None
        self.size: tuple[int, int] | None = None
        self.lightness: float | None = None
        self.history = MotionHistory()
        self.still = 0
        """Consecutive measured frames on which the tracked stick did not move against the background."""
        self.stick_width = 3.0
        """Half the stick's width in work pixels (followed while tracking): the band kept around its axis."""

    def start(self, stream: StreamInfo | None = None) -> None:
        """Build OpenCV's Lab tables now (about 0.2 s once per process) rather than on the first frame;
        the tracker is sized on the first frame."""
        cv2.cvtColor(np.zeros((1, 1, 3), np.uint8), cv2.COLOR_BGR2Lab)
        self.tracker, self.size, self.lightness = None, None, None
        self.history, self.still = MotionHistory(), 0

    def _tracker_for(self, width: int, height: int) -> SaberTracker:
        if self.tracker is None or self.size != (width, height):
            s = self.settings
            params = TrackParams(gate=s["gate"], max_missing=s["max_missing"], confirm=s["confirm_frames"])
            self.tracker = SaberTracker(params, float(np.hypot(width, height)))
            self.size = (width, height)
        return self.tracker

    def analyze(self, frame: Frame, ctx: FrameContext) -> Saber | None:
        h, w = frame.image.shape[:2]
        tracker = self._tracker_for(w, h)
        work_w = min(w, WORK_WIDTH)
        work_h = max(1, round(h * work_w / w))
        small = shrink(frame.image, work_w, work_h)
        lab = cv2.cvtColor(small, cv2.COLOR_BGR2Lab)
        self.history.push(lab)
        change = self.history.change(CHANGE)
        if self.net is None:
            mask = cv2.morphologyEx(self.color.mask(lab, self.lightness), cv2.MORPH_OPEN, self.kernel)
        else:
            mask = self.net.mask(small, NET_THRESHOLD)
        s = self.settings
        found = find_candidates(self.thin(mask), s["min_length"] * float(np.hypot(work_w, work_h)),
                                min_fill=s["min_fill"], max_width=s["max_width"] * work_h)
        if tracker.filter is None:  # only a held stick starts a track: one that moved, not scene structure
            found = [c for c in found if moved(change, c.p0, c.p1) >= 0.5]
        to_frame = w / work_w
        predicted = tracker.predict()
        if predicted is not None and tracker.filter is not None:
            band = 3.0 * self.stick_width + 0.7 * tracker.filter.speed / to_frame
            guided = measure_along(mask, predicted[0] / to_frame, predicted[1] / to_frame, band, self.stick_width)
            found = ([guided] if guided is not None and guided.fill >= 0.35 else []) + found
        if self.net is not None:  # the net marks the rod's round ends too: its axis ends half a width inside
            found = [c.shortened(0.5 * c.width) for c in found]
        segments = [Segment(c.p0 * to_frame, c.p1 * to_frame, c.fill) for c in found]

        def orient(seg: Segment) -> tuple[np.ndarray, np.ndarray]:
            """Hilt: the end with a hand beyond it, else the lower end."""
            p0, p1 = seg.p0 / to_frame, seg.p1 / to_frame
            width = max(1.0, min(c.width for c in found))
            skin0, skin1 = skin_beyond(lab, p0, p1, width), skin_beyond(lab, p1, p0, width)
            if abs(skin0 - skin1) > 0.2:
                return (seg.p0, seg.p1) if skin0 > skin1 else (seg.p1, seg.p0)
            return (seg.p0, seg.p1) if seg.p0[1] >= seg.p1[1] else (seg.p1, seg.p0)

        saber = tracker.update(segments, orient)
        if saber is None or (saber.predicted and tracker.missed > s["report_missing"]):
            return None
        if saber.predicted:
            return replace(saber, width=round(2 * self.stick_width * to_frame, 2))
        base, tip = np.array(saber.base) / to_frame, np.array(saber.tip) / to_frame
        swinging = tracker.filter is not None and tracker.filter.speed > SWING * tracker.diagonal
        self.still = 0 if swinging or moved(change, base, tip) >= 0.25 else self.still + 1
        if self.still > s["max_still"]:  # stopped behaving like a held stick
            tracker.drop()
            self.still = 0
            return None
        if found:
            self.stick_width = float(np.clip(0.8 * self.stick_width + 0.2 * 0.5 * found[0].width, 1.5, 12.0))
            if self.net is None:
                self._follow_lightness(lab, base, tip)
        return replace(saber, width=round(2 * self.stick_width * to_frame, 2))

    def thin(self, mask: np.ndarray) -> np.ndarray:
        """The thin structures of an (H, W) uint8 colour mask: minus its opening by a square wider than
        the stick (walls, windows, shirts), so a new stick is not taken for part of a bright wall."""
        side = 2 * round(2 * self.stick_width) + 3
        wide = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (side, side)))
        return cv2.subtract(mask, wide)

    def _follow_lightness(self, lab: np.ndarray, base: np.ndarray, tip: np.ndarray) -> None:
        """Move the L reference towards the median L along the tracked stick's axis (bounded around
        the calibrated L), so a slow lighting change does not lose the stick."""
        t = np.linspace(0.3, 0.9, 12)[:, None]
        points = np.rint(base + t * (tip - base)).astype(int)
        h, w = lab.shape[:2]
        inside = (points[:, 0] >= 0) & (points[:, 0] < w) & (points[:, 1] >= 0) & (points[:, 1] < h)
        if inside.sum() < 4:
            return
        measured = float(np.median(lab[points[inside, 1], points[inside, 0], 0]))
        calibrated = self.color.lab[0]
        current = self.lightness or calibrated
        self.lightness = float(np.clip(0.8 * current + 0.2 * measured, 0.5 * calibrated, min(255, 1.3 * calibrated)))

    def carry(self, frame: Frame, ctx: FrameContext, last: Any) -> Saber | None:
        """Kalman prediction one frame ahead. Not a miss: the track is never dropped while carried."""
        return None if self.tracker is None else self.tracker.carry()

    def reframe(self, result: Saber, view: View) -> Saber:
        """The stick in the reframed picture's pixels."""
        (bx, by), (tx, ty) = view.points(np.array([result.base, result.tip], np.float64)).tolist()
        return Saber((bx, by), (tx, ty), result.confidence, result.predicted)

    def export(self, result: Saber | None, frame: Frame, out_dir: Path) -> dict[str, Any] | None:
        if result is None:
            return None
        return {"base": list(result.base), "tip": list(result.tip), "confidence": result.confidence}
