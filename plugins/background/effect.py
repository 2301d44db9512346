"""The ``background`` effect: blur, replace (image or looping video), solid colour or desaturate
everything that is not the person, drawn in place on the frame."""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugin import Effect, Layer
from edgefx.plugins.background.backdrop import VideoBackdrop, load_image
from edgefx.plugins.person.mask import PersonMask

CHROMA_GREEN = (0, 177, 64)
"""BGR of the usual chroma-key green (OBS and other keyers)."""
BLUR_WIDTH = {"full": 160, "fast": 96}
"""Width the blurred background is computed at, per level (it is smooth, so small is enough)."""


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
        "path": Option(None, "image or video file for mode image / video", type=(str, type(None))),
        "fit": Option("cover", "image/video: 'cover' (fill, crop) or 'contain' (fit, bars)",
                      choices=("cover", "contain")),
        "colour": Option([*CHROMA_GREEN], "B, G, R of mode colour (and of contain's bars)"),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.backdrop: np.ndarray | None = None
        self.video: VideoBackdrop | None = None
        self.keep_person = False
        """Set by ``link_layers`` when effects draw behind the person: keep each frame's original
        pixels in ``original`` so ``person_front`` can put the person back on top."""
        self.original: np.ndarray | None = None
        self.original_index = -1
        self.plate: np.ndarray | None = None

    def start(self, stream: StreamInfo) -> None:
        """Load the replacement image or open the video (errors name the path, before any frame)."""
        s, colour = self.settings, self.colour
        if len(s["colour"]) != 3:
            raise ConfigError(f"background: colour = {s['colour']!r} needs three values", "write colour = [B, G, R]")
        if s["mode"] == "image":
            self.backdrop = load_image(s["path"], stream.width, stream.height, s["fit"], colour)
        elif s["mode"] == "video":
            self.video = VideoBackdrop(s["path"], stream.width, stream.height, s["fit"], colour)

    @property
    def colour(self) -> tuple[int, int, int]:
        b, g, r = (int(np.clip(v, 0, 255)) for v in self.settings["colour"])
        return b, g, r

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        person: PersonMask | None = ctx.get("person")
        if person is None:
            return
        image = frame.image
        if self.keep_person:
            if self.original is None or self.original.shape != image.shape:
                self.original = np.empty_like(image)
            np.copyto(self.original, image)
            self.original_index = frame.index
        alpha, box = person.full(frame.height, frame.width), person.box(frame.height, frame.width)
        mode = self.settings["mode"]
        if mode == "blur":
            composite(image, alpha, weighted=self.blurred(person), box=box)
        elif mode == "desaturate":
            composite(image, alpha, cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR), box=box)
        elif mode == "colour":
            if self.plate is None or self.plate.shape != image.shape or tuple(self.plate[0, 0]) != self.colour:
                self.plate = np.empty_like(image)
                self.plate[:] = self.colour
            composite(image, alpha, self.plate, box=box)
        elif mode == "image" and self.backdrop is not None:
            composite(image, alpha, self.backdrop, box=box)
        elif mode == "video" and self.video is not None:
            composite(image, alpha, self.video.next(), box=box)

    def blurred(self, person: PersonMask) -> np.ndarray:
        """The blurred background premultiplied by (1 - mask), at the mask's small size.

        Blurs ``picture * (1 - mask)`` and divides by the blurred ``1 - mask``: only background
        pixels are averaged, so the person's colours do not halo into it.
        """
        small, mask = person.image, person.small
        h, w = mask.shape
        bw = min(BLUR_WIDTH[self.level], w)
        bh = max(1, round(bw * h / w))
        inv = cv2.resize(255 - mask, (bw, bh), interpolation=cv2.INTER_AREA).astype(np.float32)
        picture = cv2.resize(small, (bw, bh), interpolation=cv2.INTER_AREA).astype(np.float32)
        picture = cv2.multiply(picture, cv2.cvtColor(inv, cv2.COLOR_GRAY2BGR))
        box = (2 * max(1, round(self.settings["strength"] * bw)) + 1,) * 2
        picture = cv2.blur(cv2.blur(picture, box), box)  # two box passes: a smooth, tent-shaped blur
        inv = cv2.max(cv2.blur(cv2.blur(inv, box), box), 1e-2)
        background = cv2.divide(picture, cv2.cvtColor(inv, cv2.COLOR_GRAY2BGR), dtype=cv2.CV_8U)
        background = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.multiply(background, cv2.cvtColor(255 - mask, cv2.COLOR_GRAY2BGR), scale=1.0 / 255.0)

    def close(self) -> None:
        if self.video is not None:
            self.video.close()
            self.video = None


def composite(image: np.ndarray, alpha: np.ndarray, background: np.ndarray | None = None, *,
              weighted: np.ndarray | None = None, box: tuple[int, int, int, int] | None = None) -> None:
    """``image = image * alpha + background * (1 - alpha)`` in place (alpha uint8, 255 = person).

    ``weighted`` instead gives ``background * (1 - alpha)`` already multiplied, at any size
    (it is upsampled): the cheap path of the blur. ``box`` (x, y, w, h) bounds where alpha is
    not 0 (``PersonMask.box``): outside it the background is copied, not blended.
    """
    h, w = image.shape[:2]
    if weighted is not None and weighted.shape[:2] != (h, w):
        weighted = cv2.resize(weighted, (w, h), interpolation=cv2.INTER_LINEAR)
    outside = weighted if weighted is not None else background
    assert outside is not None
    x, y, bw, bh = box or (0, 0, w, h)
    if bw and bh:
        roi = image[y:y + bh, x:x + bw]
        alpha3 = cv2.cvtColor(alpha[y:y + bh, x:x + bw], cv2.COLOR_GRAY2BGR)
        if weighted is None:
            part = cv2.multiply(outside[y:y + bh, x:x + bw], 255 - alpha3, scale=1.0 / 255.0)
        else:
            part = weighted[y:y + bh, x:x + bw]
        cv2.multiply(roi, alpha3, dst=roi, scale=1.0 / 255.0)
        cv2.add(roi, part, dst=roi)
    else:
        y = bh = 0
    image[:y] = outside[:y]
    image[y + bh:] = outside[y + bh:]
    image[y:y + bh, :x] = outside[y:y + bh, :x]
    image[y:y + bh, x + bw:] = outside[y:y + bh, x + bw:]
