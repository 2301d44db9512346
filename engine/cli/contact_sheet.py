"""A contact sheet: a few sample frames of a run tiled into one PNG, for a quick look."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from edgefx.errors import ConfigError
from edgefx.io.protect import mark_png
from edgefx.io.sink import write_file, write_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def check_sheet_path(path: str | Path) -> None:
    """Refuse a contact-sheet path that is no image name, before the run (``ConfigError``)."""
    if Path(path).suffix.lower() not in IMAGE_SUFFIXES:
        raise ConfigError(f"--contact-sheet {path}: a contact sheet is an image",
                          f"give a name ending in {' or '.join(IMAGE_SUFFIXES)}, e.g. --contact-sheet out/sheet.png")


class ContactSheet:
    """Keeps small copies of frames ``picks`` (frame indices) and writes them as a grid."""

    def __init__(self, picks: list[int], thumb_width: int = 480, columns: int = 3) -> None:
        self.picks = set(picks)
        self.thumb_width = thumb_width
        self.columns = columns
        self.thumbs: list[np.ndarray] = []

    @classmethod
    def evenly(cls, frame_count: int, n: int = 6) -> ContactSheet:
        """Pick ``n`` frames spread over ``frame_count``."""
        count = max(frame_count, 1)
        return cls(sorted({round(i * (count - 1) / max(n - 1, 1)) for i in range(n)}))

    def offer(self, index: int, image: np.ndarray) -> None:
        """Keep a thumbnail of ``image`` (BGR) when ``index`` is one of the picks."""
        if index in self.picks:
            h, w = image.shape[:2]
            size = (self.thumb_width, round(h * self.thumb_width / w))
            self.thumbs.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))

    def write(self, path: str | Path) -> Path | None:
        """Write the grid PNG; ``None`` when no frame was kept."""
        if not self.thumbs:
            return None
        h, w = self.thumbs[0].shape[:2]
        rows = -(-len(self.thumbs) // self.columns)
        sheet = np.zeros((rows * h, self.columns * w, 3), np.uint8)
        for i, thumb in enumerate(self.thumbs):
            r, c = divmod(i, self.columns)
            sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = thumb[:h, :w]
        if Path(path).suffix.lower() != ".png":
            return write_image(path, sheet)
        png = cv2.imencode(".png", sheet)[1].tobytes()  # marked: a later run may replace its own sheet
        return write_file(path, mark_png(png), "the contact sheet ")
