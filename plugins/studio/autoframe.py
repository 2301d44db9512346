"""The ``autoframe`` effect: a virtual camera that crops and zooms onto the faces, like Center Stage.

Where the crop sits: it is the first effect (``Layer.CAMERA``). The analyzers see the whole frame
(a face walking in at the edge is still found, the detector keeps its full field of view), then this
effect crops and scales the picture back to its own size, and ``FrameContext.reframe`` maps every
analyzer result onto the framed picture, so later effects (masks, touch-up, background) draw on it
at full output resolution with coordinates that match, and ``on_frame`` consumers see the same.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Analyzer, Effect, Layer
from edgefx.frame import Frame, FrameContext, View
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.studio.framing import Framer, FramingRule, framing_target

log = logging.getLogger(__name__)

CHANGE_STEP = 8
"""Sampling step (pixels) of the picture change measured here when the source does not measure it."""
RESAMPLING = {"full": cv2.INTER_LINEAR, "fast": cv2.INTER_NEAREST}
"""Per quality level: how the crop is scaled up (nearest costs about half and looks blockier)."""
CUT_WINDOW = 0.5
"""Seconds after a scene cut during which the framing jumps instead of gliding (the faces of the new
scene are found a frame or two after the cut)."""


class AutoFrame(Effect):
    """Crop and zoom that follows every face in view, with a fixed output size."""

    name = "autoframe"
    layer = Layer.CAMERA
    requires = ("faces",)
    levels: ClassVar[tuple[str, ...]] = tuple(RESAMPLING)
    options: ClassVar[dict[str, Option]] = {
        "max_zoom": Option(2.0, "largest zoom (1 = never crop)", min=1.0, max=8.0),
        "face_share": Option(0.3, "one face's height as a share of the picture height", min=0.05, max=0.9),
        "headroom": Option(0.2, "space above the topmost face, share of the picture height", min=0.0, max=0.6),
        "margin": Option(0.6, "room beside the outermost faces, in face heights", min=0.0, max=5.0),
        "settle": Option(1.0, "seconds the camera takes to reach a new framing (critically damped)",
                         min=0.05, max=30.0),
        "dead_zone": Option(0.08, "drift of the wanted framing (share of the picture) ignored before moving",
                            min=0.0, max=0.5),
        "lost_after": Option(1.5, "seconds without a face before zooming back out to the whole frame",
                             min=0.0, max=600.0),
        "cut_threshold": Option(40.0, "picture change (mean absolute difference, 0-255) taken as a scene cut",
                                min=1.0, max=255.0),
        "confirm": Option(0.3, "seconds a new face must stay before it is framed (a false detection is not)",
                          min=0.0, max=10.0),
        "max_age": Option(5, "ignore face results older than this many frames", min=0, max=1000),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.analyzers: dict[str, Analyzer] = {}
        self.framer = Framer()
        self.rule: FramingRule | None = None
        self.buffer: np.ndarray | None = None
        self.last_time: float | None = None
        self.last_face_time = -1e9
        self.sample: np.ndarray | None = None
        self.view: View | None = None
        self.cuts = 0
        self.snap_until = -1e9
        self.first_seen: dict[int, float] = {}
        self._warned = False

    def attach(self, analyzers: dict[str, Analyzer]) -> None:
        """The run's analyzers, whose results are mapped onto the framed picture (called at startup)."""
        self.analyzers = analyzers

    def start(self, stream: StreamInfo | None = None) -> None:
        s = self.settings
        self.framer = Framer(s["settle"], s["dead_zone"])
        self.rule = None
        self.last_time = self.sample = None

    def option_changed(self, key: str) -> None:
        """New framing options apply at once; the camera keeps its place and motion."""
        moving = Framer(self.settings["settle"], self.settings["dead_zone"])
        self.framer.omega, self.framer.dead_zone = moving.omega, moving.dead_zone
        self.rule = None

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        h, w = frame.image.shape[:2]
        s = self.settings
        if self.rule is None or self.buffer is None or self.buffer.shape != frame.image.shape:
            self.rule = FramingRule(w / h, s["face_share"], s["headroom"], s["margin"], s["max_zoom"])
            self.buffer = np.empty_like(frame.image)
        faces = ctx.get("faces") or []
        if ctx.age.get("faces", 0) > s["max_age"]:
            faces = []
        if self._scene_cut(frame):  # the old scene's framing means nothing now
            self.cuts += 1
            self.snap_until, self.last_face_time = frame.time + CUT_WINDOW, -1e9
        self.first_seen = {f.id: self.first_seen.get(f.id, frame.time) for f in faces}
        faces = [f for f in faces if frame.time - self.first_seen[f.id] >= s["confirm"] - 1e-6]
        if faces:
            self.last_face_time = frame.time
        boxes = np.array([f.bbox for f in faces], np.float64).reshape(-1, 4)
        if faces or frame.time - self.last_face_time > s["lost_after"]:
            wanted = framing_target(boxes, w, h, self.rule)
        else:  # a face briefly lost: hold the framing
            wanted = self.framer.target if self.framer.crop is not None else framing_target(boxes, w, h, self.rule)
        dt = 0.0 if self.last_time is None else max(0.0, frame.time - self.last_time)
        self.last_time = frame.time
        if frame.time <= self.snap_until:
            self.framer.reset(wanted)
            crop = wanted
        else:
            crop = self.framer.step(wanted, dt)
        self.view = self._render(frame, crop)
        if self.view is not None:
            if not self.analyzers and not self._warned:
                self._warned = True
                log.warning("autoframe: no analyzers attached; results stay in source pixels (call attach)")
            ctx.reframe(self.view, self.analyzers)

    def _scene_cut(self, frame: Frame) -> bool:
        """Whether the picture changed like at a cut (the source's measure, else a sparse sample's)."""
        change = frame.change
        if change is None:
            sample = frame.image[::CHANGE_STEP, ::CHANGE_STEP, 1]
            change = float("inf") if self.sample is None else float(cv2.absdiff(sample, self.sample).mean())
            self.sample = sample.copy()
        return change > self.settings["cut_threshold"] and np.isfinite(change)

    def _render(self, frame: Frame, crop: np.ndarray) -> View | None:
        """Scale the crop (rounded to whole pixels, the aspect kept) to the frame's size in place (one
        full-frame pass, the resize, and a copy of the crop alone);
        ``None`` when the crop is the whole frame (nothing to do)."""
        h, w = frame.image.shape[:2]
        ch = min(h, max(2, round(crop[2])))
        cw = min(w, max(2, round(ch * w / h)))
        x0 = min(max(0, round(crop[0] - cw / 2)), w - cw)
        y0 = min(max(0, round(crop[1] - ch / 2)), h - ch)
        if cw == w and ch == h:
            return None
        assert self.buffer is not None
        crop_copy = self.buffer[:ch, :cw]  # copy the crop aside (a zoom's share of the frame), then scale
        np.copyto(crop_copy, frame.image[y0:y0 + ch, x0:x0 + cw])  # it back over the frame: no full-frame copy
        cv2.resize(crop_copy, (w, h), dst=frame.image, interpolation=RESAMPLING[self.level])
        return View(float(x0), float(y0), float(cw), float(ch), (w, h), (w, h))
