"""The built-in demo input: a real photo (scikit-image's astronaut) gently moving like a
person in front of a webcam, so every effect has a face and a person to work on."""

from __future__ import annotations

import importlib.util
import math
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from edgefx.errors import SourceError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.inputs import query_seconds, split_query
from edgefx.io.source import Item, Source, SourceRequest, frame_size
from edgefx.vision.change import ChangeMeter, thumbnail


def demo_canvas(width: int, height: int) -> np.ndarray:
    """The astronaut photo, fitted to ``height`` and centred over a blurred, stretched copy of itself.

    Returns ``(height, width, 3)`` uint8 BGR.
    """
    photo = astronaut()
    side = min(width, height)
    fg = cv2.resize(photo, (side, side), interpolation=cv2.INTER_AREA)
    # the wide blur at a quarter of the size, then scaled up: the same look, 0.1 s less before the first frame
    small = (max(1, width // 4), max(1, height // 4))
    blurred = cv2.GaussianBlur(cv2.resize(photo, small, interpolation=cv2.INTER_AREA), (0, 0), 25 / 4)
    canvas = cv2.resize(blurred, (width, height), interpolation=cv2.INTER_LINEAR)
    x0, y0 = (width - side) // 2, (height - side) // 2
    canvas[y0:y0 + side, x0:x0 + side] = fg
    return canvas


def astronaut() -> np.ndarray:
    """scikit-image's astronaut photo, BGR, read straight from the package's file: importing
    ``skimage.data`` pulls in SciPy (~0.3 s before the first frame)."""
    spec = importlib.util.find_spec("skimage")
    path = Path(spec.submodule_search_locations[0], "data", "astronaut.png") if spec and spec.origin else None
    photo = cv2.imread(str(path)) if path is not None and path.is_file() else None
    if photo is None:
        raise SourceError("the demo input needs scikit-image (its astronaut photo)", "pip install scikit-image")
    return photo


class DemoSource(Source):
    """``demo:?seconds=10`` (add ``live=1`` to pace it to real time). Frames are a slow
    sway, nod and lean of the demo canvas, like a person moving in front of a camera."""

    name = "demo"
    schemes = ("demo",)

    def __init__(self, request: SourceRequest, seconds: float, live: bool) -> None:
        width, height = frame_size(request.width, request.height, (1280, 720))
        fps = Fraction(request.fps or 30).limit_denominator(1001)
        self.info = StreamInfo(width, height, fps, 1 / fps, live, None, round(seconds * fps), "demo")
        self.canvas = demo_canvas(width, height)
        self._stopped = False

    @classmethod
    def open(cls, url: str, request: SourceRequest) -> Source:
        _, q = split_query(url)
        return cls(request, query_seconds(url, q, "seconds") or 10.0, q.get("live") == "1")

    def pose(self, index: int) -> np.ndarray:
        """The 2x3 affine matrix of frame ``index``: sway, nod and a slow lean."""
        t = index / float(self.info.fps)
        w, h = self.info.width, self.info.height
        angle = 6.0 * math.sin(2 * math.pi * t / 5.0)
        scale = 1.0 + 0.05 * math.sin(2 * math.pi * t / 7.0)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 2] += 0.06 * w * math.sin(2 * math.pi * t / 4.0)
        m[1, 2] += 0.03 * h * math.sin(2 * math.pi * t / 3.0)
        return m

    def __iter__(self) -> Iterator[Item]:
        start, meter = time.monotonic(), ChangeMeter()
        for index in range(self.info.frame_count or 0):
            if self._stopped:
                return
            if self.info.live:
                delay = start + index / float(self.info.fps) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            image = cv2.warpAffine(self.canvas, self.pose(index), (self.info.width, self.info.height),
                                   borderMode=cv2.BORDER_REFLECT)
            # the similarity gate's measure, taken while the new picture is still in cache
            yield Frame(image, index, self.info.time_base, index, meter.update(thumbnail(image)))

    def close(self) -> None:
        self._stopped = True
