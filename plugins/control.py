"""The control panel as a plugin: started with the run when ``[control] enabled`` (or
``edgefx run --control HOST:PORT``), stopped after it; applies its commands on the loop thread."""

from __future__ import annotations

from typing import Any

from edgefx import hookimpl
from edgefx.control.commands import CONTROL_EVENT, apply
from edgefx.errors import ConfigError
from edgefx.events import Event

_servers: dict[int, Any] = {}
"""Running servers by ``id(pipeline)``."""


@hookimpl
def edgefx_startup(pipeline):
    cfg = (getattr(pipeline.settings, "extra", None) or {}).get("control")
    if not cfg or not cfg["enabled"]:
        return
    try:
        from edgefx.control.server import ControlServer  # aiohttp only when the panel is used
    except ImportError as exc:
        raise ConfigError(f"the control panel needs {exc.name}", "pip install 'edgefx[control]'") from None

    server = ControlServer(pipeline, cfg["host"], cfg["port"], cfg["token"], cfg["media"], cfg["preview_fps"],
                           cfg["hosts"])
    server.start()
    _servers[id(pipeline)] = server
    pipeline.frame_observers.append(server.preview.observe)


@hookimpl
def edgefx_event(event: Event, pipeline):
    if event.name == CONTROL_EVENT and event.source == "control":
        apply(event, pipeline.effects)
    server = _servers.get(id(pipeline))
    if server is not None:
        server.record(event)


@hookimpl
def edgefx_shutdown(pipeline, summary):
    server = _servers.pop(id(pipeline), None)
    if server is not None:
        server.stop()
