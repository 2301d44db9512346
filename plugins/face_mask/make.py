"""``edgefx masks make``: find the landmarks of a reference face photo with the ``faces`` analyzer,
then paint every mask and accessory over them and write the PNG + JSON assets.

The reference face is first brought to a canonical pose (eyes level, 100 px apart) so the art
has the same scale whatever photo is used; the default photo is scikit-image's astronaut.
"""

from __future__ import annotations

import argparse
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.io.sink import write_image
from edgefx.plugins.face_mask.assets import assets_dir, available, save_asset
from edgefx.plugins.face_mask.paint import ACCESSORIES, MASKS
from edgefx.vision import face_mesh as mesh

CANVAS = (320, 520)
"""Width and height of the canonical reference canvas (room above the head for hats)."""
EYE_DISTANCE = 100.0
EYES_AT = (160.0, 320.0)


def reference_landmarks(photo: np.ndarray) -> np.ndarray:
    """The 468 landmarks ``(468, 3)`` float32 of the one face in ``photo`` (HxWx3 uint8 BGR), unsmoothed."""
    from edgefx.testing import installed_analyzer

    for model in ("short", "full"):
        analyzer = installed_analyzer("faces", {"model": model, "smoothing": False, "max_faces": 1})
        analyzer.start()
        faces = []
        for i in range(3):  # the region settles on the landmarks after a frame or two
            frame = Frame(photo, i, Fraction(1, 30), i)
            faces = analyzer.analyze(frame, FrameContext(frame))
        if faces:
            return faces[0].landmarks
    raise ConfigError("masks make: no face found in the reference photo",
                      "use a well-lit frontal photo with one face filling at least a fifth of it")


def canonical_pose(landmarks: np.ndarray) -> np.ndarray:
    """The 2x3 similarity putting the eye corners level, ``EYE_DISTANCE`` apart, centred on ``EYES_AT``."""
    right, left = landmarks[mesh.RIGHT_EYE_OUTER, :2], landmarks[mesh.LEFT_EYE_OUTER, :2]
    angle = np.degrees(np.arctan2(left[1] - right[1], left[0] - right[0]))
    mid = (right + left) / 2
    scale = EYE_DISTANCE / float(np.linalg.norm(left - right))
    m = cv2.getRotationMatrix2D((float(mid[0]), float(mid[1])), float(angle), scale)
    m[:, 2] += np.array(EYES_AT) - mid
    return m


def cropped(image: np.ndarray, margin: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``image`` cut to the box of its non-transparent pixels (plus ``margin``) and that box's top-left (x, y)."""
    ys, xs = np.nonzero(image[:, :, 3])
    x0, y0 = max(0, xs.min() - margin), max(0, ys.min() - margin)
    x1, y1 = min(image.shape[1], xs.max() + 1 + margin), min(image.shape[0], ys.max() + 1 + margin)
    return image[y0:y1, x0:x1], np.array([x0, y0], np.float32)


def make_assets(photo: np.ndarray, out: Path, source: str, preview: Path | None = None) -> list[Path]:
    """Paint every mask and accessory over ``photo``'s face; write them to ``out``; returns the JSON paths."""
    m = canonical_pose(reference_landmarks(photo))
    points = reference_landmarks(photo)[:, :2] @ m[:, :2].T + m[:, 2]
    reference = cv2.warpAffine(photo, m, CANVAS) if preview else None
    written = []
    for name, (painter, opened) in MASKS.items():
        image, origin = cropped(painter(points, CANVAS))
        meta = {"kind": "mask", "name": name, "open": list(opened), "reference": source,
                "landmarks": np.round(points - origin, 2).tolist()}
        written.append(save_asset(out, name, image, meta))
    for name, (painter, indices) in ACCESSORIES.items():
        image, origin = cropped(painter(points, CANVAS))
        anchors = {str(i): np.round(points[i] - origin, 2).tolist() for i in indices}
        written.append(save_asset(out, name, image, {"kind": "accessory", "name": name, "reference": source,
                                                     "anchors": anchors}))
    if preview is not None and reference is not None:
        _write_previews(reference, points, preview)
    return written


def _write_previews(reference: np.ndarray, points: np.ndarray, folder: Path) -> None:
    from edgefx.vision.blend import blend_rgba

    folder.mkdir(parents=True, exist_ok=True)
    tiles = []
    for painter, _ in list(MASKS.values()) + list(ACCESSORIES.values()):
        tile = reference.copy()
        blend_rgba(tile, painter(points, CANVAS))
        tiles.append(tile)
    write_image(folder / "masks_preview.png", np.hstack(tiles))


def load_photo(path: str | None) -> tuple[np.ndarray, str]:
    """The reference photo (BGR) and a description of where it came from."""
    if path is None:
        from skimage import data
        return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), "scikit-image data.astronaut()"
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise ConfigError(f"masks make: cannot read the photo {path}", "pass a PNG or JPEG file with --photo")
    return image, Path(path).name


def cmd_masks_make(args: argparse.Namespace, registry: object) -> int:
    photo, source = load_photo(args.photo)
    out = Path(args.out) if args.out else assets_dir()
    for path in make_assets(photo, out, source, Path(args.preview) if args.preview else None):
        print(f"wrote {path.with_suffix('.png')} + {path.name}")
    return 0


def cmd_masks_list(args: argparse.Namespace, registry: object) -> int:
    folder = Path(args.dir) if args.dir else assets_dir()
    print("masks:       " + ", ".join(available("mask", folder)))
    print("accessories: " + ", ".join(available("accessory", folder)))
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """``edgefx masks make`` and ``edgefx masks list``."""
    masks = subparsers.add_parser("masks", help="make and list face masks and accessories")
    sub = masks.add_subparsers(dest="masks_command", required=True)
    make = sub.add_parser("make", help="paint the masks and accessories over a reference face photo")
    make.add_argument("--photo", help="reference face photo (default: scikit-image's astronaut)")
    make.add_argument("--out", help="output folder (default: the shipped assets folder)")
    make.add_argument("--preview", help="also write masks_preview.png (art over the reference) here")
    make.set_defaults(func=cmd_masks_make)
    listing = sub.add_parser("list", help="list the masks and accessories")
    listing.add_argument("--dir", help="folder to list (default: the shipped assets)")
    listing.set_defaults(func=cmd_masks_list)
