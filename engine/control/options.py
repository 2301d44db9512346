"""The ``[control]`` preset table (also set by ``edgefx run --control HOST:PORT``)."""

from __future__ import annotations

from edgefx.errors import ConfigError
from edgefx.options import Option

MIN_TOKEN = 16

CONTROL_OPTIONS: dict[str, Option] = {
    "enabled": Option(False, "start the control panel with the run"),
    "host": Option("127.0.0.1", "address to bind; anything but loopback requires a login (see docs/streaming.md)"),
    "port": Option(8091, "port of the control panel", min=0, max=65535),
    "token": Option("", "access token for scripts (Authorization: Bearer), at least 16 characters; empty: none "
                        "on loopback, a random one otherwise (browsers log in with a one-time link)"),
    "hosts": Option([], "extra host names the panel answers to besides IP addresses and this machine's "
                        "names, e.g. ['pi.lan'] (other names are refused against DNS rebinding)", type=list),
    "media": Option(["media"], "folders mask/background files may be picked from", type=list),
    "preview_fps": Option(5.0, "frame rate of the MJPEG preview while someone watches", min=0.5, max=30),
}


def check_token(token: str, where: str = "[control]") -> None:
    """Refuse a user-chosen token shorter than ``MIN_TOKEN`` (empty is fine: no token on loopback,
    a random one elsewhere)."""
    if token and len(token) < MIN_TOKEN:
        raise ConfigError(f"{where}: token is {len(token)} characters: at least {MIN_TOKEN} are needed",
                          "leave token empty for a random one (browsers log in via a one-time link), or set e.g. "
                          "token = \"$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')\"")
