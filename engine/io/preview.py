"""``preview`` sink: a live MJPEG view at http://127.0.0.1:8090/ that any browser shows.

Works with no display (a Pi over SSH, a container). JPEG encoding happens on the
server thread, only while someone is watching, at most ``max_fps`` times a second.
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import cv2
import numpy as np

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.info import StreamInfo
from edgefx.io.sink import Sink, SinkRequest

log = logging.getLogger(__name__)

PAGE = b"""<!doctype html><title>edgefx preview</title>
<body style="margin:0;background:#111"><img src="/stream.mjpg" style="width:100%;height:auto"></body>"""


class MjpegBroadcaster:
    """Holds the newest frame and hands JPEGs of it to any number of HTTP watchers."""

    def __init__(self, max_fps: float = 15.0, quality: int = 80) -> None:
        self.period = 1.0 / max_fps
        self.quality = quality
        self.watchers = 0
        self._cond = threading.Condition()
        self._image: np.ndarray | None = None
        self._seq = 0

    def offer(self, image: np.ndarray) -> None:
        """Give the newest frame (BGR); it is kept, not copied, only while someone watches."""
        if self.watchers:
            with self._cond:
                self._image, self._seq = image, self._seq + 1
                self._cond.notify_all()

    def jpegs(self, stop: threading.Event):
        """Yield JPEG bytes of new frames, paced to ``max_fps``, until ``stop`` is set."""
        seen = -1
        while not stop.is_set():
            with self._cond:
                if self._seq == seen:
                    self._cond.wait(timeout=0.5)
                if self._seq == seen or self._image is None:
                    continue
                image, seen = self._image, self._seq
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            if ok:
                yield buf.tobytes()
            time.sleep(self.period)

    def handle_stream(self, handler: BaseHTTPRequestHandler, stop: threading.Event) -> None:
        """Serve ``multipart/x-mixed-replace`` on an HTTP request until the client goes away."""
        handler.send_response(200)
        handler.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        handler.send_header("Cache-Control", "no-store")
        handler.end_headers()
        with self._cond:
            self.watchers += 1
        try:
            for jpeg in self.jpegs(stop):
                handler.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(jpeg))
                handler.wfile.write(jpeg + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._cond:
                self.watchers -= 1


class PreviewSink(Sink):
    """``preview`` or ``preview:PORT`` (127.0.0.1 only)."""

    name = "preview"
    schemes: ClassVar[tuple[str, ...]] = ("preview",)
    realtime = True

    def __init__(self, port: int) -> None:
        self.broadcaster = MjpegBroadcaster()
        self._stop = threading.Event()
        broadcaster, stop = self.broadcaster, self._stop

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith("/stream.mjpg"):
                    broadcaster.handle_stream(self, stop)
                else:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(PAGE)

            def log_message(self, *args: object) -> None:
                pass

        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise SinkError(f"preview cannot listen on 127.0.0.1:{port}: {exc}",
                            "pick another port: preview:8091") from None
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="preview", daemon=True).start()
        log.info("preview at http://127.0.0.1:%d/", self.server.server_address[1])

    @classmethod
    def open(cls, target: str, info: StreamInfo, request: SinkRequest) -> Sink:
        _, _, port = target.partition(":")
        return cls(int(port or 8090))

    def write(self, frame: Frame) -> None:
        self.broadcaster.offer(frame.image)
        self.frames_written += 1

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
