"""Multi-hand tracking as MediaPipe's hand graph does it: the palm detector finds hands, then each
hand's next region comes from its own landmarks. The detector runs again only when no hand is
tracked (every ``search_interval`` frames) or every ``detect_interval`` frames while tracking (to
pick up a second hand). The palm model, the costliest step (longer than a Pi's frame budget on its
own), runs on a worker thread: started on one frame, its palms join the tracks ``detect_delay``
frames later (waiting for it then if needed), so the result does not depend on timing and no frame
carries the whole detector. The landmark model runs every ``landmark_interval`` frames; in between
each hand is extrapolated at its velocity. Ids stay with their track.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from edgefx.plugins.hands.detector import PalmDetector
from edgefx.plugins.hands.gestures import hand_gesture
from edgefx.plugins.hands.landmarks import HandLandmarker, HandResult, roi_from_detection, roi_from_landmarks
from edgefx.results import Hand
from edgefx.vision.landmark_track import LandmarkTrack, landmark_box, without_duplicates
from edgefx.vision.one_euro import FilterParams
from edgefx.vision.rotated_rect import RotatedSquare
from edgefx.vision.ssd import Detection, box_iou

SAME_HAND_IOU = 0.5
"""A palm's region overlapping a tracked hand's region by more than this IoU is that hand
(MediaPipe's ``AssociationNormRectCalculator`` threshold)."""
DUPLICATE_IOU = 0.5
"""Two tracks whose landmark boxes overlap by more than this IoU follow one hand; the younger is dropped."""


@dataclass(slots=True, eq=False)
class Track(LandmarkTrack):
    """One followed hand: its id, the region for the next frame and its smoothing state."""

    handedness: str = ""
    gesture: str | None = None

    def update(self, result: HandResult, t: float, smooth: bool) -> None:
        """Take a fresh model result at time ``t``: next region from the raw points, output smoothed."""
        self.follow(result.points, roi_from_landmarks(result.points), result.presence, t, smooth)
        self.handedness = result.handedness
        self.gesture = hand_gesture(self.landmarks)

    def hand(self, landmarks: np.ndarray | None = None) -> Hand:
        """This track as a ``Hand`` (optionally with other landmarks, e.g. predicted ones)."""
        if landmarks is None:
            return Hand(self.id, self.handedness, self.score, self.landmarks, self.box, self.gesture)
        return Hand(self.id, self.handedness, self.score, landmarks, landmark_box(landmarks), self.gesture)


class HandTracker:
    """Detect, then follow up to ``max_hands`` hands with stable ids.

    ``detector_runs`` and ``landmark_runs`` count model calls (for tests and benchmarks).
    """

    def __init__(self, detector: PalmDetector, landmarker: HandLandmarker, max_hands: int = 2,
                 detect_interval: int = 10, search_interval: int = 1, min_presence: float = 0.5,
                 filter_params: FilterParams | None = None, landmark_interval: int = 1,
                 detect_delay: int = 0) -> None:
        self.detector, self.landmarker = detector, landmarker
        self.max_hands, self.min_presence = max_hands, min_presence
        self.detect_interval, self.search_interval = detect_interval, search_interval
        self.landmark_interval, self.detect_delay = landmark_interval, detect_delay
        self.since_landmarks = 0
        self.pending: tuple[Future[list[Detection]], int] | None = None
        """The palm search on the worker and the number of frames until its palms are taken."""
        self._worker: ThreadPoolExecutor | None = None
        self.filter_params = filter_params or FilterParams()
        self.tracks: list[Track] = []
        self.next_id = 1
        self.since_detection = 1 << 30
        self.detector_runs = self.landmark_runs = 0

    def update(self, image: np.ndarray, t: float) -> list[Hand]:
        """Track hands on ``image`` (HxWx3 uint8 BGR) taken at time ``t`` seconds; returns them by id."""
        h, w = image.shape[:2]
        self.since_detection += 1
        new = self._collect()
        interval = self.detect_interval if self.tracks else self.search_interval
        if self.pending is None and self.since_detection >= interval and len(self.tracks) < self.max_hands:
            new += self._detect(image)
        self.since_landmarks += 1
        if self.tracks and not new and self.since_landmarks < self.landmark_interval:
            return self.carry(t)
        self.since_landmarks = 0
        kept = []
        for track in self.tracks + new:
            result = self._landmarks(image, track.roi)
            if result is None or not (0 <= track.roi.cx < w and 0 <= track.roi.cy < h):
                continue
            track.update(result, t, self.filter_params.enabled)
            kept.append(track)
        self.tracks = without_duplicates(kept, DUPLICATE_IOU)
        return [track.hand() for track in self.tracks]

    def close(self) -> None:
        """Stop the worker thread (a search under way is dropped)."""
        if self._worker is not None:
            self._worker.shutdown(wait=True)
            self._worker = None
        self.pending = None

    def carry(self, t: float) -> list[Hand]:
        """Hands at time ``t`` without running any model: each track extrapolated at its velocity."""
        return [track.hand(track.predict(t)) for track in self.tracks]

    def _landmarks(self, image: np.ndarray, roi: RotatedSquare) -> HandResult | None:
        self.landmark_runs += 1
        result = self.landmarker.run(image, roi)
        return result if result.presence >= self.min_presence else None

    def _detect(self, image: np.ndarray) -> list[Track]:
        """Start a palm search; with ``detect_delay`` 0 its new tracks now, else later (``_collect``)."""
        self.since_detection = 0
        self.detector_runs += 1
        placement = self.detector.prepare(image)
        if self.detect_delay == 0:
            return self._new_tracks(self.detector.infer(placement))
        if self._worker is None:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="edgefx-palms")
        self.pending = (self._worker.submit(self.detector.infer, placement), self.detect_delay)
        return []

    def _collect(self) -> list[Track]:
        """New tracks of the search under way once its delay is over (waits for it then)."""
        if self.pending is None:
            return []
        future, frames_left = self.pending
        if frames_left > 1:
            self.pending = (future, frames_left - 1)
            return []
        self.pending = None
        return self._new_tracks(future.result())

    def _new_tracks(self, detections: list[Detection]) -> list[Track]:
        regions = [_square_box(track.roi) for track in self.tracks]
        new = []
        for det in detections:
            if len(self.tracks) + len(new) >= self.max_hands:
                break
            roi = roi_from_detection(det)
            box = _square_box(roi)
            if regions and box_iou(box, np.array(regions)).max() > SAME_HAND_IOU:
                continue
            new.append(Track(self.next_id, roi, self.filter_params.new_filter()))
            regions.append(box)
            self.next_id += 1
        return new



def _square_box(roi: RotatedSquare) -> np.ndarray:
    """The axis-aligned box (4,) of a region's square as if unturned (what regions are compared by)."""
    half = roi.size / 2.0
    return np.array([roi.cx - half, roi.cy - half, roi.cx + half, roi.cy + half], np.float32)
