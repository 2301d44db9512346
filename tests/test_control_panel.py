"""The control panel page of a real ``edgefx run`` (subprocess on loopback) driven by Debian's
headless Chromium through Selenium, as a streamer uses it: a colour picker, dropdowns of masks,
accessories and media files, a slider applied while it moves, trigger buttons and the event log.
Every change is checked in the engine's state through the API. Also: screenshots at desktop and
phone sizes (``EDGEFX_DOCS_IMAGES=1`` writes them to docs/images/ for docs/streaming.md)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import cv2
import numpy as np
import pytest

DOCS_IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"
PRESET = """\
[run]
effects = ["background", "face_mask", "particles", "stats"]

[[triggers]]
keyword = "snow"
effect = "particles"
action = "pulse"
seconds = 5.0

[[triggers]]
keyword = "hearts"
effect = "particles"
action = "set"
option = "kind"
value = "hearts"

[[triggers]]
hotkey = "s"
effect = "particles"
action = "toggle"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def api(url: str, body: dict | None = None) -> tuple[int, dict]:
    """A GET, or a POST of ``body`` as the panel's page sends it (its origin and CSRF token)."""
    data = json.dumps(body).encode() if body is not None else None
    headers = {}
    if data is not None:
        origin = url.split("/api/")[0]
        headers = {"Content-Type": "application/json", "Origin": origin,
                   "X-CSRF-Token": api(f"{origin}/api/session")[1]["csrf"]}
    request = urllib.request.Request(url, data, headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def options(base: str, effect: str) -> dict:
    """The engine's current settings of ``effect`` (name -> value)."""
    fx = next(e for e in api(f"{base}/api/effects")[1] if e["name"] == effect)
    return {key: opt["value"] for key, opt in fx["options"].items()}


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("panel")
    media = tmp / "media"
    media.mkdir()
    beach = np.zeros((180, 320, 3), np.uint8)
    beach[:90] = (235, 180, 90)  # sky
    beach[90:] = (120, 200, 230)  # sand
    cv2.imwrite(str(media / "beach.png"), beach)
    (tmp / "panel.toml").write_text(PRESET)
    port = free_port()
    cmd = [sys.executable, "-m", "edgefx.cli", "run", "-c", str(tmp / "panel.toml"),
           "-i", "testsrc:?live=1&size=480x270&duration=240", "-o", "null", "--control", f"127.0.0.1:{port}",
           "--set", f"control.media=['{media}']", "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if api(f"{base}/api/stats")[0] == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        proc.wait(10)
        pytest.fail("control panel did not come up:\n" + "".join(lines))
    yield base, media
    proc.send_signal(signal.SIGINT)
    proc.wait(30)


def test_the_api_describes_each_option_s_control(engine) -> None:
    base, _ = engine
    described = {fx["name"]: fx["options"] for fx in api(f"{base}/api/effects")[1]}
    background, mask = described["background"], described["face_mask"]
    assert background["colour"]["control"] == "colour"
    assert background["strength"]["control"] == "slider"
    assert background["strength"]["step"] == pytest.approx(0.001)
    assert background["mode"]["control"] == "select" and background["fit"]["control"] == "select"
    assert described["particles"]["always_on"]["control"] == "checkbox"
    assert described["particles"]["max"]["step"] == 1
    media_options = {(name, key) for name, opts in described.items() for key, o in opts.items() if o["media"]}
    assert media_options == {("background", "path"), ("face_mask", "mask"), ("face_mask", "accessories")}
    assert mask["mask"]["names"] == ["clown", "masquerade", "skull", "tiger", "none"]
    assert mask["mask"]["files"] == ["beach.png"] and mask["accessories"]["multiple"] is True
    assert api(f"{base}/api/triggers")[1]["words"] == ["hearts", "snow"]


def test_an_unknown_trigger_word_is_refused_naming_the_configured_ones(engine) -> None:
    base, _ = engine
    status, body = api(f"{base}/api/triggers", {"word": "sbow"})
    assert status == 400 and "no trigger fires on 'sbow'" in body["error"] and "hearts, snow" in body["error"]
    assert api(f"{base}/api/triggers", {"word": "SNOW"})[0] == 200


def test_a_streamer_drives_the_panel_in_the_browser(engine, browser) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base, _ = engine
    browser.get(base + "/")
    find = browser.find_element
    wait_for(lambda: browser.find_elements(By.ID, "opt-background-colour"), what="the effect controls")

    # colour picker -> [B, G, R] ints (the bug: strings, "['255', '0', '0'] is not a colour")
    browser.execute_script("const c = arguments[0]; c.value = '#ff0000'; c.dispatchEvent(new Event('input'))",
                           find(By.ID, "opt-background-colour"))
    wait_for(lambda: options(base, "background")["colour"] == [0, 0, 255], what="the colour to reach the engine")
    assert find(By.ID, "error").text == ""

    # a shipped mask and an accessory from their dropdowns
    Select(find(By.ID, "opt-face_mask-mask")).select_by_value("skull")
    wait_for(lambda: options(base, "face_mask")["mask"] == "skull", what="the mask")
    accessories = Select(find(By.ID, "opt-face_mask-accessories"))
    accessories.select_by_value("glasses")
    wait_for(lambda: options(base, "face_mask")["accessories"] == ["glasses"], what="the accessory")

    # a background image from the media folder, then mode image; both choices stay put
    Select(find(By.ID, "opt-background-path")).select_by_value("beach.png")
    wait_for(lambda: str(options(base, "background")["path"]).endswith("/beach.png"), what="the image")
    Select(find(By.ID, "opt-background-mode")).select_by_value('"image"')
    wait_for(lambda: options(base, "background")["mode"] == "image", what="mode image")
    time.sleep(1.5)  # several state pushes later the dropdowns still show what was picked
    assert Select(find(By.ID, "opt-background-path")).first_selected_option.text == "beach.png"
    assert Select(find(By.ID, "opt-face_mask-mask")).first_selected_option.text == "skull"
    assert find(By.ID, "error").text == ""

    # a slider dragged: applied while it moves, not only on release
    slider = find(By.ID, "opt-face_mask-opacity")
    assert options(base, "face_mask")["opacity"] == 1.0
    width = slider.size["width"]
    drag = ActionChains(browser).move_to_element_with_offset(slider, width // 2 - 2, 0).click_and_hold()  # right end
    for _ in range(9):  # three quarters of the way to the left, in steps
        drag.move_by_offset(-width // 12, 0).pause(0.15)
    drag.perform()
    wait_for(lambda: options(base, "face_mask")["opacity"] < 0.9, what="the slider to apply while held")
    ActionChains(browser).release().perform()
    wait_for(lambda: options(base, "face_mask")["opacity"] < 0.4, what="the slider's final value")
    shown = float(slider.get_attribute("value"))
    assert options(base, "face_mask")["opacity"] == pytest.approx(shown, abs=0.011)
    wait_for(lambda: f"set face_mask.opacity = {options(base, 'face_mask')['opacity']}" in find(By.ID, "events").text,
             what="the slider's last value in the event log")
    assert find(By.ID, "events").text.count("set face_mask.opacity") == 1  # one line per drag, not per step

    # a file the mask cannot use: refused with the reason, and the dropdown goes back to the engine's mask
    Select(find(By.ID, "opt-face_mask-mask")).select_by_value("beach.png")
    wait_for(lambda: "mask" in find(By.ID, "error").text, what="the refusal")
    assert options(base, "face_mask")["mask"] == "skull"
    assert Select(find(By.ID, "opt-face_mask-mask")).first_selected_option.text == "skull"

    # a trigger from the list: the engine switches particles on and the event log shows it
    assert options(base, "particles") and not next(
        e for e in api(f"{base}/api/effects")[1] if e["name"] == "particles")["enabled"]
    find(By.ID, "trigger-snow").click()
    wait_for(lambda: next(e for e in api(f"{base}/api/effects")[1] if e["name"] == "particles")["enabled"],
             what="the trigger to switch particles on")
    log = wait_for(lambda: [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#events li")
                            if "fired 'snow'" in li.text], what="the trigger in the event log")
    assert "particles: pulse" in log[0]
    assert any(e["text"] == "fired 'snow'" and e["fired"] == ["particles: pulse"]
               for e in api(f"{base}/api/events")[1]["events"])
    wait_for(lambda: find(By.ID, "toggle-particles").text.endswith("on"), what="the page to show particles on")

    # a hotkey typed on the page (focus on the page, not in a text box)
    find(By.ID, "toggle-stats").click()  # the focus is on a button now
    wait_for(lambda: not next(e for e in api(f"{base}/api/effects")[1] if e["name"] == "stats")["enabled"],
             what="the toggle")
    ActionChains(browser).send_keys("4").perform()  # key 4: the 4th effect, stats
    wait_for(lambda: next(e for e in api(f"{base}/api/effects")[1] if e["name"] == "stats")["enabled"],
             what="key 4 to switch stats on again")


@pytest.mark.parametrize(("size", "mobile"), [((1280, 900), False), ((390, 844), True)], ids=["desktop", "phone"])
def test_screenshots_at_desktop_and_phone_sizes(engine, browser, tmp_path, size, mobile) -> None:
    from selenium.webdriver.common.by import By

    base, _ = engine
    width, height = size
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    browser.get(base + "/")
    wait_for(lambda: browser.find_elements(By.ID, "toggle-background"), what="the effect list")
    preview = browser.find_element(By.ID, "preview")
    wait_for(lambda: browser.execute_script("return arguments[0].naturalWidth", preview) > 0, what="the preview")
    wait_for(lambda: "fps" in browser.find_element(By.ID, "stats").text, what="stats")
    api(f"{base}/api/triggers", {"word": "snow"})
    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, "#events li"), what="an event in the log")
    time.sleep(1.0)  # a few particles fall into the preview
    browser.execute_script("window.scrollTo(0, 0)")
    # nothing wider than the screen: no sideways scrolling on a phone
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    name = f"control-panel-{'phone' if mobile else 'desktop'}.png"
    png = browser.get_screenshot_as_png()
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (height, width)
    out = DOCS_IMAGES if os.environ.get("EDGEFX_DOCS_IMAGES") else tmp_path
    (out / name).write_bytes(png)
