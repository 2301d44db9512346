"""``preview`` sink: a live MJPEG view at http://127.0.0.1:8090/ that any browser shows.

Works with no display (a Pi over SSH, a container). JPEG encoding happens on the
server thread, only while someone is watching, at most ``max_fps`` times a second
(``edgefx.io.mjpeg``, the broadcaster the control panel's preview uses too).
Like every server edgefx starts it answers only to loopback ``Host`` names (403 otherwise,
against DNS rebinding), sends ``SECURITY_HEADERS``, caps its connections and closes idle ones.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar
from urllib.parse import urlsplit

from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.http_guard import IDLE_TIMEOUT, MAX_CONNECTIONS, SECURITY_HEADERS, HostAllowList
from edgefx.io.info import StreamInfo
from edgefx.io.mjpeg import MjpegBroadcaster
from edgefx.io.sink import Sink, SinkRequest

log = logging.getLogger(__name__)

PAGE = b"""<!doctype html><title>edgefx preview</title>
<body style="margin:0;background:#111"><img src="/stream.mjpg" style="width:100%;height:auto"></body>"""


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
