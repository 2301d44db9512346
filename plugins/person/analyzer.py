"""The ``person`` analyzer: MediaPipe selfie segmentation through LiteRT, smoothed over time
and refined against the frame's edges."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Analyzer
from edgefx.frame import Frame, FrameContext, View
from edgefx.inference.models import TFLiteModel
from edgefx.io.info import StreamInfo
from edgefx.io.sink import write_image
from edgefx.options import Option
from edgefx.plugins.person.mask import TemporalSmoother
from edgefx.results import PersonMask
from edgefx.vision.guided_filter import guided_filter

MODELS = {"general": "selfie_segmentation", "landscape": "selfie_segmentation_landscape"}
LANDSCAPE_ASPECT = 1.5
"""``model = auto`` takes the landscape model (144x256) for frames at least this wide per unit of
height (16:9 is 1.78), the general one (256x256) otherwise (4:3, square, portrait)."""
GUIDE_SLACK = 1.5
"""The refinement may be up to this much wider than ``guide_width`` to be a whole fraction of the frame."""


class PersonAnalyzer(Analyzer):
    """Where the person is; result: ``PersonMask`` (``None`` before the first frame).

    Levels: ``full`` (model by aspect, guided refinement at ``guide_width``), ``fast`` (landscape
    model, refinement at the model's size), ``lite`` (landscape model, no refinement).
    """

    name = "person"
    result_type = PersonMask | None
    levels: ClassVar[tuple[str, ...]] = ("full", "fast", "lite")
    options: ClassVar[dict[str, Option]] = {
        "model": Option("auto", "segmentation model: 'auto' (by aspect ratio), 'general' (256x256) "
                        "or 'landscape' (144x256)", choices=("auto", "general", "landscape")),
        "threshold": Option(0.5, "person probability at which the mask is half opaque", min=0.05, max=0.95),
        "softness": Option(0.3, "width of the soft edge in probability (0 = hard edge)", min=0.0, max=1.0),
        "smoothing": Option(0.85, "temporal smoothing of still areas (0 = off); moving edges always follow",
                            min=0.0, max=0.98),
        "refine": Option(True, "snap the mask to the frame's edges (guided filter)"),
        "guide_width": Option(256, "least width of the refinement (and of PersonMask.small) at level full: the "
                              "frame shrunk by a whole number (256 = the landscape model's own width)",
                              min=256, max=1280),
        "radius": Option(2, "guided filter radius (pixels at half the refinement size)", min=1, max=16),
        "eps": Option(0.002, "guided filter regulariser (larger = smoother edge)", min=1e-6, max=1.0),
        "threads": Option(1, "LiteRT threads", min=1, max=8),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.models: dict[str, TFLiteModel] = {}
        self.smoother = TemporalSmoother(self.settings["smoothing"])
        self.keep_frame = False
        """Set by ``link_layers`` when effects draw behind the person: every result then keeps a copy
        of its frame as it came in (``PersonMask.original``) for ``person_front``."""

    def start(self, stream: StreamInfo | None = None) -> None:
        """Load both models (the level or the frame's aspect may switch between them)."""
        self.models = {kind: TFLiteModel(name, threads=self.settings["threads"]) for kind, name in MODELS.items()}
        self.smoother.reset()

    def option_changed(self, key: str) -> None:
        self.smoother.strength = self.settings["smoothing"]

    def model_kind(self, width: int, height: int) -> str:
        """``general`` or ``landscape`` for a frame of this size at the current level."""
        if self.level != "full":
            return "landscape"
        if self.settings["model"] != "auto":
            return self.settings["model"]
        return "landscape" if width >= LANDSCAPE_ASPECT * height else "general"

    def probability(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model's raw person probability (float32 at model size) and the model-size BGR image."""
        if not self.models:
            self.start()
        model = self.models[self.model_kind(image.shape[1], image.shape[0])]
        mh, mw = model.input_shape[1:3]
        small = cv2.resize(image, (mw, mh), interpolation=cv2.INTER_LINEAR)
        # RGB in [0, 1] written straight into LiteRT's input tensor (the view is dropped before invoke)
        np.multiply(cv2.cvtColor(small, cv2.COLOR_BGR2RGB), np.float32(1.0 / 255.0), out=model.input_tensor()[0])
        return model.invoke()[0][0, :, :, 0], small

    def analyze(self, frame: Frame, ctx: FrameContext) -> PersonMask:
        refine = self.settings["refine"] and self.level != "lite"
        guide = frame.image
        if refine and self.level == "full":  # the model's input is shrunk from the guide: one pass over the frame
            guide = cv2.resize(frame.image, guide_size(frame.width, frame.height, self.settings["guide_width"]),
                               interpolation=cv2.INTER_LINEAR)
        prob, small = self.probability(guide)
        if refine:
            guide = guide if self.level == "full" else small
            prob = cv2.resize(prob, (guide.shape[1], guide.shape[0]), interpolation=cv2.INTER_LINEAR)
            grey = _grey(guide)
            prob = guided_filter(grey, prob, self.settings["radius"], self.settings["eps"], subsample=2)
        else:
            guide, grey = small, _grey(small)
        original = frame.image.copy() if self.keep_frame else None
        return PersonMask(self._alpha(self.smoother.update(prob, grey)), guide, original)

    def carry(self, frame: Frame, ctx: FrameContext, last: PersonMask | None) -> PersonMask | None:
        """The last mask; with ``keep_frame``, over this frame's pixels (never an older picture)."""
        if last is None or not self.keep_frame:
            return last
        return last.carried(frame.image.copy())

    def _alpha(self, prob: np.ndarray) -> np.ndarray:
        """Probability -> uint8 alpha: a linear ramp ``softness`` wide centred on ``threshold``."""
        t, soft = self.settings["threshold"], self.settings["softness"]
        if soft == 0.0:
            return np.where(prob >= t, 255, 0).astype(np.uint8)
        alpha = prob - (t - soft / 2)
        alpha *= 255.0 / soft
        return np.clip(alpha, 0, 255, out=alpha).astype(np.uint8)

    def reframe(self, result: PersonMask, view: View) -> PersonMask:
        """The mask (and its pictures) cut to the reframed picture (``PersonMask.reframed``)."""
        return result.reframed(view)

    def export(self, result: PersonMask | None, frame: Frame, out_dir: Path) -> dict[str, Any] | None:
        """Writes ``person/<index>.png`` (8-bit, frame size); returns its relative path and coverage."""
        if result is None:
            return None
        name = f"{frame.index}.png"
        write_image(out_dir / self.name / name, result.full(frame.height, frame.width))
        return {"mask": f"{self.name}/{name}", "coverage": round(result.coverage, 4)}

    def close(self) -> None:
        self.models = {}
        self.smoother.reset()


@cache  # called every frame with the same three numbers
def guide_size(width: int, height: int, target: int) -> tuple[int, int]:
    """The refinement size for a ``width`` x ``height`` frame: the frame divided by the largest whole
    number that divides both sides and keeps it ``target`` to 1.5 ``target`` wide (1280x720 ->
    256x144, 1920x1080 -> 320x180, 640x360 -> 320x180): masks then grow back by a whole number,
    which effects blend on their fast path. Without such a number, ``target`` wide."""
    if width <= target:
        return width, height
    for k in range(width // target, 1, -1):
        if width % k == 0 and height % k == 0 and width // k <= GUIDE_SLACK * target:
            return width // k, height // k
    return target, max(1, round(target * height / width))


def _grey(image: np.ndarray) -> np.ndarray:
    """BGR uint8 -> grey float32 in [0, 1]."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    grey *= 1.0 / 255.0
    return grey
