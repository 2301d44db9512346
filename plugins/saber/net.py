"""The learned stick detector: a tiny fully-convolutional net (``stick_net.tflite``, trained by
``tools/train_stick_net.py`` on rendered ground truth) that maps the working image to a heatmap of
the visible rod, and the mask the analyzer's candidate search reads from it.

The net sees the working image shrunk to ``INPUT_SIZE`` (BGR, normalised: ``net_input``) and answers at half that size
(``OUTPUT_STRIDE``): the probability that each cell shows the stick. It runs through LiteRT on one
thread like the engine's other models; it is shipped beside this module, not in the model cache.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

NET_FILE = Path(__file__).with_name("stick_net.tflite")
INPUT_SIZE = (160, 90)
"""Width and height of the net's input (the working image is stretched to it whatever its aspect)."""
OUTPUT_STRIDE = 2
"""The heatmap is this many times smaller than the input on each side."""
TARGET_RADIUS = 1.0
"""Half the width of the rod the net was trained to mark, in heatmap cells, at the least (a thinner
rod is marked this wide, so its heatmap never breaks up): the mask reaches this far past each end."""


def net_input(work: np.ndarray) -> np.ndarray:
    """The net's input for the (H, W, 3) uint8 BGR working image: (1, 90, 160, 3) float32, each
    channel less its mean, over the picture's standard deviation (plus 8 levels, so noise on a flat
    picture is not blown up): a dim, flat or overexposed scene looks like a plain one."""
    w, h = INPUT_SIZE
    small = cv2.resize(work, (w, h), interpolation=cv2.INTER_AREA).astype(np.float32)
    mean, std = cv2.meanStdDev(small)
    return ((small - mean.reshape(1, 1, 3).astype(np.float32)) / (float(std.mean()) + 8.0))[None]


class StickNet:
    """``stick_net.tflite`` loaded through LiteRT (``edgefx.inference.models.TFLiteModel``)."""

    def __init__(self, threads: int = 1, path: Path = NET_FILE) -> None:
        from edgefx.inference.models import TFLiteModel

        self.model = TFLiteModel("stick_net", threads=threads, path=path)

    def heatmap(self, work: np.ndarray) -> np.ndarray:
        """Stick probability per heatmap cell, (45, 80) float32, for the BGR working image."""
        return self.model.run(net_input(work))[0][0, :, :, 0]

    def mask(self, work: np.ndarray, threshold: float) -> np.ndarray:
        """(H, W) uint8 mask at the working image's size, 255 where the upsampled heatmap is over
        ``threshold``: what the candidate search reads instead of the colour mask."""
        h, w = work.shape[:2]
        heat = cv2.resize(self.heatmap(work), (w, h), interpolation=cv2.INTER_LINEAR)
        return cv2.threshold(heat, threshold, 255, cv2.THRESH_BINARY)[1].astype(np.uint8)
