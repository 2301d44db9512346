"""Issue 26 for ``-o preview``: a DNS-rebinding page (a foreign ``Host``) cannot read the camera,
every answer carries the security headers, and slow-header connections are capped and time out."""

from __future__ import annotations

import contextlib
import http.client
import selectors
import socket
import threading
import time

import numpy as np
import pytest
from skimage import data

from edgefx.io import preview as preview_module
from edgefx.io.http_guard import MAX_CONNECTIONS, SECURITY_HEADERS, HostAllowList
from edgefx.io.preview import PreviewSink

IDLE = 2.0


@pytest.fixture()
def sink(monkeypatch):
    """A preview on a free port fed a real photo (scikit-image's astronaut, BGR) 20 times a second."""
    monkeypatch.setattr(preview_module, "IDLE_TIMEOUT", IDLE, raising=False)
    sink = PreviewSink(0)
    image = np.ascontiguousarray(data.astronaut()[:, :, ::-1])
    done = threading.Event()

    def feed() -> None:
        while not done.wait(0.05):
            sink.broadcaster.offer(image)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    yield sink
    done.set()
    feeder.join(2)
    sink.close()


def get(port: int, path: str, host: str, read: int | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read(read)
    finally:
        conn.close()


def test_a_foreign_host_cannot_read_the_preview(sink) -> None:
    port = sink.server.server_address[1]
    for host in ("evil.example", f"evil.example:{port}", "127.0.0.1.evil.example", ""):
        for path in ("/", "/stream.mjpg", "/stream.mjpg?x=1"):
            status, headers, body = get(port, path, host)
            assert status == 403 and b"DNS rebinding" in body, (host, path)
            assert all(headers[k.lower()] == v for k, v in SECURITY_HEADERS.items())
    status, headers, body = get(port, "/stream.mjpg", f"127.0.0.1:{port}", read=4096)
    assert status == 200 and headers["content-type"].startswith("multipart/x-mixed-replace")
    assert b"Content-Type: image/jpeg" in body and b"\xff\xd8" in body  # a JPEG of the frames
    assert headers["content-security-policy"] == "frame-ancestors 'none'"
    assert get(port, "/", f"localhost:{port}")[0] == 200
    assert get(port, "/other", f"127.0.0.1:{port}")[0] == 404


def test_slow_header_connections_are_capped_and_time_out(sink) -> None:
    port = sink.server.server_address[1]
    sockets = []
    for _ in range(MAX_CONNECTIONS + 16):
        sock = socket.create_connection(("127.0.0.1", port), timeout=IDLE + 10)
        sock.sendall(b"GET /stream.mjpg HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the end of the headers
        sockets.append(sock)
    start = time.monotonic()
    closed_at = []
    try:
        with selectors.DefaultSelector() as selector:
            for sock in sockets:
                selector.register(sock, selectors.EVENT_READ)
            while selector.get_map() and time.monotonic() - start < IDLE + 10:
                for key, _ in selector.select(timeout=0.5):
                    chunk = b""
                    with contextlib.suppress(ConnectionResetError):
                        chunk = key.fileobj.recv(4096)
                    if not chunk:
                        closed_at.append(time.monotonic() - start)
                        selector.unregister(key.fileobj)
    finally:
        for sock in sockets:
            sock.close()
    assert len(closed_at) == len(sockets)  # none is held open
    assert len([t for t in closed_at if t < IDLE / 2]) >= 16  # beyond the cap: closed at once
    assert max(closed_at) < IDLE + 5  # the others when idle too long
    time.sleep(0.3)  # the timed-out handler threads give their slots back
    assert get(port, "/", f"127.0.0.1:{port}")[0] == 200


def test_the_host_allow_list_of_loopback_and_network_binds() -> None:
    loopback = HostAllowList("127.0.0.1")
    for host in ("127.0.0.1:8091", "localhost:8091", "LOCALHOST", "[::1]:8091", "127.0.0.1"):
        assert loopback.allows(host), host
    for host in ("evil.example", "192.168.1.20:8091", "127.0.0.1.evil.example", "[::1].evil", "[::1]:x", "", None,
                 socket.gethostname()):
        assert not loopback.allows(host), host
    network = HostAllowList("0.0.0.0", ["Pi.Lan"])
    for host in ("192.168.1.20:8091", "[fe80::1]:8091", "127.0.0.1", socket.gethostname(), "pi.lan:8091"):
        assert network.allows(host), host
    for host in ("evil.example", "192.168.1.20.nip.io", "pi.lan.evil", ""):  # names a rebinding page could use
        assert not network.allows(host), host
