"""What goes behind the person in ``image`` and ``video`` mode: a picture or a looping clip,
fitted to the frame once (cover: fill and crop; contain: fit inside, bars in ``pad``)."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

from edgefx.errors import ConfigError


def fit(image: np.ndarray, width: int, height: int, mode: str, pad: tuple[int, int, int]) -> np.ndarray:
    """``image`` (BGR uint8) scaled to ``width`` x ``height``: ``cover`` crops the overflow around
    the centre, ``contain`` letterboxes with ``pad``."""
    h, w = image.shape[:2]
    scale = max(width / w, height / h) if mode == "cover" else min(width / w, height / h)
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    scaled = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    out = np.empty((height, width, 3), np.uint8)
    out[:] = pad
    x0, y0 = (width - sw) // 2, (height - sh) // 2
    src = scaled[max(0, -y0):max(0, -y0) + min(sh, height), max(0, -x0):max(0, -x0) + min(sw, width)]
    out[max(0, y0):max(0, y0) + src.shape[0], max(0, x0):max(0, x0) + src.shape[1]] = src
    return out


def _existing(path: str | None, what: str) -> Path:
    if not path:
        raise ConfigError(f"background: mode {what} needs a path",
                          f"set path = \"/some/{what}\" in [effects.background], or --set effects.background.path=FILE")
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"background: {what} file not found: {file}",
                          "check the path (relative paths start from the current folder) or pick another file")
    return file


def load_image(path: str | None, width: int, height: int, mode: str, pad: tuple[int, int, int]) -> np.ndarray:
    """The replacement picture fitted to the frame; ``ConfigError`` naming the path if it cannot be read."""
    file = _existing(path, "image")
    image = cv2.imread(str(file), cv2.IMREAD_COLOR)
    if image is None:
        raise ConfigError(f"background: cannot read image {file}", "use a PNG, JPEG, BMP or WebP file")
    return fit(image, width, height, mode, pad)


class VideoBackdrop:
    """A video file decoded with PyAV, one picture per output frame, looping at its end."""

    def __init__(self, path: str | None, width: int, height: int, mode: str, pad: tuple[int, int, int]) -> None:
        self.file = _existing(path, "video")
        self.size, self.mode, self.pad = (width, height), mode, pad
        try:
            self.container = av.open(str(self.file))
            self.stream = self.container.streams.video[0]
        except (av.FFmpegError, IndexError) as exc:
            raise ConfigError(f"background: cannot decode video {self.file}: {exc}",
                              "use a video file FFmpeg can read (MP4/H.264, WebM, ...)") from None
        self.frames = self.container.decode(self.stream)
        self.pending: np.ndarray | None = self._decode()  # now: a file without pictures fails before any frame

    def next(self) -> np.ndarray:
        """The next picture, fitted to the frame (back to the start after the last one)."""
        if self.pending is not None:
            picture, self.pending = self.pending, None
            return picture
        return self._decode()

    def _decode(self) -> np.ndarray:
        for _attempt in range(2):
            try:
                picture = next(self.frames).to_ndarray(format="bgr24")
                return fit(picture, *self.size, self.mode, self.pad)
            except StopIteration:
                self.container.seek(0, stream=self.stream)
                self.frames = self.container.decode(self.stream)
        raise ConfigError(f"background: video {self.file} has no pictures", "use another video file")

    def close(self) -> None:
        self.container.close()
