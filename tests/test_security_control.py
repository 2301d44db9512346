"""Issue 26 against a real in-process run (live testsrc2, the background effect on the real person
model, the stats overlay) with the control panel on its default loopback bind: forged and missing
origins, form posts, foreign Host headers, files outside the media folders, NaN and Infinity,
malformed HTTP, slow-header connections, tokens, and a bounded fuzz loop over every route."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import logging
import random
import re
import selectors
import socket
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

aiohttp = pytest.importorskip("aiohttp", reason="the control panel needs its extra: pip install -e '.[control]'")

from edgefx.control.server import ControlServer  # noqa: E402  (needs aiohttp)
from edgefx.io.http_guard import IDLE_TIMEOUT, MAX_CONNECTIONS, SECURITY_HEADERS  # noqa: E402

TOKEN = "s3cret-token-for-the-tests-0123456789"


def call(port: int, method: str, path: str, body: bytes | str | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to 127.0.0.1:port: (status, headers with lower-case names, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, path, body, headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def raw_request(port: int, data: bytes) -> tuple[int, bytes]:
    """Send raw bytes (anything, even invalid HTTP) and return the status and the whole answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
            if b"\r\n\r\n" in answer and len(answer) > 4096:
                break
    match = re.match(rb"HTTP/1\.[01] (\d{3})", answer)
    return (int(match.group(1)) if match else 0), answer


