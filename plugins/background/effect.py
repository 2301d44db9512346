"""The ``background`` effect: blur, replace (image or looping video), solid colour or desaturate
everything that is not the person, drawn in place on the frame."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.background.backdrop import VideoBackdrop, load_image
from edgefx.results import PersonMask
from edgefx.vision.mask_ops import composite, composite_weighted, weighted_blur

CHROMA_GREEN = (0, 177, 64)
"""BGR of the usual chroma-key green (OBS and other keyers)."""
BLUR_SHRINK = {"full": 2, "fast": 4}
"""The blurred background is computed at the mask's small size divided by this, per level (it is
smooth, so small is enough; a whole-number ratio keeps OpenCV on its fast shrink and grow paths)."""


class Background(Effect):
    """Everything but the person, changed by ``mode``. The person's pixels are kept exactly where
    the mask is fully opaque; the soft edge blends the two."""

    name = "background"
    layer = Layer.BACKGROUND
    requires = ("person",)
    levels: ClassVar[tuple[str, ...]] = ("full", "fast")
    options: ClassVar[dict[str, Option]] = {
        "mode": Option("blur", "what the background becomes",
                       choices=("blur", "image", "video", "colour", "desaturate")),
        "strength": Option(0.03, "blur radius as a fraction of the frame width", min=0.002, max=0.2),
        "path": Option(None, "image or video file for mode image / video", type=(str, type(None)), media=True),
        "fit": Option("cover", "image/video: 'cover' (fill, crop) or 'contain' (fit, bars)",
                      choices=("cover", "contain")),
        "colour": Option([*CHROMA_GREEN], "B, G, R of mode colour (and of contain's bars)", widget="colour"),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.stream: StreamInfo | None = None
        self.backdrop: np.ndarray | None = None
        self.video: VideoBackdrop | None = None
        self.plate: np.ndarray | None = None

    def start(self, stream: StreamInfo) -> None:
        """Load the replacement image or open the video (errors name the path, before any frame)."""
        self.stream = stream
        self._load()

    def option_changed(self, key: str) -> None:
        """A new image or video is loaded at once (a bad path raises ``ConfigError``)."""
        if self.stream is not None and key in ("mode", "path", "fit", "colour"):
            self._load()

    def _load(self) -> None:
        s, stream = self.settings, self.stream
        assert stream is not None
        colour = s["colour"]
        if len(colour) != 3 or not all(isinstance(v, int) and 0 <= v <= 255 for v in colour):
            raise ConfigError(f"background: colour = {colour!r} is not a colour",
                              "write colour = [B, G, R], each 0-255")
        self.close()
        if s["mode"] == "image":
            self.backdrop = load_image(s["path"], stream.width, stream.height, s["fit"], self.colour)
        elif s["mode"] == "video":
            self.video = VideoBackdrop(s["path"], stream.width, stream.height, s["fit"], self.colour)
        elif s["mode"] == "colour":
            self.plate = np.full((stream.height, stream.width, 3), self.colour, np.uint8)

    @property
    def colour(self) -> tuple[int, int, int]:
        b, g, r = self.settings["colour"]
        return b, g, r

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        person: PersonMask | None = ctx.get("person")
        if person is None:
            return
        image = frame.image
        mode = self.settings["mode"]
        if mode == "blur":
            composite_weighted(image, self.blurred(person), person.bands(frame.height, frame.width))
            return
        box, alpha = person.inside(frame.height, frame.width)
        if mode == "desaturate":
            composite(image, alpha, cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR), box=box)
        elif mode == "colour" and self.plate is not None:
            composite(image, alpha, self.plate, box=box)
        elif mode == "image" and self.backdrop is not None:
            composite(image, alpha, self.backdrop, box=box)
        elif mode == "video" and self.video is not None:
            composite(image, alpha, self.video.next(), box=box)

    def blurred(self, person: PersonMask) -> np.ndarray:
        """The blurred background premultiplied by (1 - mask), at the mask's small size.

        Only background pixels are averaged (``weighted_blur``), so the person's colours do not
        halo into it.
        """
        small, mask = person.image, person.small
        h, w = mask.shape
        bw, bh = max(1, w // BLUR_SHRINK[self.level]), max(1, h // BLUR_SHRINK[self.level])
        box = (2 * max(1, round(self.settings["strength"] * bw)) + 1,) * 2
        background = weighted_blur(cv2.resize(small, (bw, bh), interpolation=cv2.INTER_AREA),
                                   cv2.resize(mask, (bw, bh), interpolation=cv2.INTER_AREA), box)
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.multiply(background, cv2.cvtColor(255 - mask, cv2.COLOR_GRAY2BGR), scale=1.0 / 255.0)

    def close(self) -> None:
        self.backdrop = self.plate = None
        if self.video is not None:
            self.video.close()
            self.video = None
