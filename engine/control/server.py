"""The control panel's HTTP + WebSocket server (aiohttp on its own thread and event loop).

Routes (JSON unless said otherwise; POST bodies must be ``application/json`` objects)::

    GET  /                          the panel (static page)
    GET  /login?code=...            one-time login link (logged at start): sets the session cookie
    GET  /api/session               {"csrf": ...}: the token state-changing requests send as X-CSRF-Token
    GET  /api/effects               effects with enabled state and options
    POST /api/effects/NAME/toggle   {"enabled": true|false}   ({}: flip)
    POST /api/effects/NAME/options  {"option": "opacity", "value": 0.5}
    POST /api/effects/NAME/media    {"option": "path", "path": "beach.jpg"}  (media options, inside [control] media)
    GET  /api/triggers              the trigger words (to fire), hotkeys and reactions of this run
    POST /api/triggers              {"word": "snow"}   fire the [[triggers]] rules of that keyword
                                    (another word: 400 naming the configured ones)
    GET  /api/events                the latest events (triggers, speech, hotkeys, reactions, panel
                                    changes) and what they fired, oldest first; also pushed on the WebSocket
    POST /api/events                {"name": "clap", "data": {...}}   publish any event
    POST /api/hotkeys               {"key": "b"}
    GET  /api/stats                 fps, frame time p50/p99, drops, the sink's state
    GET  /api/preview.mjpg          the output as MJPEG (image/jpeg snapshots: /api/preview.jpg)
    GET  /api/ws                    stats pushed every second; send {"id": 1, "cmd": "toggle", ...}

Who may call what is ``edgefx.control.guard``'s job (Host allow-list, login, same-origin + CSRF
token on every POST); connections are capped and idle ones closed (``edgefx.io.http_guard``).
A new route is one line in ``ControlServer.routes``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_exceptions import HttpProcessingError

from edgefx.control import jsonbody
from edgefx.control.commands import ControlError, check, describe
from edgefx.control.eventlog import EventLog
from edgefx.control.guard import ControlGuard
from edgefx.control.options import check_token
from edgefx.errors import ConfigError
from edgefx.frame import Frame
from edgefx.io.http_guard import IDLE_TIMEOUT, MAX_CONNECTIONS, WILDCARD, HostAllowList
from edgefx.io.mjpeg import CONTENT_TYPE, MjpegBroadcaster, part
from edgefx.runtime.metrics import RateMeter, percentiles

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
REPLY_TIMEOUT = 3.0


class Preview(MjpegBroadcaster):
    """The newest output frame for the panel (copied on the loop thread only while someone watches,
    at most ``fps`` times a second; JPEG-encoded on the server side), and the output frame rate."""

    def __init__(self, fps: float) -> None:
        super().__init__(fps, copy=True)
        self.rate = RateMeter()

    def observe(self, frame: Frame) -> None:
        """Frame observer (loop thread): count the frame, keep a copy when it is due."""
        self.rate.tick()
        self.offer(frame.image)


class ControlServer:
    """Serves the panel for one running ``pipeline`` until ``stop``."""

    def __init__(self, pipeline: Any, host: str = "127.0.0.1", port: int = 8091, token: str = "",
                 media: list[str] | None = None, preview_fps: float = 5.0, hosts: list[str] | None = None) -> None:
        self.pipeline, self.host, self.port = pipeline, host, port
        hostnames = HostAllowList(host, hosts or ())
        check_token(token)
        self.token = token or ("" if hostnames.loopback else secrets.token_urlsafe(24))
        self.guard = ControlGuard(hostnames, self.token)
        self.media = [Path(m).expanduser() for m in (media if media is not None else ["media"])]
        self.preview = Preview(preview_fps)
        self.sockets: set[web.WebSocketResponse] = set()
        self.events = EventLog()
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        """The real bind address, ``host:port`` (``[::]:8091`` for IPv6)."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """A URL of the panel for a browser: on a wildcard bind, through this machine's LAN address."""
        host = lan_address() if self.host in WILDCARD else self.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Bind and serve on a daemon thread; raises ``ConfigError`` when the address is taken."""
        ready = threading.Event()
        failure: list[OSError] = []
        runner = web.AppRunner(self._app(), shutdown_timeout=2.0, access_log=None, keepalive_timeout=IDLE_TIMEOUT,
                               logger=_MalformedRequestLog(logging.getLogger("aiohttp.server"), {}))

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(runner.setup())
                listener = loop.run_until_complete(loop.create_server(capped(runner.server), self.host, self.port))
                self.port = listener.sockets[0].getsockname()[1]
            except OSError as exc:
                failure.append(exc)
                return
            finally:
                ready.set()
            loop.run_forever()
            listener.close()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="control", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            raise ConfigError(f"control panel cannot listen on {self.host}:{self.port}: {failure[0]}",
                              f"pick another port: --control {self.host}:{self.port + 1}")
        reach = " (every network interface: reachable from the LAN)" if self.host in WILDCARD else ""
        log.info("control panel listening on %s%s", self.address, reach)
        if self.token:
            log.info("control panel login (one-time link, a new one is logged after each use): %s",
                     self.guard.login_url(self.url))
        else:
            log.info("control panel at %s/", self.url)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._closing = True
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- app ---------------------------------------------------------------------------------------
    def routes(self) -> list[web.RouteDef]:
        """Every route of the panel (the guard checks all of them)."""
        static = resources.files("edgefx.control").joinpath("static")
        page = static.joinpath("index.html").read_bytes()

        async def index(_request: web.Request) -> web.Response:
            return web.Response(body=page, content_type="text/html", headers={"Cache-Control": "no-store"})

        return [
            web.get("/", index),
            web.get("/api/session", self._session),
            web.get("/api/effects", self._effects),
            web.post("/api/effects/{name}/toggle", self._post("toggle")),
            web.post("/api/effects/{name}/options", self._post("set")),
            web.post("/api/effects/{name}/media", self._post("media")),
            web.get("/api/triggers", self._triggers),
            web.post("/api/triggers", self._post("trigger")),
            web.get("/api/events", self._events),
            web.post("/api/events", self._post("event")),
            web.post("/api/hotkeys", self._post("hotkey")),
            web.get("/api/stats", self._stats),
            web.get("/api/speech", self._speech),
            web.get("/api/preview.mjpg", self._mjpeg),
            web.get("/api/preview.jpg", self._snapshot),
            web.get("/api/ws", self._ws),
        ]

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[_no_tracebacks, self.guard.middleware],
                              client_max_size=jsonbody.MAX_BYTES)
        app.add_routes(self.routes())
        app.on_response_prepare.append(self.guard.add_headers)
        app.on_shutdown.append(self._close_sockets)
        return app

    async def _session(self, _request: web.Request) -> web.Response:
        return web.json_response({"csrf": self.guard.csrf}, headers={"Cache-Control": "no-store"})

    # -- commands ----------------------------------------------------------------------------------
    async def command(self, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Check, publish on the bus, wait for the loop to apply it; returns (status, body)."""
        try:
            event = check(request, self.pipeline.effects, self.media, trigger_words(self.pipeline), self._disabled())
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
        await self._broadcast({"type": "effects", "effects": self._effect_list()})
        return 200, result

    def _post(self, cmd: str) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            try:
                if request.content_type != "application/json":
                    raise ControlError(415, "send the body as Content-Type: application/json")
                async with asyncio.timeout(IDLE_TIMEOUT):
                    raw = await request.read()
                if not raw:
                    raise ControlError(400, "send a JSON object as the body (e.g. {})")
                body = jsonbody.parse(raw)
                if not isinstance(body, dict):
                    raise ControlError(400, "body must be a JSON object")
            except ControlError as exc:
                return web.json_response({"error": exc.message}, status=exc.status)
            except TimeoutError:
                return web.json_response({"error": f"body not received within {IDLE_TIMEOUT:g} s"}, status=408)
            if "name" in request.match_info:
                body["effect"] = request.match_info["name"]
            status, out = await self.command({**body, "cmd": cmd})
            return web.json_response(out, status=status)
        return handle

    async def _triggers(self, _request: web.Request) -> web.Response:
        triggers = self.pipeline.triggers
        rules = triggers.rules if triggers is not None else []
        return web.json_response({"words": trigger_words(self.pipeline),
                                  "hotkeys": sorted({r.hotkey for r in rules if r.hotkey}),
                                  "reactions": triggers.reactions() if triggers is not None else {}})

    async def _events(self, _request: web.Request) -> web.Response:
        return web.json_response({"events": self.events.recent()}, headers={"Cache-Control": "no-store"})

    def record(self, event: Any) -> None:
        """Event observer (loop thread, after the triggers handled it): log it and push it to the panels."""
        entry = self.events.add(event, self.pipeline.triggers)
        if entry is not None and self._loop is not None and self.sockets and not self._closing:
            messages = [{"type": "event", **entry}]
            if entry["fired"]:
                messages.append({"type": "effects", "effects": self._effect_list()})
            with contextlib.suppress(RuntimeError):  # the loop is closing
                for message in messages:
                    asyncio.run_coroutine_threadsafe(self._broadcast(message), self._loop)

    async def _effects(self, _request: web.Request) -> web.Response:
        return web.json_response(self._effect_list())

    def stats(self) -> dict[str, Any]:
        """fps, frame time p50/p99 of the last 90 frames, frames, drops and the sink's state."""
        pipeline = self.pipeline
        frame_ms = percentiles(pipeline.metrics.recent_totals(90))
        sink = pipeline.sink
        return {"fps": round(self.preview.rate.per_second(), 2),
                "frame_ms": {k: frame_ms.get(k, 0.0) for k in ("p50", "p99")},
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
        response = web.StreamResponse(headers={"Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        self.preview.watch()
        seen = -1
        try:
            while not self._closing:
                if self.preview.seq != seen and (jpeg := await loop.run_in_executor(None, self.preview.jpeg)):
                    seen = self.preview.seq
                    await response.write(part(jpeg))
                await asyncio.sleep(self.preview.period / 2)
        except ConnectionResetError:
            pass
        finally:
            self.preview.leave()
        return response

    async def _snapshot(self, _request: web.Request) -> web.Response:
        """One JPEG of a frame taken after this request arrived (503 when no frame comes in 3 s)."""
        self.preview.watch()
        try:
            start = self.preview.seq
            for _ in range(60):
                if self.preview.seq != start:
                    break
                await asyncio.sleep(0.05)
            jpeg = await asyncio.get_running_loop().run_in_executor(None, self.preview.jpeg)
        finally:
            self.preview.leave()
        if self.preview.seq == start or jpeg is None:
            return web.json_response({"error": "no frame in 3 s: is the input running?"}, status=503)
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    # -- websocket ---------------------------------------------------------------------------------
    async def _ws(self, request: web.Request) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin and not self.guard.same_origin(request):
            return web.json_response({"error": f"origin {origin!r} refused"}, status=403)
        ws = web.WebSocketResponse(heartbeat=20, max_msg_size=jsonbody.MAX_BYTES)
        await ws.prepare(request)
        self.sockets.add(ws)
        pusher = asyncio.create_task(self._push_stats(ws))
        try:
            await ws.send_json({"type": "effects", "effects": self._effect_list()})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                try:
                    message = jsonbody.parse(msg.data)
                except ControlError as exc:
                    await ws.send_json({"type": "reply", "status": exc.status, "body": {"error": exc.message}})
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
        """Stats every second, and the effects whenever they changed (a trigger, a pulse ending)."""
        shown = self._state()
        with contextlib.suppress(ConnectionResetError, RuntimeError):
            while not ws.closed:
                await ws.send_json({"type": "stats", **self.stats()})
                if (now := self._state()) != shown:
                    shown = now
                    await ws.send_json({"type": "effects", "effects": self._effect_list()})
                await asyncio.sleep(1.0)

    def _state(self) -> list[tuple[str, bool, str | None, dict[str, Any]]]:
        """What the panel shows of each effect, cheap to compare: name, on/off, why disabled, settings."""
        disabled = self._disabled()
        return [(name, fx.enabled, disabled.get(name), dict(fx.settings)) for name, fx in self.pipeline.effects.items()]

    def _effect_list(self) -> list[dict[str, Any]]:
        """The effects as the panel shows them (``edgefx.control.commands.describe``)."""
        return describe(self.pipeline.effects, self.media, self._disabled())

    def _disabled(self) -> dict[str, str]:
        """The plugins the run's isolation switched off, with why (a copy: the loop thread adds to it)."""
        return self.pipeline.guard.disabled.copy()

    async def _broadcast(self, message: dict[str, Any]) -> None:
        for ws in list(self.sockets):
            with contextlib.suppress(ConnectionResetError, RuntimeError):
                await ws.send_json(message)

    async def _close_sockets(self, _app: web.Application) -> None:
        self._closing = True
        for ws in list(self.sockets):
            await ws.close(code=1001, message=b"engine stopping")


@web.middleware
async def _no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A bug in a handler answers 500 with a one-line log; the traceback only at debug level."""
    try:
        return await handler(request)
    except (web.HTTPException, ConnectionError, asyncio.CancelledError):
        raise
    except Exception as exc:
        log.error("control panel: %s %s failed: %s: %s", request.method, request.path, type(exc).__name__, exc)
        log.debug("control panel failure", exc_info=True)
        return web.json_response({"error": "internal error (see the engine's log)"}, status=500)


class _MalformedRequestLog(logging.LoggerAdapter):
    """aiohttp's server log, except that a request its parser refused (it answers 400) is one
    debug line naming the error's kind, without a traceback and without echoing the request."""

    def log(self, level: int, msg: object, *args: object, exc_info: Any = None, **kwargs: Any) -> None:
        if isinstance(exc_info, HttpProcessingError) and (exc_info.code or 400) < 500:
            log.debug("control panel: refused a malformed request (%s)", type(exc_info).__name__)
            return
        self.logger.log(level, msg, *args, exc_info=exc_info, **kwargs)


class _Busy(asyncio.Protocol):
    """Answers a connection beyond ``MAX_CONNECTIONS`` with 503 and closes it."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nRetry-After: 10\r\n"
                        b"Connection: close\r\nContent-Length: 34\r\n\r\ntoo many connections, retry later\n")
        transport.close()


def capped(server: web.Server) -> Callable[[], asyncio.Protocol]:
    """A protocol factory for ``loop.create_server``: aiohttp's handler while fewer than
    ``MAX_CONNECTIONS`` are open, ``_Busy`` beyond. A burst of connections is accepted in one
    go, before any of them is connected, so the ones made in this burst count too."""
    fresh: list[asyncio.Protocol] = []

    def factory() -> asyncio.Protocol:
        if len(server.connections) + len(fresh) >= MAX_CONNECTIONS:
            return _Busy()
        if not fresh:  # after this burst the handlers are connected and in server.connections
            asyncio.get_running_loop().call_soon(fresh.clear)
        fresh.append(handler := server())
        return handler
    return factory


def trigger_words(pipeline: Any) -> list[str]:
    """The words a trigger may fire in this run: the keywords of its ``[[triggers]]`` rules and of
    the enabled effects' ``*_words`` options (e.g. the light saber's ``ignite_words``)."""
    words = {r.keyword for r in pipeline.triggers.rules if r.keyword} if pipeline.triggers is not None else set()
    for effect in pipeline.effects.values():
        for key, value in effect.settings.items():
            if key.endswith("_words") and isinstance(value, list):
                words.update(str(w).strip().lower() for w in value)
    return sorted(words)


def lan_address() -> str:
    """This machine's address on its default route (no packet is sent), or 127.0.0.1 without one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only picks the outgoing interface
            return probe.getsockname()[0]
        except OSError:
            return "127.0.0.1"
