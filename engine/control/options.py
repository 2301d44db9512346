"""The ``[control]`` preset table (also set by ``edgefx run --control HOST:PORT``)."""

from __future__ import annotations

from edgefx.options import Option

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
