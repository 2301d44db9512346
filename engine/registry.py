"""Plugin discovery: every plugin, built-in or third-party, comes from the ``edgefx``
entry-point group. A plugin that fails to import or validate is reported and skipped. Built-ins
missing from the metadata (a source tree that is not installed) are registered by import, as
tox and datasette do: every module of ``edgefx.plugins`` is one.

Environment:
  ``EDGEFX_PLUGINS=a,b``          load only these entry points (allow-list), plus the essential
                                  ``io`` (without it no input can be opened)
  ``EDGEFX_DISABLE_PLUGINS=a,b``  never load these
  ``EDGEFX_TRACE_PLUGINS=1``      print every hook call, with its plugin, to stderr

The registry is the only caller of hooks. It calls them one plugin at a time (so a failure or a
result is attributed to its plugin), but always through pluggy, so tracing, hook wrappers and
``tryfirst``/``trylast`` ordering work as pluggy documents them.
"""

from __future__ import annotations

import logging
import os
import pkgutil
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from edgefx import hookspecs
from edgefx.bench import Benchmark
from edgefx.contract import Analyzer, Configurable, Effect, Layer
from edgefx.errors import ConfigError, EdgefxError
from edgefx.io.sink import Sink
from edgefx.io.source import Source
from edgefx.options import Option, did_you_mean

log = logging.getLogger(__name__)

GROUP = "edgefx"
ESSENTIAL = frozenset({"io"})
"""Plugins an ``EDGEFX_PLUGINS`` allow-list cannot leave out."""
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
            self.pm.add_hookcall_monitoring(_trace_before, _trace_after)
        self.records: dict[str, PluginRecord] = {}
        self.analyzers: dict[str, type[Analyzer]] = {}
        self.effects: dict[str, type[Effect]] = {}
        self.sources: dict[str, type[Source]] = {}
        self.sinks: dict[str, type[Sink]] = {}
        self.owner: dict[tuple[str, str], str] = {}
        self._load(with_builtins(entry_points(group=GROUP)) if eps is None else eps)

    # -- loading -------------------------------------------------------------------------------
    def _load(self, eps: Iterable[EntryPoint]) -> None:
        allow, block = _env_list("EDGEFX_PLUGINS"), _env_list("EDGEFX_DISABLE_PLUGINS")
        for ep in sorted(eps, key=lambda e: (not e.value.startswith("edgefx."), e.name)):
            dist = ep.dist
            rec = PluginRecord(ep.name, dist.name if dist else "?", dist.version if dist else "?")
            self.records[ep.name] = rec
            if (allow and ep.name not in allow and ep.name not in ESSENTIAL) or ep.name in block:
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
        hooks = [("analyzer", "edgefx_analyzers", Analyzer, self.analyzers),
                 ("effect", "edgefx_effects", Effect, self.effects),
                 ("source", "edgefx_sources", Source, self.sources),
                 ("sink", "edgefx_sinks", Sink, self.sinks)]
        for kind, hook_name, base, table in hooks:
            caller = next((c for name, c in self._per_plugin(hook_name) if name == plugin), None)
            try:
                returned = [cls for result in (caller() if caller else []) for cls in result or []]
            except Exception as exc:
                rec.problems.append(f"{hook_name} raised {type(exc).__name__}: {exc}")
                continue
            for cls in returned:
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

    def levels(self) -> dict[str, tuple[str, ...]]:
        """Every analyzer's and effect's quality levels (best first), by plugin name."""
        return {name: tuple(cls.levels) for name, cls in [*self.analyzers.items(), *self.effects.items()]}

    def broken(self) -> list[PluginRecord]:
        """Plugins that failed to load or had something skipped."""
        return [r for r in self.records.values() if r.problems]

    # -- hook calls ------------------------------------------------------------------------------
    def _per_plugin(self, hook_name: str) -> Iterator[tuple[str, Any]]:
        """``(plugin, caller)`` for each plugin implementing ``hook_name``, in pluggy's call order.

        Each caller is a pluggy subset hook caller that leaves out the other plugins' plain
        implementations but keeps every wrapper, so one plugin's failure stays its own while
        tracing, wrappers and ``tryfirst``/``trylast`` still apply."""
        impls = getattr(self.pm.hook, hook_name).get_hookimpls()
        plain = [impl for impl in impls if not (impl.hookwrapper or impl.wrapper)]
        for impl in reversed(plain):  # pluggy calls the last of get_hookimpls() first
            others = [other.plugin for other in plain if other.plugin_name != impl.plugin_name]
            yield impl.plugin_name, self.pm.subset_hook_caller(hook_name, remove_plugins=others)

    def call_safely(self, hook_name: str, refusable: bool = False, **kwargs: Any) -> None:
        """Call a lifecycle hook on every plugin; an exception is logged with the plugin's name.
        ``refusable``: an ``EdgefxError`` (a plugin refusing the run, e.g. a control panel that cannot
        listen) is raised instead, so the run ends before it starts."""
        for plugin, caller in self._per_plugin(hook_name):
            try:
                caller(**kwargs)
            except Exception as exc:
                if refusable and isinstance(exc, EdgefxError):
                    raise
                log.error("plugin %s: %s failed: %s: %s", plugin, hook_name, type(exc).__name__, exc)

    def benchmarks(self) -> list[Benchmark]:
        """Every plugin's ``edgefx_benchmarks``; a plugin whose hook raises is reported and skipped."""
        out: list[Benchmark] = []
        for plugin, caller in self._per_plugin("edgefx_benchmarks"):
            try:
                out.extend(bench for result in caller() for bench in result or [])
            except Exception as exc:
                log.error("plugin %s: edgefx_benchmarks failed: %s: %s", plugin, type(exc).__name__, exc)
        return out


def _trace_before(hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
    plugins = ", ".join(impl.plugin_name for impl in impls) or "no plugin"
    sys.stderr.write(f"[edgefx trace] {hook_name} -> {plugins} ({', '.join(kwargs) or 'no arguments'})\n")


def _trace_after(outcome: Any, hook_name: str, impls: list[Any], kwargs: dict[str, Any]) -> None:
    if outcome.exception is not None:
        plugins = ", ".join(impl.plugin_name for impl in impls)
        sys.stderr.write(f"[edgefx trace] {hook_name} <- {plugins} raised {outcome.exception!r}\n")


def builtin_plugins() -> list[EntryPoint]:
    """An entry point for each built-in plugin: every module and package in ``edgefx.plugins``."""
    import edgefx.plugins

    return [EntryPoint(name=mod.name, value=f"edgefx.plugins.{mod.name}", group=GROUP)
            for mod in pkgutil.iter_modules(edgefx.plugins.__path__)]


def with_builtins(eps: Iterable[EntryPoint]) -> list[EntryPoint]:
    """``eps`` plus the built-in plugins the package metadata does not list."""
    eps = list(eps)
    listed = {ep.value for ep in eps}
    return [*eps, *(ep for ep in builtin_plugins() if ep.value not in listed)]


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
    """The registry of the installed plugins (the built-ins are always among them)."""
    return Registry()
