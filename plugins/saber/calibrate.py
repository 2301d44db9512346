"""``edgefx saber calibrate``: measure the stick's colour while the user holds it still, upright,
through the middle of the picture, and print the ``[analyzers.saber] color`` to put in a preset."""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterable
from typing import Any

import numpy as np

from edgefx.errors import ConfigError
from edgefx.frame import Frame
from edgefx.io.source import SourceRequest
from edgefx.plugins.saber.color import calibrate_color

STEADY_LIGHTNESS = 6
"""Largest spread (8-bit L) of the per-frame colours over the hold-still window."""


def hold_still(images: Iterable[np.ndarray], frames: int) -> tuple[int, int, int]:
    """The stick's Lab colour from the first ``frames`` consecutive images whose centre strip is a
    stick (``calibrate_color``) and steady (the stick held still there); ``ConfigError`` when that
    never happens, saying why the last frames were refused and what to do."""
    window: deque[tuple[int, int, int]] = deque(maxlen=frames)
    refused: ConfigError | None = None
    for image in images:
        try:
            window.append(calibrate_color([image]))
        except ConfigError as error:
            window.clear()
            refused = error
            continue
        if len(window) == frames and np.ptp(np.array(window), axis=0).max() <= STEADY_LIGHTNESS:
            centre = np.median(np.array(window), axis=0)
            return (round(float(centre[0])), round(float(centre[1])), round(float(centre[2])))
    if refused is not None:
        raise ConfigError(f"saber calibrate: the stick was never held still in the middle of the picture; "
                          f"{refused.message.removeprefix('saber calibrate: ')}", refused.hint + ", then run again")
    raise ConfigError("saber calibrate: the stick was never held still in the middle of the picture",
                      "hold it upright through the centre of the frame, still, for a second, then run again")


def run_calibrate(args: argparse.Namespace, registry: Any) -> int:
    """Read the input until the stick has been held still for ``--hold`` seconds; print the colour."""
    source = registry.source_for(args.input).open(args.input, SourceRequest(audio=False))
    fps = float(source.info.fps) or 30.0

    def images() -> Iterable[np.ndarray]:
        for n, item in enumerate(i for i in source if isinstance(i, Frame)):
            if n >= args.seconds * fps:
                return
            yield item.image

    try:
        lab = hold_still(images(), max(1, round(args.hold * fps)))
    finally:
        source.close()
    print(f"[analyzers.saber]\ncolor = [{lab[0]}, {lab[1]}, {lab[2]}]")
    return 0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    saber = subparsers.add_parser("saber", help="light saber tools")
    sub = saber.add_subparsers(dest="saber_command", required=True)
    cal = sub.add_parser("calibrate", help="measure the stick's colour: hold it upright through the middle, still")
    cal.add_argument("input", help="camera (v4l2:///dev/video0) or a clip of the stick held still")
    cal.add_argument("--hold", type=float, default=1.0, help="seconds the stick must be held still")
    cal.add_argument("--seconds", type=float, default=20.0, help="give up after this many seconds of input")
    cal.set_defaults(func=run_calibrate)
