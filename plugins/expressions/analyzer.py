"""The ``expressions`` analyzer: facial expressions from the ``faces`` landmarks, calibrated per face."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from edgefx.contract import Analyzer
from edgefx.events import EventBus, Holds
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.expressions.eyelids import EyelidReader
from edgefx.plugins.expressions.measures import Measures, measure
from edgefx.plugins.expressions.rules import (
    HEAD_WINDOW_S,
    Baseline,
    face_expressions,
    head_motion,
)

LID_SAMPLE_EVERY = 8
"""With ``winks``, while calibrating, the iris model measures the eyes on every 8th frame (the first
included)."""


@dataclass(slots=True)
class Expressions:
    """What one face (``face_id``, the ``faces`` track id) shows on one frame.

    ``active``: names from ``rules.EXPRESSIONS``; ``calibrating``: the face's neutral is still being
    learnt (nothing is reported then); ``measures``: the raw measures.
    """

    face_id: int
    active: list[str]
    calibrating: bool
    measures: Measures


@dataclass(slots=True)
class FaceState:
    """Per face: when it was first seen, the calibration samples (mesh measures and the iris model's
    eye openings), its baseline, recent head pose."""

    first_seen: float
    samples: list[Measures] = field(default_factory=list)
    lids: list[tuple[float, float]] = field(default_factory=list)
    last_lids: tuple[float, float] | None = None
    frames: int = 0
    baseline: Baseline | None = None
    head: deque[tuple[float, float, float]] = field(default_factory=deque)


class ExpressionsAnalyzer(Analyzer):
    """Mouth open, smile, eyebrows raised, wink (left/right), blink, nod and shake per face.

    Each face's neutral is learnt over its first ``calibration_s`` seconds (nothing is reported
    meanwhile). Winks need ``winks = true``: MediaPipe's iris model then measures each eye on its
    own every ``wink_interval`` frames (``eyelids.py``; two invokes, each about the face-landmark
    model's cost), since the face mesh moves both eyes' lids together. Publishes ``Event("expression", t,
    "expressions", {"expression", "who", "since", "held_s"})`` on every analyzed frame an expression
    is shown (``who``: the face id).
    """

    name = "expressions"
    result_type = list[Expressions]
    requires: ClassVar[tuple[str, ...]] = ("faces",)
    options: ClassVar[dict[str, Option]] = {
        "calibration_s": Option(2.0, "seconds of each new face used to learn its neutral", min=0.0, max=60.0),
        "winks": Option(False, "detect wink_left / wink_right with MediaPipe's iris model (about 2x the "
                        "face-landmark model's cost on the frames it runs)"),
        "wink_interval": Option(2, "with winks: run the iris model every N frames per face", min=1, max=30),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.faces: dict[int, FaceState] = {}
        self.bus: EventBus | None = None
        self.holds = Holds("expression", "expression", self.name)
        self.eyelids: EyelidReader | None = None

    def start(self, stream: StreamInfo | None = None) -> None:
        self.faces = {}
        self.eyelids = EyelidReader() if self.settings["winks"] else None

    def analyze(self, frame: Frame, ctx: FrameContext) -> list[Expressions]:
        t = frame.time
        out = []
        seen = set()
        for face in ctx.get("faces", []):
            seen.add(face.id)
            state = self.faces.setdefault(face.id, FaceState(t))
            m = measure(face.landmarks)
            state.head.append((t, m.yaw, m.pitch))
            while state.head and state.head[0][0] < t - HEAD_WINDOW_S:
                state.head.popleft()
            state.frames += 1
            if state.baseline is None:
                if self.eyelids is not None and len(state.samples) % LID_SAMPLE_EVERY == 0:
                    state.lids.append(self.eyelids.openings(frame.image, face.landmarks))
                state.samples.append(m)
                if t - state.first_seen < self.settings["calibration_s"]:
                    out.append(Expressions(face.id, [], True, m))
                    continue
                state.baseline = Baseline.from_samples(state.samples, state.lids)
                state.samples, state.lids = [], []
            if self.eyelids is not None and state.frames % self.settings["wink_interval"] == 0:
                state.last_lids = self.eyelids.openings(frame.image, face.landmarks)
            active = face_expressions(m, state.baseline, state.last_lids)
            motion = head_motion(state.head)
            if motion is not None:
                active.append(motion)
            out.append(Expressions(face.id, active, False, m))
        self.faces = {fid: s for fid, s in self.faces.items() if fid in seen}
        self.holds.update([(name, e.face_id) for e in out for name in e.active], t, self.bus)
        return out

    def export(self, result: list[Expressions] | None, frame: Frame, out_dir: Path) -> list[dict[str, Any]]:
        """``[{"id": face id, "expressions": [...], "calibrating": bool}]``."""
        return [{"id": e.face_id, "expressions": e.active, "calibrating": e.calibrating} for e in result or []]
