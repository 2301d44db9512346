"""Alpha compositing in place."""

from __future__ import annotations

import numpy as np


def blend_rgba(dst: np.ndarray, src: np.ndarray, opacity: float = 1.0) -> None:
    """Composite ``src`` (HxWx4 uint8, colour in the same channel order as ``dst``, straight alpha)
    over ``dst`` (HxWx3 uint8, may be a view into a frame) in place, scaled by ``opacity`` in [0, 1]."""
    alpha = src[:, :, 3:4].astype(np.float32) * (opacity / 255.0)
    mixed = dst.astype(np.float32)
    mixed += (src[:, :, :3].astype(np.float32) - mixed) * alpha
    np.rint(mixed, out=mixed)
    dst[:] = mixed.astype(np.uint8)
