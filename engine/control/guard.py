"""Who may use the control panel, and proof that a state-changing request comes from it.

Checked on every request, in this order (``ControlGuard.middleware``):

1. **Host** in the allow-list (``edgefx.io.http_guard``), else 403: against DNS rebinding.
2. **Login**, when the server has a token (always off loopback): an ``Authorization: Bearer
   TOKEN`` header (scripts) or the session cookie a one-time login link set (browsers), else
   401. The token itself is never logged and never accepted in a URL.
3. **Same origin**, for every request that is not GET/HEAD: the ``Origin`` header must be this
   server's own origin and the ``X-CSRF-Token`` header must carry the page's CSRF token (the
   panel reads it from its page); a Bearer request may omit both (a browser cannot send that
   header cross-origin without a preflight, which is never granted). Else 403. Bodies must be
   ``application/json``, so any cross-origin attempt needs a preflight.

Every response carries ``SECURITY_HEADERS`` (no framing, no sniffing, no referrer).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable

from aiohttp import web

from edgefx.io.http_guard import SECURITY_HEADERS, HostAllowList

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
COOKIE = "edgefx_session"
CSRF_HEADER = "X-CSRF-Token"
LOGIN_PATH = "/login"
MAX_SESSIONS = 64
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _same(given: str | None, secret: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), secret.encode())


class ControlGuard:
    """Host allow-list, login (token, one-time links, session cookies) and the CSRF check of one
    control server. ``token`` empty = no login needed (only allowed on loopback)."""

    def __init__(self, hosts: HostAllowList, token: str) -> None:
        self.hosts = hosts
        self.token = token
        self.csrf = secrets.token_urlsafe(32)
        self.sessions: set[str] = set()
        self.code = secrets.token_urlsafe(16)
        """The current one-time login code; replaced each time it is used."""

    # -- login -------------------------------------------------------------------------------------
    def logged_in(self, request: web.Request) -> bool:
        """Whether ``request`` carries the token (Bearer) or a session cookie."""
        if not self.token:
            return True
        return self.bearer(request) or any(_same(request.cookies.get(COOKIE), s) for s in list(self.sessions))

    def bearer(self, request: web.Request) -> bool:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        return bool(self.token) and scheme.lower() == "bearer" and _same(given.strip(), self.token)

    async def login(self, request: web.Request) -> web.StreamResponse:
        """``GET /login?code=...``: a valid one-time code starts a session (HttpOnly, SameSite=Strict
        cookie) and leads to the panel; the code is then spent and a new link is logged."""
        if not self.token:
            return web.Response(status=303, headers={"Location": "/"})
        if not _same(request.query.get("code"), self.code):
            return web.json_response({"error": "this login link is wrong or already used: open the newest "
                                               "'control panel login' link in the engine's log"}, status=401)
        self.code = secrets.token_urlsafe(16)
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop()
        session = secrets.token_urlsafe(32)
        self.sessions.add(session)
        response = web.Response(status=303, headers={"Location": "/", "Cache-Control": "no-store"})
        response.set_cookie(COOKIE, session, httponly=True, samesite="Strict", path="/")
        log.info("control panel: a browser logged in; next one-time login link: %s",
                 self.login_url(f"{request.scheme}://{request.host}"))
        return response

    def login_url(self, base: str) -> str:
        """The current one-time login link on ``base`` (``http://host:port``)."""
        return f"{base}{LOGIN_PATH}?code={self.code}"

    # -- the checks --------------------------------------------------------------------------------
    def same_origin(self, request: web.Request) -> bool:
        """Whether the request's ``Origin`` is this server's own origin (scheme, host and port)."""
        origin = request.headers.get("Origin")
        return bool(origin) and origin.lower() == f"{request.scheme}://{request.host}".lower()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.hosts.allows(request.headers.get("Host")):
            return web.json_response({"error": self.hosts.refusal(request.headers.get("Host"))}, status=403)
        if request.path == LOGIN_PATH and request.method == "GET":
            return await self.login(request)
        if not self.logged_in(request):
            return web.json_response({"error": "login required: open the one-time 'control panel login' link "
                                               "from the engine's log, or send Authorization: Bearer TOKEN"},
                                     status=401)
        if request.method not in SAFE_METHODS:
            bearer = self.bearer(request)
            origin = request.headers.get("Origin")
            if (origin or not bearer) and not self.same_origin(request):
                return web.json_response({"error": f"origin {origin or '(none)'} refused: state changes come only from "
                                                   "the panel's own page (or send Authorization: Bearer TOKEN)"},
                                         status=403)
            if not bearer and not _same(request.headers.get(CSRF_HEADER), self.csrf):
                return web.json_response({"error": f"missing or wrong {CSRF_HEADER} header: send the token of "
                                                   "GET /api/session"}, status=403)
        return await handler(request)

    @staticmethod
    async def add_headers(_request: web.Request, response: web.StreamResponse) -> None:
        """``on_response_prepare`` signal: the security headers on every response, errors included."""
        response.headers.update(SECURITY_HEADERS)
