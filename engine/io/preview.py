"""``preview`` sink: a live MJPEG view at http://127.0.0.1:8090/ that any browser shows.

Works with no display (a Pi over SSH, a container). JPEG encoding happens on the
server thread, only while someone is watching, at most ``max_fps`` times a second.
Like every server edgefx starts it answers only to loopback ``Host`` names (403 otherwise,
against DNS rebinding), sends ``SECURITY_HEADERS``, caps its connections and closes idle ones.
"""

from __future__ import annotations

import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

import cv2
import numpy as np

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.http_guard import IDLE_TIMEOUT, MAX_CONNECTIONS, SECURITY_HEADERS, HostAllowList
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
        except OSError:  # the watcher went away or stopped reading for IDLE_TIMEOUT seconds
            pass
        finally:
            with self._cond:
                self.watchers -= 1


class GuardedServer(ThreadingHTTPServer):
    """A threading HTTP server that serves at most ``MAX_CONNECTIONS`` connections at once (the
    ones beyond are closed at once) and whose handlers time out after ``IDLE_TIMEOUT`` seconds
    of silence (slow or missing headers)."""

    daemon_threads = True
    request_queue_size = MAX_CONNECTIONS

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class PreviewSink(Sink):
    """``preview`` or ``preview:PORT`` (127.0.0.1 only)."""

    name = "preview"
    schemes: ClassVar[tuple[str, ...]] = ("preview",)
    realtime = True

    def __init__(self, port: int) -> None:
        self.broadcaster = MjpegBroadcaster()
        self._stop = threading.Event()
        broadcaster, stop, hosts = self.broadcaster, self._stop, HostAllowList("127.0.0.1")

        class Handler(BaseHTTPRequestHandler):
            timeout = IDLE_TIMEOUT

            def do_GET(self) -> None:
                host = self.headers.get("Host")
                if not hosts.allows(host):
                    self.reply(403, hosts.refusal(host).encode(), "text/plain")
                elif (path := urlsplit(self.path).path) == "/stream.mjpg":
                    broadcaster.handle_stream(self, stop)
                elif path == "/":
                    self.reply(200, PAGE, "text/html")
                else:
                    self.reply(404, b"not found: the preview is at / and /stream.mjpg", "text/plain")

            def reply(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def end_headers(self) -> None:
                for name, value in SECURITY_HEADERS.items():
                    self.send_header(name, value)
                super().end_headers()

            def log_message(self, *args: object) -> None:
                pass

        try:
            self.server = GuardedServer(("127.0.0.1", port), Handler)
        except OSError as exc:
            raise SinkError(f"preview cannot listen on 127.0.0.1:{port}: {exc}",
                            "pick another port: preview:8091") from None
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
