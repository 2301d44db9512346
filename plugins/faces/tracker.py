"""Multi-face tracking as MediaPipe does it: the detector finds faces, then each face's next
region comes from its own landmarks; the detector runs again only when no face is tracked or
every ``detect_interval`` frames (to pick up new faces). Ids stay with their track.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgefx.plugins.faces.detector import AutoDetector, FaceDetector
from edgefx.plugins.faces.landmarks import FaceLandmarker, LandmarkResult, roi_from_detection, roi_from_landmarks
from edgefx.results import Face
from edgefx.vision.landmark_track import LandmarkTrack, landmark_box, without_duplicates
from edgefx.vision.one_euro import FilterParams, OneEuroFilter
from edgefx.vision.rotated_rect import RotatedSquare
from edgefx.vision.ssd import Detection, box_iou

NEW_FACE_IOU = 0.3
"""A detection overlapping a tracked face by more than this IoU is that face, not a new one."""
DUPLICATE_IOU = 0.5
"""Two tracks overlapping by more than this IoU have converged on one face; the younger is dropped."""


@dataclass(slots=True, eq=False)
class Track(LandmarkTrack):
    """One followed face: its id, the region for the next frame and its smoothing state."""

    def update(self, result: LandmarkResult, t: float, smooth: bool) -> None:
        """Take a fresh model result at time ``t``: next region from the raw points, output smoothed."""
        self.follow(result.points, roi_from_landmarks(result.points), result.presence, t, smooth)

    def face(self, landmarks: np.ndarray | None = None) -> Face:
        """This track as a ``Face`` (optionally with other landmarks, e.g. predicted ones)."""
        if landmarks is None:
            return Face(self.id, self.box, self.score, self.landmarks)
        return Face(self.id, landmark_box(landmarks), self.score, landmarks)


class FaceTracker:
    """Detect, then follow up to ``max_faces`` faces with stable ids.

    ``detect_interval``: frames between detector runs while at least one face is tracked;
    ``search_interval``: frames between detector runs while no face is tracked.
    ``detector_runs`` counts detection rounds, ``fallback_runs`` the later stages an ``auto`` detector
    needed, ``landmark_runs`` landmark model calls (for tests and benchmarks).
    """

    def __init__(self, detector: FaceDetector | AutoDetector, landmarker: FaceLandmarker, max_faces: int = 2,
                 detect_interval: int = 10, search_interval: int = 1, min_presence: float = 0.5,
                 filter_params: FilterParams | None = None) -> None:
        self.detector, self.landmarker = detector, landmarker
        self.max_faces, self.min_presence = max_faces, min_presence
        self.detect_interval, self.search_interval = detect_interval, search_interval
        self.filter_params = filter_params or FilterParams()
        self.tracks: list[Track] = []
        self.next_id = 1
        self.since_detection = 1 << 30
        self.detector_runs = self.fallback_runs = self.landmark_runs = 0

    def update(self, image: np.ndarray, t: float) -> list[Face]:
        """Track faces on ``image`` (HxWx3 uint8 BGR) taken at time ``t`` seconds; returns them by id.

        Tracked faces are followed first; when the detector is due, each of its ``stages`` is tried in
        turn while fewer than ``max_faces`` are tracked (``auto``: the full-range model only runs when
        the short-range one left room, so frames between detector runs cost what they did)."""
        self.since_detection += 1
        interval = self.detect_interval if self.tracks else self.search_interval
        kept = [track for track in self.tracks if self._follow(image, track, t, refine=False)]
        if self.since_detection >= interval:
            self.since_detection = 0
            self.detector_runs += 1
            for stage, detector in enumerate(self.detector.stages):
                if len(kept) >= self.max_faces:
                    break
                if stage:
                    self.fallback_runs += 1
                kept += [track for track in self._new_tracks(detector.detect(image), kept)
                         if self._follow(image, track, t, refine=True)]
        self.tracks = without_duplicates(kept, DUPLICATE_IOU)
        return [track.face() for track in self.tracks]

    def carry(self, t: float) -> list[Face]:
        """Faces at time ``t`` without running any model: each track extrapolated at its velocity."""
        return [track.face(track.predict(t)) for track in self.tracks]

    def _landmarks(self, image: np.ndarray, roi: RotatedSquare) -> LandmarkResult | None:
        self.landmark_runs += 1
        result = self.landmarker.run(image, roi)
        return result if result.presence >= self.min_presence else None

    def _follow(self, image: np.ndarray, track: Track, t: float, refine: bool) -> bool:
        """Run the landmarks on ``track``'s region and update it; ``False`` when the face is lost.
        ``refine``: a detector region is only roughly aligned, so refine once from the landmarks."""
        h, w = image.shape[:2]
        result = self._landmarks(image, track.roi)
        if refine and result is not None:
            result = self._landmarks(image, roi_from_landmarks(result.points))
        if result is None or not (0 <= track.roi.cx < w and 0 <= track.roi.cy < h):
            return False
        track.update(result, t, self.filter_params.enabled)
        return True

    def _new_tracks(self, detections: list[Detection], tracks: list[Track]) -> list[Track]:
        """Tracks for the ``detections`` that are not one of ``tracks`` already, up to ``max_faces`` in all."""
        boxes = [track.box for track in tracks]
        new = []
        for det in detections:
            if len(tracks) + len(new) >= self.max_faces:
                break
            if boxes and box_iou(det.box, np.array(boxes)).max() > NEW_FACE_IOU:
                continue
            p = self.filter_params
            new.append(Track(self.next_id, roi_from_detection(det), OneEuroFilter(p.min_cutoff, p.beta, p.d_cutoff)))
            boxes.append(det.box)
            self.next_id += 1
        return new