def strict_json(raw: bytes):
    """JSON as a browser's ``JSON.parse`` reads it: NaN/Infinity are errors."""
    def refuse(name: str):
        raise ValueError(f"invalid JSON constant {name}")
    return json.loads(raw, parse_constant=refuse)


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """The run and its panel; ``csrf`` and ``ok`` (headers of a request from the panel's page)."""
    import cv2
    from skimage import data

    registry = Registry()
    if "background" not in registry.effects:
        pytest.skip("the background effect is not installed")
    tmp = tmp_path_factory.mktemp("security")
    media = tmp / "media"
    media.mkdir()
    cv2.imwrite(str(media / "coffee.png"), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    settings = load_settings(None, {"input.url": "testsrc:?live=1&size=320x240&duration=600", "output.url": "null",
                                    "run.effects": ["background", "stats"], "control.enabled": True,
                                    "control.port": 0, "control.media": [str(media)]})
    box: dict = {}

    def run() -> None:
        try:
            box["result"] = execute(settings, registry, on_open=lambda p: box.setdefault("pipeline", p))
        except BaseException as exc:  # reported by the teardown
            box["error"] = exc

    thread = threading.Thread(target=run, name="engine-loop", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while "pipeline" not in box and time.monotonic() < deadline:
        time.sleep(0.05)
    from edgefx.plugins.control import _servers

    pipeline = box["pipeline"]
    server = _servers[id(pipeline)]
    port = server.port
    status, _, body = call(port, "GET", "/api/session")
    csrf = json.loads(body)["csrf"] if status == 200 else ""  # (a panel without CSRF tokens: every test fails)
    ok = {"Origin": f"http://127.0.0.1:{port}", "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    yield SimpleNamespace(port=port, server=server, pipeline=pipeline, media=media, csrf=csrf, ok=ok)
    pipeline.source._stop.set()  # the live input ends as if its duration were over: the run stops the panel
    thread.join(30)
    assert "error" not in box, box["error"]
    assert "result" in box and not _servers


def effects(panel) -> dict[str, dict]:
    status, _, body = call(panel.port, "GET", "/api/effects")
    assert status == 200
    return {fx["name"]: fx for fx in strict_json(body)}


def test_forged_missing_and_foreign_origins_and_form_posts_change_nothing(panel) -> None:
    port, csrf, ok = panel.port, panel.csrf, panel.ok
    toggle = "/api/effects/background/toggle"
    body = b'{"enabled": false}'
    refused = [
        ({"Origin": "http://evil.example"}, None, 403),  # the curl
        ({**ok, "Origin": "http://evil.example"}, body, 403),
        ({**ok, "Origin": "http://127.0.0.2:8000"}, body, 403),  # another origin on loopback
        ({**ok, "Origin": f"http://localhost:{port}"}, body, 403),  # same host, other name: other origin
        ({**ok, "Origin": "http://127.0.0.1:1"}, body, 403),  # other port
        ({**ok, "Origin": "null"}, body, 403),  # sandboxed frames, file: pages
        ({k: v for k, v in ok.items() if k != "Origin"}, body, 403),  # missing Origin
        ({k: v for k, v in ok.items() if k != "X-CSRF-Token"}, body, 403),  # missing CSRF token
        ({**ok, "X-CSRF-Token": csrf[:-1] + ("A" if csrf[-1] != "A" else "B")}, body, 403),
        ({**ok, "Content-Type": "text/plain"}, body, 415),  # what fetch(no-cors) and forms can send
        ({**ok, "Content-Type": "application/x-www-form-urlencoded"}, b"enabled=false", 415),
        ({**ok, "Content-Type": "multipart/form-data; boundary=x"}, b"--x--", 415),
        (ok, None, 400),  # no body
        (ok, b"", 400),
    ]
    for headers, data, status in refused:
        got, reply_headers, reply = call(port, "POST", toggle, data, headers)
        assert got == status, (headers, data, reply)
        assert "error" in json.loads(reply) and reply_headers["content-type"].startswith("application/json")
    assert effects(panel)["background"]["enabled"] is True
    assert call(port, "POST", toggle, b'{"enabled": false}', ok)[0] == 200  # the panel's own request works
    assert effects(panel)["background"]["enabled"] is False
    assert call(port, "POST", toggle, b"{}", ok)[0] == 200  # {} flips
    assert effects(panel)["background"]["enabled"] is True


def test_the_websocket_refuses_foreign_origins(panel) -> None:
    async def connect(origin: str) -> int:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.ws_connect(f"http://127.0.0.1:{panel.port}/api/ws", origin=origin) as ws:
                    await ws.receive_json()
                    return 101
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status

    assert asyncio.run(connect("http://evil.example")) == 403
    assert asyncio.run(connect(f"http://127.0.0.1:{panel.port}")) == 101


def test_every_route_refuses_a_foreign_host(panel) -> None:
    for route in panel.server.routes():
        path = route.path.replace("{name}", "background")
        for host in ("evil.example", f"evil.example:{panel.port}", "127.0.0.1.evil.example", "localhost.evil",
                     "", "[::1].evil"):
            headers = {**panel.ok, "Host": host} if route.method == "POST" else {"Host": host}
            status, reply_headers, body = call(panel.port, route.method, path, b"{}" if route.method == "POST"
                                               else None, headers)
            assert status == 403, (route.method, path, host)
            assert "DNS rebinding" in json.loads(body)["error"]
            assert all(reply_headers[k.lower()] == v for k, v in SECURITY_HEADERS.items())
    for host in (f"127.0.0.1:{panel.port}", f"localhost:{panel.port}", f"[::1]:{panel.port}"):
        assert call(panel.port, "GET", "/api/stats", headers={"Host": host})[0] == 200, host


def test_security_headers_on_every_response(panel) -> None:
    for path, status in (("/", 200), ("/api/effects", 200), ("/api/nosuch", 404), ("/api/effects/x/toggle", 405)):
        got, headers, _ = call(panel.port, "GET", path)
        assert got == status, path
        assert headers["content-security-policy"] == "frame-ancestors 'none'"
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("value", ["Makefile", "pyproject.toml", "pipe:0", "data:,abc", "/etc/passwd",
                                   "file:///etc/passwd", "http://127.0.0.1:1/x.png", "../media/../Makefile"])
def test_files_outside_the_media_folders_never_become_the_background(panel, value: str) -> None:
    assert Path("Makefile").is_file()  # the tests run in the repository: these files exist in the cwd
    path = "/api/effects/background/options"
    status, _, body = call(panel.port, "POST", path, json.dumps({"option": "path", "value": value}), panel.ok)
    assert status == 400 and "media folder" in json.loads(body)["error"]
    status, _, body = call(panel.port, "POST", "/api/effects/background/media",
                           json.dumps({"option": "path", "path": value}), panel.ok)
    assert status == 400 and "media folder" in json.loads(body)["error"]
    assert effects(panel)["background"]["options"]["path"]["value"] in (None, str(panel.media / "coffee.png"))


def test_a_file_inside_the_media_folder_is_taken(panel) -> None:
    status, _, body = call(panel.port, "POST", "/api/effects/background/options",
                           json.dumps({"option": "path", "value": "coffee.png"}), panel.ok)
    assert status == 200 and json.loads(body)["settings"]["path"] == str((panel.media / "coffee.png").resolve())
    assert effects(panel)["background"]["options"]["path"]["media"] is True


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
def test_nan_and_infinity_are_refused_and_the_panel_stays_valid(panel, number: str) -> None:
    before = panel.pipeline.metrics.count
    for path, body in (("/api/effects/background/options", f'{{"option": "strength", "value": {number}}}'),
                       ("/api/effects/stats/options", f'{{"option": "scale", "value": {number}}}'),
                       ("/api/events", f'{{"name": "clap", "data": {{"x": {number}}}}}')):
        status, _, reply = call(panel.port, "POST", path, body, panel.ok)
        assert status == 400 and "finite" in json.loads(reply)["error"], path
    listed = effects(panel)  # strict JSON: the panel can still read it
    assert listed["background"]["enabled"] is True and listed["background"]["options"]["strength"]["value"] == 0.03
    deadline = time.monotonic() + 10
    while panel.pipeline.metrics.count < before + 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert panel.pipeline.metrics.count >= before + 5 and "background" not in panel.pipeline.guard.disabled


def test_malformed_requests_get_4xx_and_no_traceback(panel, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    port, ok = panel.port, panel.ok
    head = "".join(f"{k}: {v}\r\n" for k, v in ok.items()).encode()

    def post(path: bytes, body: bytes) -> bytes:
        return (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + head
                + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)

    cases = {
        "NUL in the path": b"GET /api/effects/a\x00b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
        "NUL, encoded": post(b"/api/effects/a%00b/toggle", b"{}"),
        "5000-character path": post(b"/api/effects/" + b"a" * 5000 + b"/toggle", b"{}"),
        "20000-character path": b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "non-UTF-8 path": post(b"/api/effects/\xff\xfe/toggle", b"{}"),
        "non-UTF-8 body": post(b"/api/events", b'{"name": "\xff\xfe"}'),
        "100,000-deep JSON": post(b"/api/events", b"[" * 100_000 + b"]" * 100_000),
        "30,000-deep JSON": post(b"/api/events", b"[" * 30_000 + b"]" * 30_000),
        "deep JSON inside an object": post(b"/api/events", b'{"name": "x", "data": ' + b'{"a":' * 5000 + b"1"
                                           + b"}" * 5001),
        "huge integer": post(b"/api/effects/stats/options", b'{"option": "scale", "value": 1' + b"0" * 400 + b"}"),
        "too many digits": post(b"/api/effects/stats/options", b'{"option": "scale", "value": 1' + b"0" * 5000
                                + b"}"),
        "lone surrogate": post(b"/api/hotkeys", b'{"key": "\\ud800"}'),
        "bad content length": b"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: x\r\n\r\n{}",
        "NUL in a header": b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\x00b\r\n\r\n",
        "not HTTP": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
        "bad chunked body": (b"POST /api/events HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % port + head
                             + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"),
    }
    for label, data in cases.items():
        status, answer = raw_request(port, data)
        assert 400 <= status < 500, (label, answer[:300])
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()]
    assert call(port, "GET", "/api/stats")[0] == 200


def test_slow_header_connections_are_capped_and_time_out(panel) -> None:
    sockets = []
    for _ in range(MAX_CONNECTIONS + 16):
        sock = socket.create_connection(("127.0.0.1", panel.port), timeout=IDLE_TIMEOUT + 10)
        sock.sendall(b"GET /api/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the end of the headers
        sockets.append(sock)
    start = time.monotonic()
    try:
        closed_at = []
        with selectors.DefaultSelector() as selector:  # every connection is closed by the server, none is held
            for sock in sockets:
                selector.register(sock, selectors.EVENT_READ)
            while selector.get_map() and time.monotonic() - start < IDLE_TIMEOUT + 10:
                for key, _ in selector.select(timeout=1.0):
                    data = b""
                    with contextlib.suppress(ConnectionResetError):  # closed with our partial request unread
                        data = key.fileobj.recv(4096)
                    if not data:
                        closed_at.append(time.monotonic() - start)
                        selector.unregister(key.fileobj)
        assert len(closed_at) == len(sockets)
        at_once = [t for t in closed_at if t < IDLE_TIMEOUT / 2]
        when_idle = [t for t in closed_at if t >= IDLE_TIMEOUT / 2]
        assert len(at_once) >= 16 and len(when_idle) <= MAX_CONNECTIONS  # beyond the cap: refused at once
        assert min(when_idle) > IDLE_TIMEOUT - 1 and max(when_idle) < IDLE_TIMEOUT + 6  # the rest: when idle
    finally:
        for sock in sockets:
            sock.close()
    assert call(panel.port, "GET", "/api/stats")[0] == 200


def test_tokens_stay_out_of_urls_and_logs_and_the_real_address_is_reported(panel, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigError, match="at least 16"):
        ControlServer(panel.pipeline, "0.0.0.0", 0, token="a")
    server = ControlServer(panel.pipeline, "0.0.0.0", 0, token=TOKEN)
    server.start()
    try:
        port = server.port
        lines = [r.getMessage() for r in caplog.records]
        assert f"control panel listening on 0.0.0.0:{port} (every network interface" in "\n".join(lines)
        links = re.findall(r"http://\S+/login\?code=(\S+)", "\n".join(lines))
        assert len(links) == 1
        bearer = {"Authorization": f"Bearer {TOKEN}"}
        assert call(port, "GET", f"/api/effects?token={TOKEN}")[0] == 401  # never in a URL
        assert call(port, "GET", "/api/effects", headers={"X-Edgefx-Token": TOKEN})[0] == 401
        assert call(port, "GET", "/api/effects", headers={"Authorization": "Bearer wrong-token-0123456789"})[0] == 401
        assert call(port, "GET", "/", headers={"Authorization": f"Basic {TOKEN}"})[0] == 401
        assert call(port, "GET", "/api/effects", headers=bearer)[0] == 200
        # scripts: Bearer without Origin may POST; a foreign Origin may not, even with the token
        toggle, script = "/api/effects/stats/toggle", {**bearer, "Content-Type": "application/json"}
        assert call(port, "POST", toggle, b'{"enabled": true}', script)[0] == 200
        assert call(port, "POST", toggle, b'{"enabled": true}', {**script, "Origin": "http://evil.example"})[0] == 403
        # browsers: the one-time link sets an HttpOnly, SameSite=Strict session cookie, once
        assert call(port, "GET", "/login?code=wrong")[0] == 401
        status, headers, _ = call(port, "GET", f"/login?code={links[0]}")
        assert status == 303 and headers["location"] == "/"
        cookie = headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
        session = {"Cookie": cookie.split(";")[0]}
        assert call(port, "GET", f"/login?code={links[0]}")[0] == 401  # spent
        assert call(port, "GET", "/api/effects", headers=session)[0] == 200
        status, _, body = call(port, "GET", "/api/session", headers=session)
        page = {**session, "Origin": f"http://127.0.0.1:{port}", "X-CSRF-Token": json.loads(body)["csrf"],
                "Content-Type": "application/json"}
        assert call(port, "POST", toggle, b'{"enabled": true}', {**page, "X-CSRF-Token": "x"})[0] == 403
        assert call(port, "POST", toggle, b'{"enabled": true}', page)[0] == 200
        again = re.findall(r"next one-time login link: http://\S+/login\?code=(\S+)",
                           "\n".join(r.getMessage() for r in caplog.records))
        assert again and again[-1] != links[0]
    finally:
        server.stop()
    for record in caplog.records:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        assert TOKEN not in text, record


def _fuzz_value(rng: random.Random, depth: int = 0):
    kind = rng.randrange(12 if depth < 4 else 8)
    if kind == 0:
        return rng.choice([0, -1, 1, 2**31, -2**63, 10**30, 3.5, -0.0, 1e308, 5e-324])
    if kind == 1:
        return rng.choice([True, False, None])
    if kind == 2:
        return "".join(chr(rng.choice([0, 7, 0x7F, 0xE9, 0x202E, 0xFFFF, 0x1F600, 0x41, 0x2F, 0x2E, 0x3A, 0x5C]))
                       for _ in range(rng.randrange(40)))
    if kind == 3:
        return rng.choice(["", "blur", "image", "path", "strength", "scale", "../../etc/passwd", "pipe:0",
                           "coffee.png", "x" * 10_000, "control", "snow", "\u0000", "%00", "<script>"])
    if kind in (4, 5, 6, 7):
        return rng.choice(["background", "stats", "nosuch", "mode", "path", "refresh", "enabled", "option"])
    if kind in (8, 9):
        return [_fuzz_value(rng, depth + 1) for _ in range(rng.randrange(5))]
    return {rng.choice(["cmd", "option", "value", "path", "enabled", "word", "key", "name", "data", "effect",
                        "id"]): _fuzz_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def _fuzz_body(rng: random.Random) -> bytes:
    kind = rng.randrange(10)
    if kind == 0:
        return rng.choice([b"NaN", b'{"value": Infinity}', b'{"option": "scale", "value": -Infinity}',
                           b'{"option": "strength", "value": 1e999}'])
    if kind == 1:
        return bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))  # not UTF-8, not JSON
    if kind == 2:
        return b"[" * rng.randrange(17, 20_000) + b"]" * 3
    if kind == 3:
        return json.dumps(_fuzz_value(rng)).encode()[: rng.randrange(1, 50)]  # cut short
    if kind == 4:
        return b'"' + b"a" * rng.randrange(60_000, 70_000) + b'"'
    return json.dumps({"option": _fuzz_value(rng), "value": _fuzz_value(rng), "path": _fuzz_value(rng),
                       "enabled": _fuzz_value(rng), "word": _fuzz_value(rng), "key": _fuzz_value(rng),
                       "name": _fuzz_value(rng), "data": _fuzz_value(rng)}).encode()


def test_fuzz_every_route_no_5xx_and_no_traceback(panel, caplog) -> None:
    """A bounded fuzz loop (fixed seed): every route, random JSON types, NaN, huge and deep values,
    bad encodings, odd names in the path; with the panel's headers, so the handlers are reached."""
    caplog.set_level(logging.DEBUG)
    rng = random.Random(26)
    routes = [r for r in panel.server.routes() if r.path not in ("/api/preview.mjpg", "/api/ws")]
    names = ["background", "stats", "nosuch", "%00", "a" * 300, "%FF", "..", "%2e%2e", "b%C3%A4"]
    statuses: dict[int, int] = {}
    for i in range(400):
        route = rng.choice(routes)
        path = route.path.replace("{name}", rng.choice(names))
        if rng.random() < 0.2:
            path += "?" + rng.choice(["x=%00", "token=" + "a" * 100, "code=%FF", "a=1&a=2"])
        method = route.method if rng.random() < 0.85 else rng.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
        if path.startswith("/api/preview.jpg") and method == "GET" and i % 10:
            continue  # waits for a frame: a few are enough
        headers = dict(panel.ok)
        if rng.random() < 0.1:
            headers["Content-Type"] = rng.choice(["application/json; charset=latin-1", "text/plain", "application/json;"
                                                  " charset=utf-16", "application/jsonx"])
        status, reply_headers, body = call(panel.port, method, path, _fuzz_body(rng) if method != "GET" else None,
                                           headers)
        statuses[status] = statuses.get(status, 0) + 1
        assert status < 500, (method, path, body[:300])
        if reply_headers.get("content-type", "").startswith("application/json"):
            strict_json(body)
    assert statuses.get(200, 0) > 5 and sum(n for s, n in statuses.items() if 400 <= s < 500) > 100

    async def websocket() -> list[int]:  # the same kind of messages over the WebSocket
        replies = []
        async with aiohttp.ClientSession() as session, session.ws_connect(
                f"http://127.0.0.1:{panel.port}/api/ws") as ws:
            for _ in range(150):
                message = _fuzz_body(rng) if rng.random() < 0.5 else json.dumps(
                    {"cmd": rng.choice(["toggle", "set", "media", "trigger", "event", "hotkey", "x"]),
                     "effect": _fuzz_value(rng), "option": _fuzz_value(rng), "value": _fuzz_value(rng),
                     "id": _fuzz_value(rng)}).encode()
                if len(message) > 60_000:
                    continue  # beyond max_msg_size the server closes with 1009, as it should
                with contextlib.suppress(UnicodeDecodeError):
                    await ws.send_str(message.decode())
                    while (reply := await ws.receive_json())["type"] != "reply":
                        pass
                    replies.append(reply["status"])
        return replies

    replies = asyncio.run(websocket())
    assert len(replies) > 100 and max(replies) < 500
    problems = [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR or "Traceback" in r.getMessage()]
    assert not problems, [r.getMessage() for r in problems][:5]
    assert call(panel.port, "GET", "/api/effects")[0] == 200
