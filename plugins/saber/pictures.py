"""Pictures of the blade on a real stick for docs/saber.md: a white and an orange stick, tracked by
the ``saber`` analyzer and drawn by the ``lightsaber`` effect through the real pipeline."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgefx.plugins.saber.analyzer import SaberAnalyzer
from edgefx.plugins.saber.color import calibrate_color
from edgefx.plugins.saber.effect import SaberEffect
from edgefx.plugins.saber.groundtruth import TruthFrame, render_sequence
from edgefx.testing import run_plugin

FRAMES = 45


def blade_on(colour: str, blade: str = "green") -> tuple[list[TruthFrame], list[np.ndarray]]:
    """A ``colour`` stick swept over the carphone clip (640x360, with a fist), calibrated as
    `saber calibrate` would, and the effect's output with a ``blade`` blade on every frame."""
    still = render_sequence("still", 10, background="carphone", seed=9, gain=(1.0, 1.0), colour=colour)
    stick = list(calibrate_color(f.image for f in still))
    frames = render_sequence("sweep", FRAMES, background="carphone", seed=31, gain=(1.0, 1.0), colour=colour)
    run = run_plugin(SaberAnalyzer({"color": stick}), SaberEffect({"colour": blade, "ignite_s": 0.0}),
                     frames=[f.image for f in frames])
    return frames, run.images


def write_blade_picture(path: Path) -> Path:
    """``path`` (PNG): for a white and an orange stick, the input (top) and the blade (bottom) on the
    last frame, each cropped to 240x300 around the stick."""
    columns = []
    for colour in ("white", "orange"):
        frames, images = blade_on(colour)
        last = frames[-1]
        h, w = last.image.shape[:2]
        cx, cy = np.add(last.base, last.tip) / 2
        x0, y0 = int(np.clip(cx - 120, 0, w - 240)), int(np.clip(cy - 150, 0, h - 300))
        columns.append(np.vstack([last.image[y0:y0 + 300, x0:x0 + 240], images[-1][y0:y0 + 300, x0:x0 + 240]]))
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.hstack(columns))
    return path


if __name__ == "__main__":
    print(write_blade_picture(Path("docs/saber-blade.png")))
