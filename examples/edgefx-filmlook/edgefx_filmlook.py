"""edgefx-filmlook: a film look as three edgefx effects (colour grade, lens vignette, film grain).

An example of a third-party plugin: installed with pip, found by edgefx through the
``edgefx`` entry point in pyproject.toml. Each effect draws in place on ``frame.image``
((H, W, 3) uint8 BGR) and keeps whatever it can precompute (tables, masks, noise) between frames.
"""

from __future__ import annotations

from typing import ClassVar

import cv2
import edgefx
import numpy as np
from edgefx.bench import Benchmark, BenchSettings

# Per look, BGR offsets added in the shadows and in the highlights, and extra contrast (S-curve).
LOOKS = {
    "teal_orange": ((0.07, 0.03, -0.04), (-0.06, 0.0, 0.06), 0.3),
    "warm": ((-0.02, 0.0, 0.03), (-0.05, 0.01, 0.05), 0.15),
    "cool": ((0.03, 0.0, -0.02), (0.05, 0.01, -0.05), 0.15),
    "faded": ((0.08, 0.08, 0.08), (-0.05, -0.05, -0.05), -0.2),
}


def grade_table(look: str, strength: float) -> np.ndarray:
    """The ``(1, 256, 3)`` uint8 lookup table of ``look`` blended with identity by ``strength`` (0..1)."""
    shadows, highlights, contrast = LOOKS[look]
    x = np.linspace(0.0, 1.0, 256)[:, None]
    curve = x + contrast * (x * x * (3 - 2 * x) - x)  # towards (or, if negative, away from) a smoothstep
    curve = curve + np.array(shadows) * (1 - x) ** 2 + np.array(highlights) * x**2
    graded = x + strength * (curve - x)
    return np.clip(np.rint(graded * 255), 0, 255).astype(np.uint8)[None]


def vignette_mask(width: int, height: int, strength: float, radius: float) -> np.ndarray:
    """``(H, W, 3)`` uint8 gains (255 = unchanged): 1 - strength * (r / radius)^2, r = 0 centre .. 1 corner."""
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    r = np.sqrt(xs * xs + ys * ys) / np.sqrt(2.0)
    gain = 1.0 - strength * np.minimum(r / radius, 1.0) ** 2
    return cv2.merge([np.rint(gain * 255).astype(np.uint8)] * 3)


class FilmGrade(edgefx.Effect):
    """Colour grade through a per-channel lookup table."""

    name = "film_grade"
    layer = edgefx.Layer.FOREGROUND
    options: ClassVar = {
        "look": edgefx.Option("teal_orange", "colour look", choices=tuple(LOOKS)),
        "strength": edgefx.Option(0.8, "how much of the look (0 = none)", min=0.0, max=1.0),
    }

    def apply(self, frame: edgefx.Frame, ctx: edgefx.FrameContext) -> None:
        key = (self.settings["look"], self.settings["strength"])
        if getattr(self, "_key", None) != key:
            self._key, self._table = key, grade_table(*key)
        cv2.LUT(frame.image, self._table, dst=frame.image)


class FilmVignette(edgefx.Effect):
    """Darkens towards the corners like a lens."""

    name = "film_vignette"
    layer = edgefx.Layer.FOREGROUND
    options: ClassVar = {
        "strength": edgefx.Option(0.5, "darkening at the corners (0..1)", min=0.0, max=1.0),
        "radius": edgefx.Option(1.0, "where full darkening is reached (1 = corners)", min=0.3, max=3.0),
    }

    def apply(self, frame: edgefx.Frame, ctx: edgefx.FrameContext) -> None:
        key = (frame.width, frame.height, self.settings["strength"], self.settings["radius"])
        if getattr(self, "_key", None) != key:
            self._key, self._mask = key, vignette_mask(*key)
        cv2.multiply(frame.image, self._mask, dst=frame.image, scale=1 / 255)


class FilmGrain(edgefx.Effect):
    """Moving luminance grain: a random window of a noise plate made once, added per frame."""

    name = "film_grain"
    layer = edgefx.Layer.OVERLAY
    options: ClassVar = {
        "amount": edgefx.Option(8.0, "grain standard deviation in grey levels", min=0.0, max=64.0),
        "size": edgefx.Option(1, "grain size in pixels", min=1, max=8),
        "seed": edgefx.Option(0, "random seed (same seed, same grain)", min=0),
    }
    margin = 64  # the plate is this much larger than the frame, so windows can move

    def apply(self, frame: edgefx.Frame, ctx: edgefx.FrameContext) -> None:
        key = (frame.width, frame.height, self.settings["amount"], self.settings["size"], self.settings["seed"])
        if getattr(self, "_key", None) != key:
            self._key = key
            self._make_plate(*key)
        dy, dx = self._rng.integers(0, self.margin, 2)
        window = slice(dy, dy + frame.height), slice(dx, dx + frame.width)
        cv2.add(frame.image, self._lighter[window], dst=frame.image)
        cv2.subtract(frame.image, self._darker[window], dst=frame.image)

    def _make_plate(self, width: int, height: int, amount: float, size: int, seed: int) -> None:
        """Gaussian noise of std ``amount`` with grains ``size`` px, split into the parts that lighten and darken."""
        self._rng = np.random.default_rng(seed)
        plate_w, plate_h = width + self.margin, height + self.margin
        small = self._rng.standard_normal((-(-plate_h // size), -(-plate_w // size)), dtype=np.float32)
        plate = cv2.resize(small, (plate_w, plate_h), interpolation=cv2.INTER_LINEAR)
        plate *= amount / max(float(plate.std()), 1e-6)
        self._lighter = cv2.merge([np.clip(np.rint(plate), 0, 255).astype(np.uint8)] * 3)
        self._darker = cv2.merge([np.clip(np.rint(-plate), 0, 255).astype(np.uint8)] * 3)


def bench_filmlook(settings: BenchSettings) -> dict:
    """Per-frame cost of each effect through the real loop at the bench size."""
    from edgefx.testing import measure_cost

    size, frames = (settings.width, settings.height), 30 if settings.quick else settings.frames
    return {cls.name: measure_cost(cls, size=size, frames=frames) for cls in (FilmGrade, FilmVignette, FilmGrain)}


@edgefx.hookimpl
def edgefx_effects():
    return [FilmGrade, FilmVignette, FilmGrain]


@edgefx.hookimpl
def edgefx_benchmarks():
    return [Benchmark("filmlook", bench_filmlook, "film_grade, film_vignette, film_grain per-frame cost")]
