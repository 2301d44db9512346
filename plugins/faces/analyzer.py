"""The ``faces`` analyzer: BlazeFace + 468-point face mesh with tracking, ids and smoothing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from edgefx.contract import Analyzer
from edgefx.frame import Frame, FrameContext, View
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.faces.detector import make_detector
from edgefx.plugins.faces.landmarks import FaceLandmarker
from edgefx.plugins.faces.tracker import FaceTracker, FilterParams
from edgefx.results import Face

LEVEL_INTERVALS = {"full": (1, 1), "balanced": (2, 3), "lite": (4, 6)}
"""Per quality level: (multiplier of ``detect_interval`` while tracking, detector interval while searching)."""


class FacesAnalyzer(Analyzer):
    """Faces with 468 landmarks each; result: ``list[Face]`` (empty when there is none).

    Levels trade how often the detector runs (new faces appear later) for time:
    ``full`` searches every frame when no face is tracked, ``balanced`` every 3rd, ``lite`` every 6th.
    """

    name = "faces"
    result_type = list[Face]
    levels: ClassVar[tuple[str, ...]] = tuple(LEVEL_INTERVALS)
    options: ClassVar[dict[str, Option]] = {
        "model": Option("auto", "detector: 'short' (faces within ~2 m), 'full' (up to ~5 m) or 'auto' (short, "
                        "and full when short finds none)", choices=("auto", "short", "full")),
        "max_faces": Option(2, "most faces tracked at once", min=1, max=8),
        "detect_interval": Option(10, "frames between detector runs while tracking (new faces)", min=1, max=10000),
        "min_detection_score": Option(0.5, "detector score threshold", min=0.0, max=1.0),
        "min_presence": Option(0.5, "landmark face-presence below which a track is lost", min=0.0, max=1.0),
        "threads": Option(1, "LiteRT threads per model", min=1, max=8),
        "smoothing": Option(True, "One Euro filter on landmarks"),
        "min_cutoff": Option(0.05, "One Euro cutoff at rest (Hz); lower = steadier", min=0.001, max=100.0),
        "beta": Option(80.0, "One Euro speed coefficient (face sizes/s); higher = less lag", min=0.0, max=10000.0),
        "max_carry": Option(5, "frames a result is extrapolated when the scheduler skips the model", min=0, max=1000),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.tracker: FaceTracker | None = None
        self.carried = 0

    def start(self, stream: StreamInfo | None = None) -> None:
        """Load both models (``stream`` is not needed: regions are in frame pixels)."""
        s = self.settings
        detector = make_detector(s["model"], threads=s["threads"], min_score=s["min_detection_score"])
        params = FilterParams(s["smoothing"], s["min_cutoff"], s["beta"])
        self.tracker = FaceTracker(detector, FaceLandmarker(threads=s["threads"]), s["max_faces"],
                                   min_presence=s["min_presence"], filter_params=params)
        self.set_level(self.level)

    def set_level(self, level: str) -> None:
        super().set_level(level)
        if self.tracker is not None:
            track_mul, search = LEVEL_INTERVALS[level]
            self.tracker.detect_interval = self.settings["detect_interval"] * track_mul
            self.tracker.search_interval = search

    def analyze(self, frame: Frame, ctx: FrameContext) -> list[Face]:
        if self.tracker is None:
            self.start()
        assert self.tracker is not None
        self.carried = 0
        return self.tracker.update(frame.image, frame.time)

    def carry(self, frame: Frame, ctx: FrameContext, last: Any) -> list[Face]:
        """Extrapolate each face at its velocity for up to ``max_carry`` frames, then report none
        (so no effect draws on a face that may have left)."""
        self.carried += 1
        if self.tracker is None or self.carried > self.settings["max_carry"]:
            return []
        return self.tracker.carry(frame.time)

    def reframe(self, result: list[Face], view: View) -> list[Face]:
        """The faces in the reframed picture's pixels (landmarks, box; depth scaled like x)."""
        out = []
        for face in result:
            landmarks = view.points(face.landmarks)
            out.append(Face(face.id, view.points(face.bbox.reshape(2, 2)).ravel(), face.score, landmarks))
        return out

    def export(self, result: list[Face] | None, frame: Frame, out_dir: Path) -> list[dict[str, Any]]:
        """``[{"id", "bbox": [x0, y0, x1, y1], "score", "landmarks": [[x, y, z], ...]}]`` in frame pixels."""
        return [{"id": f.id, "bbox": [round(float(v), 2) for v in f.bbox], "score": round(f.score, 4),
                 "landmarks": f.landmarks.astype(np.float64).round(2).tolist()} for f in result or []]

    def close(self) -> None:
        self.tracker = None


def faces_on_still(image: np.ndarray, frames: int = 3, **options: Any) -> FrameContext:
    """A context holding the faces found on one still ``image``, analysed ``frames`` times so the
    tracked regions settle (for tests, pictures and effects tried on a photo). ``options`` are the
    analyzer's options, e.g. ``smoothing=False``."""
    analyzer = FacesAnalyzer(options)
    analyzer.start()
    frame = Frame(image, 0, Fraction(1, 30), 0)
    ctx = FrameContext(frame)
    for _ in range(frames):
        ctx.results["faces"] = analyzer.analyze(frame, ctx)
    ctx.age["faces"] = 0
    return ctx
