"""The control API of an in-process run bound to 127.0.0.1: no token needed there, commands over
the WebSocket, changes and events arrive on the loop thread, media paths stay inside their folders."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from edgefx.config import load_settings
from edgefx.control.commands import ControlError, media_path
from edgefx.events import Event
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

aiohttp = pytest.importorskip("aiohttp", reason="the control panel needs its extra: pip install -e '.[control]'")


def test_media_paths_stay_inside_the_media_folders(tmp_path: Path) -> None:
    media, other = tmp_path / "media", tmp_path / "other"
    (media / "masks").mkdir(parents=True)
    other.mkdir()
    (media / "masks" / "cat.json").write_text("{}")
    (other / "secret.json").write_text("{}")
    os.symlink(other / "secret.json", media / "link.json")
    assert media_path("masks/cat.json", [other, media]) == (media / "masks" / "cat.json").resolve()
    for bad in ("../other/secret.json", "masks/../../other/secret.json", str(other / "secret.json"),
                "link.json", "~/secret.json", "masks/missing.json", "masks", "", None, "C:/x.json"):
        with pytest.raises(ControlError) as info:
            media_path(bad, [media])
        assert info.value.status == 400 and "media folder" in info.value.message, bad


def test_file_options_take_only_files_inside_the_media_folders() -> None:
    from edgefx.control.commands import check
    from edgefx.plugins.face_mask.effect import FaceMask

    effects = {"face_mask": FaceMask()}
    for value in ("/etc/passwd", "../x.json", "masks/cat.json", ["glasses", "~/evil.json"]):
        key = "accessories" if isinstance(value, list) else "mask"
        with pytest.raises(ControlError, match="media folder"):
            check({"cmd": "set", "effect": "face_mask", "option": key, "value": value}, effects, [])
    event = check({"cmd": "set", "effect": "face_mask", "option": "mask", "value": "skull"}, effects, [])
    assert event.data["value"] == "skull" and effects["face_mask"].settings["mask"] == "tiger"  # not applied yet


def test_loopback_panel_websocket_commands_and_events_on_the_loop_thread() -> None:
    rule = {"keyword": "show", "effect": "stats", "action": "on"}  # a [[triggers]] rule the panel can fire
    settings = load_settings(None, {"input.url": "testsrc:?live=1&size=320x240&duration=6", "output.url": "null",
                                    "run.effects": ["stats"], "control.enabled": True, "control.port": 0,
                                    "triggers": [rule]})
    seen: list[tuple[Event, str]] = []
    box: dict = {}

    def run() -> None:
        box["result"] = execute(settings, Registry(), on_open=lambda p: box.setdefault("pipeline", p),
                                on_event=lambda e: seen.append((e, threading.current_thread().name)))

    thread = threading.Thread(target=run, name="engine-loop", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while "pipeline" not in box and time.monotonic() < deadline:
        time.sleep(0.05)
    from edgefx.plugins.control import _servers

    server = _servers[id(box["pipeline"])]
    assert server.token == "" and server.host == "127.0.0.1"
    replies = asyncio.run(talk(f"http://127.0.0.1:{server.port}"))
    thread.join(20)
    assert replies["toggle"] == {"effect": "stats", "enabled": False, "settings": {"refresh": 10, "scale": 0.0}}
    assert replies["unknown"]["status"] == 404
    assert replies["rebinding"] == 403  # a page on another host name cannot drive the panel
    assert replies["stats"]["fps"] > 10 and "p99" in replies["stats"]["frame_ms"]
    by_name = {e.name: (e, thread_name) for e, thread_name in seen}
    assert by_name["hotkey"][0].data == {"key": "b"} and by_name["snow"][0].data == {"amount": 3}
    assert by_name["trigger"][0].data == {"word": "show"} and replies["trigger"] == {"published": "trigger"}
    assert by_name["control"][0].data["effect"] == "stats"
    assert {thread_name for _e, thread_name in by_name.values()} == {"engine-loop"}
    assert box["pipeline"].effects["stats"].enabled is True  # off by the toggle, on again by the trigger rule
    assert not _servers  # stopped with the run


async def talk(base: str) -> dict:
    out: dict = {}
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{base}/api/ws") as ws:
            first = await ws.receive_json()
            assert first["type"] == "effects" and first["effects"][0]["enabled"] is True
            commands = {"toggle": {"cmd": "toggle", "effect": "stats", "enabled": False},
                        "unknown": {"cmd": "set", "effect": "nosuch", "option": "x", "value": 1},
                        "hotkey": {"cmd": "hotkey", "key": "b"},
                        "snow": {"cmd": "event", "name": "snow", "data": {"amount": 3}},
                        "trigger": {"cmd": "trigger", "word": "show"}}
            for i, (label, command) in enumerate(commands.items()):
                await ws.send_json({"id": i, **command})
                while (msg := await ws.receive_json())["type"] != "reply":
                    if msg["type"] == "stats":
                        out["stats"] = msg
                assert msg["id"] == i
                out[label] = msg["body"] if msg["status"] == 200 else msg
            while out.get("stats", {}).get("frames", 0) < 30:  # pushed every second
                msg = await ws.receive_json()
                if msg["type"] == "stats":
                    out["stats"] = msg
        async with session.get(f"{base}/api/effects", headers={"Host": "evil.example"}) as r:
            out["rebinding"] = r.status
    return out


def test_switching_the_background_image_through_the_panel_changes_the_preview(tmp_path: Path) -> None:
    """The media command end to end: real photos in a media folder, the background effect (person
    segmentation on testsrc2 finds nobody, so the whole frame becomes the backdrop)."""
    import cv2
    import numpy as np
    from skimage import data

    registry = Registry()
    if "background" not in registry.effects:
        pytest.skip("the background effect is not installed")
    media = tmp_path / "media"
    media.mkdir()
    photos = {name: cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR) for name in ("coffee", "chelsea")}
    for name, image in photos.items():
        cv2.imwrite(str(media / f"{name}.png"), image)
    (media / "notes.txt").write_text("not an image")
    settings = load_settings(None, {"input.url": "testsrc:?live=1&size=320x240&duration=8", "output.url": "null",
                                    "run.effects": ["background"], "effects.background.mode": "image",
                                    "effects.background.path": str(media / "coffee.png"),
                                    "control.enabled": True, "control.port": 0, "control.media": [str(media)]})
    box: dict = {}
    thread = threading.Thread(target=lambda: execute(settings, registry, on_open=lambda p: box.setdefault("p", p)),
                              daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while "p" not in box and time.monotonic() < deadline:
        time.sleep(0.05)
    from edgefx.plugins.control import _servers

    base = f"http://127.0.0.1:{_servers[id(box['p'])].port}"

    def closest(jpeg: bytes) -> str:
        shot = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR).astype(np.float32)
        diffs = {name: float(np.abs(cv2.resize(img, (320, 240), interpolation=cv2.INTER_AREA) - shot).mean())
                 for name, img in photos.items()}  # both photos are 4:3 like the frame: cover = resize
        return min(diffs, key=diffs.get)

    async def session_run() -> dict:
        out: dict = {}
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/api/session") as r:  # what the panel's page sends with a POST
                page = {"Origin": base, "X-CSRF-Token": (await r.json())["csrf"]}

            async def post(path: str) -> tuple[int, dict]:
                async with session.post(f"{base}/api/effects/background/media",
                                        json={"option": "path", "path": path}, headers=page) as r:
                    return r.status, await r.json()

            async def shot() -> bytes:
                async with session.get(f"{base}/api/preview.jpg") as r:
                    assert r.status == 200
                    return await r.read()

            out["before"] = closest(await shot())
            out["switch"] = await post("chelsea.png")
            out["after"] = closest(await shot())
            out["escape"] = await post("../media/../coffee.png")
            out["not_image"] = await post("notes.txt")
            out["kept"] = closest(await shot())
        return out

    out = asyncio.run(session_run())
    thread.join(20)
    assert out["before"] == "coffee" and out["after"] == "chelsea"
    status, body = out["switch"]
    assert status == 200 and body["settings"]["path"] == str((media / "chelsea.png").resolve())
    assert out["escape"][0] == 400 and "'..'" in out["escape"][1]["error"]
    assert out["not_image"][0] == 400 and "notes.txt" in out["not_image"][1]["error"]  # the effect refused it
    assert out["kept"] == "chelsea"  # and kept the previous picture


def test_the_panel_lists_media_files_but_not_hidden_ones_or_links_that_leave(tmp_path: Path) -> None:
    from edgefx.control.commands import describe, media_files, media_name
    from edgefx.plugins.background.effect import Background

    media, other = tmp_path / "media", tmp_path / "other"
    (media / "backs").mkdir(parents=True)
    other.mkdir()
    (media / "backs" / "beach.jpg").write_bytes(b"x")
    (media / "mask.json").write_text("{}")
    (media / ".hidden.jpg").write_bytes(b"x")
    (other / "secret.jpg").write_bytes(b"x")
    os.symlink(other / "secret.jpg", media / "link.jpg")
    os.symlink(other, media / "outside")
    assert media_files([media, tmp_path / "missing"]) == ["backs/beach.jpg", "mask.json"]
    assert media_name(str((media / "backs" / "beach.jpg").resolve()), [media]) == "backs/beach.jpg"
    path = describe({"background": Background()}, [media])[0]["options"]["path"]
    assert path["control"] == "media" and path["files"] == ["backs/beach.jpg", "mask.json"]
    assert path["multiple"] is False and path["selected"] is None and "NoneType" in path["type"]


BOOM_PLUGIN = '''
import edgefx


class Boom(edgefx.Effect):
    """Raises on every frame, so isolation disables it."""

    name = "panel_boom"

    def apply(self, frame, ctx):
        raise RuntimeError("kaboom")


@edgefx.hookimpl
def edgefx_effects():
    return [Boom]
'''


def test_the_panel_shows_a_plugin_that_isolation_disabled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin disabled for failing is off in the panel with the reason, and switching it on is
    refused with that reason (before: it showed as on, and a toggle answered as if it worked)."""
    from importlib.metadata import EntryPoint, entry_points

    module = f"panel_boom_{tmp_path.name}"
    (tmp_path / f"{module}.py").write_text(BOOM_PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    builtins = [ep for ep in entry_points(group="edgefx") if ep.name in ("io", "control")]
    registry = Registry([*builtins, EntryPoint("boom", module, "edgefx")])
    settings = load_settings(None, {"input.url": "testsrc:?live=1&size=320x240&duration=8", "output.url": "null",
                                    "run.effects": ["panel_boom"], "control.enabled": True, "control.port": 0})
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", execute(
        settings, registry, on_open=lambda p: box.setdefault("pipeline", p))), daemon=True)
    thread.start()

    def disabled() -> dict[str, str]:
        return box["pipeline"].guard.disabled if "pipeline" in box else {}

    deadline = time.monotonic() + 15
    while "panel_boom" not in disabled() and time.monotonic() < deadline:
        time.sleep(0.05)
    from edgefx.plugins.control import _servers

    server = _servers[id(box["pipeline"])]
    assert "panel_boom" in disabled()

    async def ask() -> tuple[dict, int, dict]:
        base = f"http://127.0.0.1:{server.port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/api/effects") as r:
                listed = {fx["name"]: fx for fx in await r.json()}["panel_boom"]
            async with session.get(f"{base}/api/session") as r:
                csrf = (await r.json())["csrf"]
            async with session.post(f"{base}/api/effects/panel_boom/toggle", json={"enabled": True},
                                    headers={"Origin": base, "X-CSRF-Token": csrf}) as r:
                return listed, r.status, await r.json()

    listed, status, body = asyncio.run(ask())
    thread.join(20)
    assert listed["enabled"] is False and "kaboom" in listed["disabled"], listed
    assert status == 409 and "disabled for the rest of the run" in body["error"] and "kaboom" in body["error"], body
