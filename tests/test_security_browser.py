"""Issue 26's browser attack, in Debian's headless Chromium: a page from another origin
(http://127.0.0.2) tries to toggle effects and change an option on a real ``edgefx -v run --control``
with empty and JSON-in-text ``fetch(mode: "no-cors")``, a CORS ``fetch``, auto-submitted empty and
text/plain ``<form method=POST>``, a WebSocket, reading the CSRF token and framing the panel. Once
on the default loopback bind (no login) and once with a token, the browser logged in through the
one-time link first (so its session cookie exists). Nothing changes; and the token is never
printed, even at debug level. (Against the panel before issue 26 the same page switched the
overlay off and the particles on.)"""

from __future__ import annotations

import http.server
import json
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from functools import partial
from pathlib import Path

import pytest
from test_control_browser import free_port, wait_for

TOKEN = "browser-attack-token-7d2e41c9"
ATTACK = """<!doctype html><title>cute cats</title>
<iframe name="sink"></iframe><iframe name="sink2"></iframe>
<form id="empty" method="POST" action="TARGET/api/effects/particles/toggle" target="sink"></form>
<form id="json" method="POST" action="TARGET/api/effects/stats/options" enctype="text/plain" target="sink2">
  <input name='{"option": "scale", "value": 2, "x": "' value='"}'></form>
<iframe id="framed" src="TARGET/"></iframe>
<script>
const results = {};
async function attack() {
  await fetch("TARGET/api/effects/stats/toggle", { method: "POST", mode: "no-cors", credentials: "include" })
    .then(() => { results.nocors = "sent"; }, (e) => { results.nocors = String(e); });
  await fetch("TARGET/api/effects/stats/options", { method: "POST", mode: "no-cors", credentials: "include",
                                                    body: '{"option": "scale", "value": 2}' }).catch(() => {});
  await fetch("TARGET/api/effects/stats/options", { method: "POST", credentials: "include",
                                                    headers: { "Content-Type": "application/json" },
                                                    body: '{"option": "scale", "value": 2}' })
    .then((r) => { results.cors = r.status; }, (e) => { results.cors = "blocked"; });
  await fetch("TARGET/api/session", { credentials: "include" })
    .then((r) => r.text()).then((t) => { results.read = t; }, () => { results.read = "blocked"; });
  await new Promise((resolve) => {
    const ws = new WebSocket("TARGET".replace("http", "ws") + "/api/ws");
    ws.onopen = () => { ws.send(JSON.stringify({ cmd: "set", effect: "stats", option: "scale", value: 2 }));
                        results.ws = "open"; setTimeout(resolve, 500); };
    ws.onerror = () => { results.ws = "refused"; resolve(); };
  });
  document.getElementById("empty").submit();
  document.getElementById("json").submit();
  results.done = true;
}
attack();
</script>"""


class Engine:
    """``edgefx -v run`` with the panel on 127.0.0.1 (and ``token``); its output is collected."""

    def __init__(self, tmp: Path, token: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "edgefx.cli", "-v", "run", "-i", "testsrc:?live=1&size=320x240&duration=120",
               "-o", "null", "--effects", "stats,particles", "--control", f"127.0.0.1:{self.port}", "--no-progress"]
        if token:
            cmd += ["--set", f"control.token={token}"]
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.proc = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        threading.Thread(target=lambda: self.lines.extend(iter(self.proc.stdout.readline, "")), daemon=True).start()
        wait_for(lambda: any("control panel" in line for line in self.lines) or self.proc.poll() is not None,
                 30, "the control panel")

    def effects(self) -> dict[str, tuple[bool, float]]:
        """Effect name -> (enabled, the stats overlay's scale)."""
        request = urllib.request.Request(f"{self.base}/api/effects", headers=self.headers)
        with urllib.request.urlopen(request, timeout=10) as r:
            listed = json.loads(r.read())
        return {fx["name"]: (fx["enabled"], fx["options"].get("scale", {}).get("value")) for fx in listed}

    def login_link(self) -> str:
        links = re.findall(r"(http://\S+/login\?code=\S+)", "".join(self.lines))
        assert links, "".join(self.lines)
        return links[-1]

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(20)
        time.sleep(0.2)
        return "".join(self.lines)


@pytest.fixture(scope="module")
def attacker(tmp_path_factory):
    """The attacking page's folder, served on 127.0.0.2 (another origin than 127.0.0.1)."""
    folder = tmp_path_factory.mktemp("evil")
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), partial(http.server.SimpleHTTPRequestHandler,
                                                                        directory=str(folder)))
    server.log_message = lambda *args: None
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield folder, f"http://127.0.0.2:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("token", ["", TOKEN], ids=["loopback-no-login", "logged-in-with-token"])
def test_a_page_from_another_origin_cannot_drive_or_read_the_panel(tmp_path, attacker, browser, token) -> None:
    from selenium.webdriver.common.by import By

    engine = Engine(tmp_path, token)
    try:
        if token:  # the user logged in through the one-time link: the session cookie is in the browser
            browser.get(engine.login_link())
            assert browser.current_url == f"{engine.base}/"
        else:
            browser.get(f"{engine.base}/")
        wait_for(lambda: browser.find_elements(By.ID, "toggle-stats"), what="the panel")
        before = engine.effects()
        assert before["stats"] == (True, 0.0) and set(before) == {"stats", "particles"}

        folder, origin = attacker
        (folder / "cats.html").write_text(ATTACK.replace("TARGET", engine.base))
        browser.get(f"{origin}/cats.html")
        results = wait_for(lambda: browser.execute_script("return results.done ? results : null"), 15,
                           "the attack to run")
        time.sleep(1.5)  # the form's request lands in the frame
        assert engine.effects() == before  # none of the attempts switched an effect off or changed an option
        assert results["nocors"] in ("sent", "TypeError: Failed to fetch")  # CORP same-origin: not even opaque
        assert results["cors"] == "blocked" and results["read"] == "blocked" and results["ws"] == "refused"
        browser.switch_to.frame(browser.find_element(By.ID, "framed"))
        assert browser.execute_script("return location.href").startswith("chrome-error:")  # frame-ancestors 'none'
        browser.switch_to.default_content()
    finally:
        out = engine.stop()
    assert "control panel listening on 127.0.0.1:" in out and "Traceback" not in out
    if token:
        assert TOKEN not in out and "DEBUG" in out  # debug level, and still no token in any line
