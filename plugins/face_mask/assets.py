"""Mask and accessory assets: an RGBA PNG plus a JSON file of reference landmarks or anchors.

A *mask* is painted over a reference face; its JSON holds the 468 landmarks of that face in the
PNG's pixels (``landmarks``) and which features stay see-through (``open``: "eyes", "mouth").
An *accessory* (glasses, hat...) holds ``anchors``: mesh index -> where that landmark sits on the sprite.
Shipped assets live in ``edgefx/plugins/face_mask/assets``; ``edgefx masks make`` regenerates them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np

from edgefx.errors import ConfigError
from edgefx.io.sink import write_image

OPENINGS = ("eyes", "mouth")


def assets_dir() -> Path:
    """The folder of the shipped assets."""
    return Path(str(resources.files("edgefx.plugins.face_mask").joinpath("assets")))


@dataclass(frozen=True, slots=True)
class MaskAsset:
    """A face mask: ``image`` HxWx4 uint8 BGRA, ``landmarks`` (468, 2) float32 in its pixels."""

    name: str
    image: np.ndarray
    landmarks: np.ndarray
    open: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AccessoryAsset:
    """A sprite: ``image`` HxWx4 uint8 BGRA; ``indices`` (K,) mesh indices and ``anchors`` (K, 2) sprite pixels."""

    name: str
    image: np.ndarray
    indices: np.ndarray
    anchors: np.ndarray


def available(kind: str, folder: Path | None = None) -> list[str]:
    """Names of the assets of ``kind`` ("mask" or "accessory") in ``folder`` (default: shipped)."""
    folder = folder or assets_dir()
    names = []
    for path in sorted(folder.glob("*.json")):
        if json.loads(path.read_text()).get("kind") == kind and path.with_suffix(".png").is_file():
            names.append(path.stem)
    return names


def check_asset(name_or_path: str, kind: str) -> None:
    """Raise ``ConfigError`` when no ``kind`` asset ``name_or_path`` exists (an option's ``validate``)."""
    try:
        _resolve(name_or_path, kind)
    except ConfigError as exc:
        raise ConfigError(exc.message.removeprefix("face_mask: "), exc.hint) from None


def _resolve(name_or_path: str, kind: str) -> tuple[str, Path, dict]:
    path = Path(name_or_path)
    if path.suffix != ".json":
        path = assets_dir() / f"{name_or_path}.json"
    if not path.is_file() or not path.with_suffix(".png").is_file():
        raise ConfigError(f"face_mask: no {kind} {name_or_path!r} (looked for {path} and its .png)",
                          f"use one of: {', '.join(available(kind))}, or a .json made by `edgefx masks make`")
    meta = json.loads(path.read_text())
    if meta.get("kind") != kind:
        raise ConfigError(f"face_mask: {path} is a {meta.get('kind')!r}, not a {kind}",
                          f"{kind}s are: {', '.join(available(kind))}")
    return path.stem, path, meta


def _read_rgba(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4:
        raise ConfigError(f"face_mask: {path} is not an RGBA PNG", "regenerate it with `edgefx masks make`")
    return image


def load_mask(name_or_path: str) -> MaskAsset:
    """A shipped mask by name, or any mask by the path of its ``.json``."""
    name, path, meta = _resolve(name_or_path, "mask")
    landmarks = np.asarray(meta["landmarks"], dtype=np.float32)
    if landmarks.shape != (468, 2):
        raise ConfigError(f"face_mask: {path} must hold 468 [x, y] landmarks", "regenerate it with `edgefx masks make`")
    opened = tuple(meta.get("open", ()))
    if not set(opened) <= set(OPENINGS):
        raise ConfigError(f"face_mask: {path}: open must list only {OPENINGS}", "fix the JSON or regenerate it")
    return MaskAsset(name, _read_rgba(path.with_suffix(".png")), landmarks, opened)


def load_accessory(name_or_path: str) -> AccessoryAsset:
    """A shipped accessory by name, or any accessory by the path of its ``.json``."""
    name, path, meta = _resolve(name_or_path, "accessory")
    anchors = meta["anchors"]
    indices = np.array([int(k) for k in anchors], dtype=np.int32)
    points = np.array(list(anchors.values()), dtype=np.float32)
    if len(indices) < 2 or indices.min() < 0 or indices.max() >= 468:
        raise ConfigError(f"face_mask: {path} needs at least two anchors on mesh indices 0..467",
                          "regenerate it with `edgefx masks make`")
    return AccessoryAsset(name, _read_rgba(path.with_suffix(".png")), indices, points)


def save_asset(folder: Path, name: str, image: np.ndarray, meta: dict) -> Path:
    """Write ``name.png`` (BGRA, max compression) and ``name.json`` into ``folder``; returns the JSON path."""
    write_image(folder / f"{name}.png", image, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    path = folder / f"{name}.json"
    path.write_text(json.dumps(meta, separators=(",", ":")) + "\n")
    return path
