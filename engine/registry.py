"""Plugin discovery: every plugin, built-in or third-party, comes from the ``edgefx``
entry-point group. A plugin that fails to import or validate is reported and skipped.

Environment:
  ``EDGEFX_PLUGINS=a,b``          load only these entry points (allow-list)
  ``EDGEFX_DISABLE_PLUGINS=a,b``  never load these
  ``EDGEFX_TRACE_PLUGINS=1``      print every hook call to stderr
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from edgefx import hookspecs
from edgefx.errors import ConfigError, EdgefxError, PluginError
from edgefx.io.sink import Sink
from edgefx.io.source import Source
from edgefx.options import Option, did_you_mean
from edgefx.plugin import Analyzer, Configurable, Effect, Layer

log = logging.getLogger(__name__)

GROUP = "edgefx"
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(slots=True)
class PluginRecord:
    """What ``edgefx plugins list`` shows for one entry point."""

    name: str
    package: str
    version: str
    provides: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    loaded: bool = False


def _env_list(name: str) -> set[str]:
    return {x.strip() for x in os.environ.get(name, "").split(",") if x.strip()}


class Registry:
    """The engine's typed view of all plugins: analyzers, effects, sources and sinks by name."""

    def __init__(self, eps: Iterable[EntryPoint] | None = None) -> None:
        self.pm = pluggy.PluginManager(GROUP)
        self.pm.add_hookspecs(hookspecs)
        if os.environ.get("EDGEFX_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: sys.stderr.write(f"[edgefx trace] {msg}"))
            self.pm.enable_tracing()
        self.records: dict[str, PluginRecord] = {}
        self.analyzers: dict[str, type[Analyzer]] = {}
        self.effects: dict[str, type[Effect]] = {}
        self.sources: dict[str, type[Source]] = {}
        self.sinks: dict[str, type[Sink]] = {}
        self.owner: dict[tuple[str, str], str] = {}
        self._load(entry_points(group=GROUP) if eps is None else eps)

    # -- loading -------------------------------------------------------------------------------
    def _load(self, eps: Iterable[EntryPoint]) -> None:
        allow, block = _env_list("EDGEFX_PLUGINS"), _env_list("EDGEFX_DISABLE_PLUGINS")
        for ep in sorted(eps, key=lambda e: (not e.value.startswith("edgefx."), e.name)):
            dist = ep.dist
            rec = PluginRecord(ep.name, dist.name if dist else "?", dist.version if dist else "?")
            self.records[ep.name] = rec
            if (allow and ep.name not in allow) or ep.name in block:
                rec.problems.append("disabled by EDGEFX_PLUGINS / EDGEFX_DISABLE_PLUGINS")
                continue
            try:
                self.pm.register(ep.load(), name=ep.name)
                self.pm.check_pending()
            except Exception as exc:  # a broken plugin must not take the others down
                if self.pm.has_plugin(ep.name):
                    self.pm.unregister(name=ep.name)
                rec.problems.append(f"failed to load: {type(exc).__name__}: {exc}")
                log.warning("plugin %s (%s) skipped: %s", ep.name, rec.package, exc)
                continue
            rec.loaded = True
            self._collect(ep.name, rec)

    def _collect(self, plugin: str, rec: PluginRecord) -> None:
        hooks = [("analyzer", self.pm.hook.edgefx_analyzers, Analyzer, self.analyzers),
                 ("effect", self.pm.hook.edgefx_effects, Effect, self.effects),
                 ("source", self.pm.hook.edgefx_sources, Source, self.sources),
                 ("sink", self.pm.hook.edgefx_sinks, Sink, self.sinks)]
        for kind, hook, base, table in hooks:
            try:
                returned = _call_one(hook, plugin)
            except Exception as exc:
                rec.problems.append(f"{hook.name} raised {type(exc).__name__}: {exc}")
                continue
            for cls in returned or []:
                problem = validate_class(cls, base)
                keys = (cls.schemes if kind in ("source", "sink") else (getattr(cls, "name", "?"),)) \
                    if problem is None else ()
                clash = next((k for k in keys if k in table), None)
                if problem is None and clash is not None:
                    problem = f"{kind} {clash!r} is already provided by {self.owner[(kind, clash)]}"
                if problem is not None:
                    rec.problems.append(problem)
                    log.warning("plugin %s: %s skipped: %s", plugin, kind, problem)
                    continue
                for key in keys:
                    table[key] = cls
                    self.owner[(kind, key)] = plugin
                rec.provides.setdefault(kind, []).append(cls.name)

    # -- typed lookups ---------------------------------------------------------------------------
    def analyzer(self, name: str) -> type[Analyzer]:
        """The analyzer class called ``name`` or a ``ConfigError`` listing what exists."""
        return _lookup("analyzer", name, self.analyzers)

    def effect(self, name: str) -> type[Effect]:
        """The effect class called ``name`` or a ``ConfigError`` listing what exists."""
        return _lookup("effect", name, self.effects)

    def source_for(self, url: str) -> type[Source]:
        """The source class for an input URL or path (plain paths use scheme ``file``)."""
        return _lookup("input type", scheme_of(url), self.sources)

    def sink_for(self, target: str) -> type[Sink]:
        """The sink class for an output URL, path, ``null`` or ``preview``."""
        return _lookup("output type", scheme_of(target), self.sinks)

    def broken(self) -> list[PluginRecord]:
        """Plugins that failed to load or had something skipped."""
        return [r for r in self.records.values() if r.problems]

    # -- run lifecycle ---------------------------------------------------------------------------
    def call_safely(self, hook_name: str, refusable: bool = False, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin; an exception is logged with the plugin's name.
        ``refusable``: an ``EdgefxError`` (a plugin refusing the run, e.g. a control panel that cannot
        listen) is raised instead, so the run ends before it starts."""
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except Exception as exc:
                if refusable and isinstance(exc, EdgefxError):
                    raise
                log.error("plugin %s: %s failed: %s: %s", impl.plugin_name, hook_name, type(exc).__name__, exc)


def _call_one(hook: Any, plugin: str) -> list[type]:
    """Call ``hook`` on one plugin only, so each result is attributed to its plugin."""
    out: list[type] = []
    for impl in hook.get_hookimpls():
        if impl.plugin_name == plugin:
            out.extend(impl.function() or [])
    return out


def scheme_of(target: str) -> str:
    """``"rtsp://x"`` -> ``"rtsp"``, ``"demo:"`` -> ``"demo"``, ``"clip.mp4"`` / ``"C:\\x.mp4"`` -> ``"file"``."""
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]+):", target)
    if match:
        return match.group(1).lower()
    return target if target in ("null", "preview", "demo", "testsrc") else "file"


def _lookup(kind: str, name: str, table: dict[str, Any]) -> Any:
    try:
        return table[name]
    except KeyError:
        raise ConfigError(f"unknown {kind} {name!r}", f"{did_you_mean(name, table)}available: "
                          f"{', '.join(sorted(table)) or 'none'} (see `edgefx plugins list`)") from None


def validate_class(cls: Any, base: type) -> str | None:
    """Why ``cls`` cannot be used as a ``base`` subclass, or ``None`` when it can."""
    if not (isinstance(cls, type) and issubclass(cls, base)):
        return f"{cls!r} is not a subclass of edgefx {base.__name__}"
    name = getattr(cls, "name", None)
    if not isinstance(name, str) or not _NAME.match(name):
        return f"{cls.__name__}.name must be a lowercase identifier, got {name!r}"
    if issubclass(cls, Configurable):
        for key, opt in cls.options.items():
            if not isinstance(opt, Option):
                return f"{name}: option {key!r} must be an edgefx.Option"
            try:
                opt.check(key, opt.default)
            except ValueError as exc:
                return f"{name}: default of option {exc}"
    if issubclass(cls, Effect) and not isinstance(cls.layer, Layer):
        return f"{name}.layer must be an edgefx.Layer"
    if issubclass(cls, Source | Sink) and not cls.schemes:
        return f"{name}.schemes is empty"
    return None


def load_registry() -> Registry:
    """The registry of installed plugins; raises ``PluginError`` when nothing at all is installed."""
    registry = Registry()
    if not registry.records:
        raise PluginError("no edgefx plugins are installed, not even the built-in ones",
                          "install the package (pip install -e .) so its entry points exist")
    return registry
