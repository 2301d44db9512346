"""The control panel's HTTP + WebSocket server (aiohttp on its own thread and event loop).

Routes (JSON unless said otherwise; POST bodies must be ``application/json``)::

    GET  /                          the panel (static page)
    GET  /api/effects               effects with enabled state and options
    POST /api/effects/NAME/toggle   {"enabled": true|false}   (no body: flip)
    POST /api/effects/NAME/options  {"option": "opacity", "value": 0.5}
    POST /api/effects/NAME/media    {"option": "mask", "path": "masks/cat.json"}  (inside [control] media)
    POST /api/triggers              {"word": "snow"}   fire the [[triggers]] rules of that keyword
    POST /api/events                {"name": "clap", "data": {...}}   publish any event
    POST /api/hotkeys               {"key": "b"}
    GET  /api/stats                 fps, frame time p50/p99, drops, the sink's state
    GET  /api/preview.mjpg          the output as MJPEG (image/jpeg snapshots: /api/preview.jpg)
    GET  /api/ws                    stats pushed every second; send {"id": 1, "cmd": "toggle", ...}

Bound to loopback no token is needed unless one is set (the Host header must then name
loopback, against DNS rebinding). Bound elsewhere every request needs the token, as
``?token=``, ``X-Edgefx-Token`` or ``Authorization: Bearer``; without it: 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from aiohttp import WSMsgType, web

from edgefx.control.commands import ControlError, check, describe
from edgefx.control.options import LOOPBACK
from edgefx.errors import ConfigError
from edgefx.frame import Frame
from edgefx.metrics import percentiles

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REPLY_TIMEOUT = 3.0


class Preview:
    """The newest output frame: copied on the loop thread only while someone watches, at most
    ``fps`` times a second; JPEG-encoded on the server side. Also counts the output frame rate."""

    def __init__(self, fps: float) -> None:
        self.period = 1.0 / fps
        self.watchers = 0
        self.seq = 0
        self.stamps: deque[float] = deque(maxlen=60)
        self._image: np.ndarray | None = None
        self._taken = 0.0
        self._lock = threading.Lock()

    def offer(self, frame: Frame) -> None:
        """Frame observer (loop thread): remember a copy of the frame when it is due."""
        now = time.perf_counter()
        self.stamps.append(now)
        if self.watchers and now - self._taken >= self.period:
            image = frame.image.copy()
            with self._lock:
                self._image, self.seq, self._taken = image, self.seq + 1, now

    def fps(self) -> float:
        stamps = list(self.stamps)
        return (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else 0.0

    def jpeg(self) -> bytes | None:
        with self._lock:
            image = self._image
        if image is None:
            return None
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return buf.tobytes() if ok else None


class ControlServer:
    """Serves the panel for one running ``pipeline`` until ``stop``."""

    def __init__(self, pipeline: Any, host: str = "127.0.0.1", port: int = 8091, token: str = "",
                 media: list[str] | None = None, preview_fps: float = 5.0) -> None:
        self.pipeline, self.host, self.port = pipeline, host, port
        self.loopback = host in LOOPBACK
        self.token = token or ("" if self.loopback else secrets.token_urlsafe(16))
        self.media = [Path(m).expanduser() for m in (media if media is not None else ["media"])]
        self.preview = Preview(preview_fps)
        self.sockets: set[web.WebSocketResponse] = set()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}/" + (f"?token={self.token}" if self.token else "")

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind and serve on a daemon thread; raises ``ConfigError`` when the address is taken."""
        ready = threading.Event()
        failure: list[OSError] = []
        runner = web.AppRunner(self._app(), shutdown_timeout=2.0, access_log=None)

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(runner.setup())
                loop.run_until_complete(web.TCPSite(runner, self.host, self.port).start())
                self.port = runner.addresses[0][1]
            except OSError as exc:
                failure.append(exc)
                return
            finally:
                ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="control", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise ConfigError(f"control panel cannot listen on {self.host}:{self.port}: {failure[0]}",
                              f"pick another port: --control {self.host}:{self.port + 1}")
        log.info("control panel at %s", self.url)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._closing = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- app ---------------------------------------------------------------------------------------
    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        static = resources.files("edgefx.control").joinpath("static")
        page = static.joinpath("index.html").read_bytes()

        async def index(_request: web.Request) -> web.Response:
            return web.Response(body=page, content_type="text/html", headers={"Cache-Control": "no-store"})

        app.router.add_get("/", index)
        app.router.add_get("/api/effects", self._effects)
        app.router.add_post("/api/effects/{name}/toggle", self._post("toggle"))
        app.router.add_post("/api/effects/{name}/options", self._post("set"))
        app.router.add_post("/api/effects/{name}/media", self._post("media"))
        app.router.add_post("/api/triggers", self._post("trigger"))
        app.router.add_post("/api/events", self._post("event"))
        app.router.add_post("/api/hotkeys", self._post("hotkey"))
        app.router.add_get("/api/stats", self._stats)
        app.router.add_get("/api/speech", self._speech)
        app.router.add_get("/api/preview.mjpg", self._mjpeg)
        app.router.add_get("/api/preview.jpg", self._snapshot)
        app.router.add_get("/api/ws", self._ws)
        app.on_shutdown.append(self._close_sockets)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token:
            given = (request.query.get("token") or request.headers.get("X-Edgefx-Token")
                     or request.headers.get("Authorization", "").removeprefix("Bearer ").strip())
            if not hmac.compare_digest(given.encode(), self.token.encode()):
                return web.json_response({"error": "token required: add ?token=... (printed at start)"}, status=401)
        if self.loopback and request.host.rsplit(":", 1)[0].strip("[]") not in LOOPBACK:
            return web.json_response({"error": f"host {request.host!r} refused: use 127.0.0.1"}, status=403)
        return await handler(request)

    # -- commands ----------------------------------------------------------------------------------
    async def command(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Check, publish on the bus, wait for the loop to apply it; returns (status, body)."""
        try:
            event = check(request, self.pipeline.effects, self.media)
        except ControlError as exc:
            return exc.status, {"error": exc.message}
        self.pipeline.bus.publish(event)
        reply = event.data.get("reply")
        if reply is None:
            return 200, {"published": event.name}
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(reply), REPLY_TIMEOUT)
        except TimeoutError:
            return 202, {"queued": True}
        except Exception as exc:
            return 400, {"error": str(exc)}
        await self._broadcast({"type": "effects", "effects": describe(self.pipeline.effects)})
        return 200, result

    def _post(self, cmd: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            body: Any = {}
            if request.can_read_body:
                if request.content_type != "application/json":
                    return web.json_response({"error": "send application/json"}, status=415)
                try:
                    body = await request.json()
                except json.JSONDecodeError:
                    return web.json_response({"error": "body is not valid JSON"}, status=400)
            if not isinstance(body, dict):
                return web.json_response({"error": "body must be a JSON object"}, status=400)
            if "name" in request.match_info:
                body["effect"] = request.match_info["name"]
            status, out = await self.command({**body, "cmd": cmd})
            return web.json_response(out, status=status)
        return handle

    async def _effects(self, _request: web.Request) -> web.Response:
        return web.json_response(describe(self.pipeline.effects))

    def stats(self) -> dict[str, Any]:
        """fps, frame time p50/p99 of the last 90 frames, frames, drops and the sink's state."""
        pipeline = self.pipeline
        frame_ms = percentiles(pipeline.metrics.recent_totals(90))
        sink = pipeline.sink
        return {"fps": round(self.preview.fps(), 2), "frame_ms": {k: frame_ms.get(k, 0.0) for k in ("p50", "p99")},
                "frames": pipeline.metrics.count, "source_dropped": pipeline.source.dropped,
                "sink": {"name": sink.name, **sink.stats()}}

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def _speech(self, _request: web.Request) -> web.Response:
        """The speech analyzer's keywords and latest keyword events (empty when it is not running)."""
        speech = self.pipeline.analyzers.get("speech")
        if speech is None:
            return web.json_response({"keywords": [], "recent": [], "off": "the speech analyzer is not running"})
        return web.json_response({"keywords": speech.settings["keywords"], "recent": list(speech.recent),
                                  "off": speech.off_reason})

    # -- preview -----------------------------------------------------------------------------------
    async def _mjpeg(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "multipart/x-mixed-replace; boundary=frame",
                                               "Cache-Control": "no-store"})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        self.preview.watchers += 1
        seen = -1
        try:
            while not self._closing:
                if self.preview.seq != seen and (jpeg := await loop.run_in_executor(None, self.preview.jpeg)):
                    seen = self.preview.seq
                    await response.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n"
                                         % (len(jpeg), jpeg))
                await asyncio.sleep(self.preview.period / 2)
        except ConnectionResetError:
            pass
        finally:
            self.preview.watchers -= 1
        return response

    async def _snapshot(self, _request: web.Request) -> web.Response:
        """One JPEG of a frame taken after this request arrived (503 when no frame comes in 3 s)."""
        self.preview.watchers += 1
        try:
            start = self.preview.seq
            for _ in range(60):
                if self.preview.seq != start:
                    break
                await asyncio.sleep(0.05)
            jpeg = await asyncio.get_running_loop().run_in_executor(None, self.preview.jpeg)
        finally:
            self.preview.watchers -= 1
        if self.preview.seq == start or jpeg is None:
            return web.json_response({"error": "no frame in 3 s: is the input running?"}, status=503)
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # -- websocket ---------------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and origin.split("://", 1)[-1] != request.host:
            return web.json_response({"error": f"origin {origin} refused"}, status=403)
        ws = web.WebSocketResponse(heartbeat=20)
        await ws.prepare(request)
        self.sockets.add(ws)
        pusher = asyncio.create_task(self._push_stats(ws))
        try:
            await ws.send_json({"type": "effects", "effects": describe(self.pipeline.effects)})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    message = json.loads(msg.data)
                except json.JSONDecodeError:
                    await ws.send_json({"type": "reply", "status": 400, "body": {"error": "not JSON"}})
                    continue
                if not isinstance(message, dict):
                    message = {}
                status, body = await self.command(message)
                await ws.send_json({"type": "reply", "id": message.get("id"), "status": status, "body": body})
        finally:
            pusher.cancel()
            self.sockets.discard(ws)
        return ws

    async def _push_stats(self, ws: web.WebSocketResponse) -> None:
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            while not ws.closed:
                await ws.send_json({"type": "stats", **self.stats()})
                await asyncio.sleep(1.0)

    async def _broadcast(self, message: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await ws.send_json(message)

    async def _close_sockets(self, _app: web.Application) -> None:
        self._closing = True
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b"engine stopping")
