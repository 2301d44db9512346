"""The one MJPEG broadcaster: the newest frame, JPEG-encoded for any number of watchers, at most
``max_fps`` times a second. The ``preview`` output serves it from a threaded HTTP server
(``handle_stream``), the control panel from aiohttp (``jpeg`` and ``part``); both count their
watchers here, so nothing is kept or encoded while nobody watches."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import cv2
import numpy as np

CONTENT_TYPE = "multipart/x-mixed-replace; boundary=frame"
"""The ``Content-Type`` of an MJPEG stream; each part is ``part(jpeg)``."""


def part(jpeg: bytes) -> bytes:
    """One JPEG as a part of the ``multipart/x-mixed-replace`` stream."""
    return b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpeg), jpeg)


class MjpegBroadcaster:
    """Holds the newest frame offered while someone watches (``watchers``) and no more often than
    ``max_fps``; ``seq`` counts the frames kept. ``copy``: keep a copy of the offered image (a frame
    observer must: the loop draws on the same array next frame); without it the image is kept as is."""

    def __init__(self, max_fps: float = 15.0, quality: int = 80, copy: bool = False) -> None:
        self.period = 1.0 / max_fps
        self.quality = quality
        self.copy = copy
        self.watchers = 0
        self.seq = 0
        self._cond = threading.Condition()
        self._image: np.ndarray | None = None
        self._taken = -float("inf")

    def offer(self, image: np.ndarray) -> None:
        """Give the newest frame (BGR uint8); kept only while someone watches and when it is due."""
        now = time.perf_counter()
        if self.watchers and now - self._taken >= self.period:
            kept = image.copy() if self.copy else image
            with self._cond:
                self._image, self.seq, self._taken = kept, self.seq + 1, now
                self._cond.notify_all()

    def watch(self) -> None:
        """One more watcher (frames are kept from now on)."""
        with self._cond:
            self.watchers += 1

    def leave(self) -> None:
        """One watcher fewer."""
        with self._cond:
            self.watchers -= 1

    def jpeg(self) -> bytes | None:
        """The newest frame as JPEG bytes (``None`` before the first one)."""
        with self._cond:
            image = self._image
        if image is None:
            return None
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        return buf.tobytes() if ok else None

    def jpegs(self, stop: threading.Event) -> Iterator[bytes]:
        """Yield a JPEG of each new frame until ``stop`` is set (blocking: for a server thread)."""
        seen = -1
        while not stop.is_set():
            with self._cond:
                if self.seq == seen:
                    self._cond.wait(timeout=0.5)
                if self.seq == seen or self._image is None:
                    continue
                seen = self.seq
            if (jpeg := self.jpeg()) is not None:
                yield jpeg

    def handle_stream(self, handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        """Serve the stream on a threaded HTTP server's request until the client goes away."""
        handler.send_response(200)
        handler.send_header("Content-Type", CONTENT_TYPE)
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        self.watch()
        try:
            for jpeg in self.jpegs(stop):
                handler.wfile.write(part(jpeg))
        except OSError:  # the watcher went away or stopped reading for IDLE_TIMEOUT seconds
            pass
        finally:
            self.leave()
