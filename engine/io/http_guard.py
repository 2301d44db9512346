"""What every HTTP server edgefx starts (the control panel, the ``preview`` output) checks and
sends, so that no other web page can drive or read it.

- ``HostAllowList``: the ``Host`` header must name this server, so a DNS-rebinding page (whose
  own name now points at 127.0.0.1) is refused with 403. A loopback server accepts only loopback
  names; a server bound to a network address accepts IP literals (a rebinding page always uses a
  name), this machine's host names and the extra names the user lists.
- ``SECURITY_HEADERS``: no page may frame the panel (clickjacking), browsers must not sniff
  types, and no URL leaks through the ``Referer``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

LOOPBACK = ("127.0.0.1", "::1", "localhost")
WILDCARD = ("0.0.0.0", "::", "")
SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-origin",
}
IDLE_TIMEOUT = 10.0
"""Seconds a connection may stay open without a complete request (slow headers, idle keep-alive)."""
MAX_CONNECTIONS = 64
"""Connections one server keeps open at once (a browser with the panel open uses about 4)."""


def host_name(header: str) -> str:
    """The name in a ``Host`` header, without the port or IPv6 brackets, lower case."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header[1:].partition("]")
        return name if rest == "" or (rest.startswith(":") and rest[1:].isdigit()) else header
    name, sep, port = header.rpartition(":")
    return name if sep and port.isdigit() and ":" not in name else header


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostAllowList:
    """The ``Host`` names a server bound to ``bind`` answers to (``extra``: names the user adds,
    e.g. ``pi.lan``)."""

    def __init__(self, bind: str, extra: Iterable[str] = ()) -> None:
        self.loopback = bind in LOOPBACK or (is_ip(bind) and ipaddress.ip_address(bind).is_loopback)
        names = set(LOOPBACK) | {n.strip().lower() for n in extra if n.strip()}
        if not self.loopback:
            hostname = socket.gethostname().lower()
            names |= {hostname, f"{hostname}.local", socket.getfqdn().lower()}
        self.names = frozenset(names)

    def allows(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is for this server."""
        if not header:
            return False
        name = host_name(header)
        if name in self.names:
            return True
        if not is_ip(name):
            return False
        return not self.loopback or ipaddress.ip_address(name).is_loopback

    def refusal(self, header: str | None) -> str:
        """The message of a 403 for a foreign ``Host``."""
        hint = "127.0.0.1" if self.loopback else "this machine's IP address (or add the name to [control] hosts)"
        return f"host {header!r} refused (DNS rebinding protection): open the page through {hint}"
