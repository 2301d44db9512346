"""The control panel of a real ``edgefx run`` (subprocess, bound to 0.0.0.0 with a token) driven by
Debian's headless Chromium through Selenium: the browser logs in through the one-time link the
engine logs, and clicking an effect's toggle changes the live preview. Also: requests without the
token are refused, and bad input (unknown effect, files for options that take none, out-of-range
values) is refused with the status and reason."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest

TOKEN = "test-token-8c1f-5a9e2b"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url: str, body: dict | None = None, token: str | None = TOKEN) -> tuple[int, dict | bytes]:
    """One HTTP request, as a script sends it (the token as a Bearer header); returns (status, JSON
    body or raw bytes)."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=10) as r:
            status, raw, kind = r.status, r.read(), r.headers.get_content_type()
    except urllib.error.HTTPError as err:
        status, raw, kind = err.code, err.read(), err.headers.get_content_type()
    return status, json.loads(raw) if kind == "application/json" else raw


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """``edgefx run`` on live testsrc2 with the stats overlay (scale 1: the top 78 rows darkened)."""
    tmp = tmp_path_factory.mktemp("control")
    media = tmp / "media"
    media.mkdir()
    (media / "glasses.json").write_text("{}")
    (tmp / "secret.json").write_text("{}")
    port = free_port()
    cmd = [sys.executable, "-m", "edgefx.cli", "run", "-i", "testsrc:?live=1&size=640x360&duration=90", "-o", "null",
           "--effects", "stats", "--set", "effects.stats.scale=1.0", "--control", f"0.0.0.0:{port}",
           "--set", f"control.token={TOKEN}", "--set", f"control.media=['{media}']", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(f"{base}/api/stats")[0] == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        proc.wait(10)
        pytest.fail("control panel did not come up:\n" + "".join(lines))
    yield base, tmp, lines
    proc.send_signal(signal.SIGINT)
    proc.wait(20)
    out = "".join(lines)
    assert f"control panel listening on 0.0.0.0:{port} (every network interface" in out and TOKEN not in out


def darkened_top(png: bytes) -> bool:
    """Whether the stats box darkens the top of the preview: the cyan bar on the right is at half
    brightness inside the box (rows 12-20 % of the height) and full brightness below it (27-36 %)."""
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    h, w = image.shape[:2]
    cols = slice(int(0.88 * w), int(0.99 * w))
    inside = np.median(image[int(0.12 * h):int(0.20 * h), cols].max(axis=2))
    below = np.median(image[int(0.27 * h):int(0.36 * h), cols].max(axis=2))
    assert below > 200, f"expected testsrc2's cyan bar below the box, got max-channel median {below}"
    return bool(inside < 150)


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_toggle_in_the_browser_changes_the_live_preview(engine, browser) -> None:
    from selenium.webdriver.common.by import By

    base, _, lines = engine
    code = re.findall(r"/login\?code=(\S+)", "".join(lines))[-1]  # the link names the LAN address: use loopback
    browser.get(f"{base}/login?code={code}")
    button = wait_for(lambda: browser.find_elements(By.ID, "toggle-stats"), what="the effect list")[0]
    preview = browser.find_element(By.ID, "preview")
    wait_for(lambda: browser.execute_script("return arguments[0].naturalWidth", preview) == 640, what="MJPEG")
    assert darkened_top(preview.screenshot_as_png)
    wait_for(lambda: "fps" in browser.find_element(By.ID, "stats").text, what="stats over the WebSocket")

    button.click()
    wait_for(lambda: not darkened_top(preview.screenshot_as_png), what="the overlay to disappear from the preview")
    assert call(f"{base}/api/effects")[1][0]["enabled"] is False
    assert browser.find_element(By.ID, "toggle-stats").text.endswith("off")

    browser.find_element(By.ID, "toggle-stats").click()
    wait_for(lambda: darkened_top(preview.screenshot_as_png), what="the overlay to come back")

    browser.find_element(By.TAG_NAME, "body").send_keys("1")  # hotkey: toggle the first effect
    wait_for(lambda: not darkened_top(preview.screenshot_as_png), what="the hotkey to turn the overlay off")


def test_off_localhost_every_request_needs_the_token(engine) -> None:
    base, _, _ = engine
    for path in ("/", "/api/effects", "/api/stats", "/api/preview.jpg", "/api/ws", "/api/session"):
        assert call(base + path, token=None)[0] == 401, path
        assert call(base + path, token="wrong")[0] == 401, path
        assert call(f"{base}{path}?token={TOKEN}", token=None)[0] == 401, path  # never in a URL
    assert call(f"{base}/api/effects/stats/toggle", {"enabled": False}, token=None)[0] == 401
    status, effects = call(f"{base}/api/effects")
    assert status == 200 and effects[0]["name"] == "stats"
    status, jpeg = call(f"{base}/api/preview.jpg")
    assert status == 200 and cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).shape == (360, 640, 3)


def test_bad_commands_are_refused_with_the_reason(engine) -> None:
    base, tmp, _ = engine
    status, body = call(f"{base}/api/effects/nosuch/toggle", {"enabled": False})
    assert status == 404 and "unknown effect 'nosuch'" in body["error"]
    for path in ("../secret.json", str(tmp / "secret.json"), "/etc/passwd", "~/x.json", "glasses.json"):
        status, body = call(f"{base}/api/effects/stats/media", {"option": "refresh", "path": path})
        assert status == 400 and "does not take a file" in body["error"], path
    status, body = call(f"{base}/api/effects/stats/options", {"option": "refresh", "value": 5000})
    assert status == 400 and "out of range" in body["error"]
    status, body = call(f"{base}/api/effects/stats/options", {"option": "nosuch", "value": 1})
    assert status == 400 and "no option 'nosuch'" in body["error"]
    status, body = call(f"{base}/api/effects/stats/options", {"option": "refresh", "value": 20})
    assert status == 200 and body["settings"]["refresh"] == 20  # applied by the loop, reported back
    status, body = call(f"{base}/api/events", {"name": "control"})
    assert status == 400 and "not allowed" in body["error"]
