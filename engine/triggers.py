"""Triggers: configuration that turns bus events (spoken keywords, hotkeys, the control API) into
effect actions. One ``[[triggers]]`` table per rule::

    [[triggers]]
    keyword = "snow"          # fires on Event("keyword", data={"word": "snow"}) from any publisher
    effect = "particles"
    action = "pulse"          # on | off | toggle | pulse | set
    seconds = 5.0             # pulse: how long the effect stays on
    debounce = 1.0            # ignore the same rule again within this many seconds

    [[triggers]]
    hotkey = "s"              # or a hotkey: fires on Event("hotkey", data={"key": "s"})
    effect = "particles"
    action = "toggle"

    [[triggers]]
    keyword = "fire"
    effect = "particles"
    action = "set"            # set one option of the effect
    option = "kind"
    value = "sparks"

Times are media times: a pulse started by a word that ended at 12.3 s on a file ends at
12.3 s + ``seconds``; events without a time use the current frame's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgefx.errors import ConfigError
from edgefx.events import Event
from edgefx.options import Option, resolve_options
from edgefx.plugin import Effect

ACTIONS = ("on", "off", "toggle", "pulse", "set")
KEYS = {"keyword", "hotkey", "effect", "action", "seconds", "option", "value", "debounce"}
TIMES = {"seconds": Option(3.0, "pulse: how long the effect stays on", min=0),
         "debounce": Option(0.5, "ignore the same rule again within this many seconds", min=0)}
"""The rule's times, checked by the same validator as every option (finite numbers only)."""
TRIGGER_EVENTS = ("keyword", "trigger")
"""Event names triggers listen to; the word is ``data["word"]`` (or ``data["keyword"]``)."""


def event_word(event: Event) -> str:
    """The spoken or fired word of a ``keyword``/``trigger`` event, lower case ("" for other events)."""
    if event.name not in TRIGGER_EVENTS:
        return ""
    return str(event.data.get("word", event.data.get("keyword")) or "").strip().lower()


@dataclass(frozen=True, slots=True)
class Trigger:
    """One rule: when ``keyword`` is heard (or ``hotkey`` pressed), do ``action`` to ``effect``."""

    keyword: str | None
    hotkey: str | None
    effect: str
    action: str
    seconds: float = 3.0
    option: str | None = None
    value: Any = None
    debounce: float = 0.5


def parse_triggers(tables: Iterable[Mapping[str, Any]], origin: str = "config") -> TriggerTable:
    """Validate ``[[triggers]]`` tables; errors name the rule (1-based) and the key."""
    rules = []
    for number, table in enumerate(tables, start=1):
        where = f"{origin}: [[triggers]] #{number}"
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: must be a table", 'write [[triggers]] with keyword = "...", effect = "..."')
        unknown = sorted(set(table) - KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r}", f"keys are: {', '.join(sorted(KEYS))}")
        if ("keyword" in table) == ("hotkey" in table):
            raise ConfigError(f"{where}: give either keyword or hotkey", 'e.g. keyword = "snow" or hotkey = "s"')
        for key in ("keyword" if "keyword" in table else "hotkey", "effect", "action"):
            if not isinstance(table.get(key), str) or not table[key].strip():
                raise ConfigError(f"{where}: {key} must be a non-empty string", f'add {key} = "..."')
        action = table["action"]
        if action not in ACTIONS:
            raise ConfigError(f"{where}: action = {action!r} is not allowed", f"action is one of {', '.join(ACTIONS)}")
        for key, option in TIMES.items():
            try:
                option.check(key, table.get(key, option.default))
            except ValueError:
                raise ConfigError(f"{where}: {key} = {table[key]!r} must be a finite number >= 0",
                                  f"e.g. {key} = 2.0") from None
        if action == "pulse" and not table.get("seconds", 3.0):
            raise ConfigError(f"{where}: seconds must be > 0 for a pulse", "e.g. seconds = 3.0")
        if action == "set" and ("option" not in table or "value" not in table):
            raise ConfigError(f"{where}: action = 'set' needs option and value",
                              'e.g. option = "kind", value = "sparks"')
        if action != "set" and ("option" in table or "value" in table):
            key = "option" if "option" in table else "value"
            raise ConfigError(f"{where}: {key} is only used with action = 'set'",
                              f"remove {key} or use action = 'set'")
        keyword, hotkey = (table.get(k, "").strip().lower() or None for k in ("keyword", "hotkey"))
        rules.append(Trigger(keyword, hotkey, table["effect"], action,
                             float(table.get("seconds", 3.0)), table.get("option"), table.get("value"),
                             float(table.get("debounce", 0.5))))
    return TriggerTable(rules, origin)


class TriggerTable:
    """Applies the rules on the loop thread: ``handle`` each delivered event, ``tick`` once per frame."""

    def __init__(self, rules: list[Trigger], origin: str = "config") -> None:
        self.rules = rules
        self.origin = origin
        self._now = 0.0
        self._last: dict[int, float] = {}
        self._pulses: dict[str, tuple[float | None, float]] = {}
        """Effect name -> (media time its pulse ends or None: from the next frame's time, seconds)."""

    def check(self, effects: Mapping[str, Effect]) -> None:
        """Check the rules against the enabled effects (at start, before any frame): every target is
        enabled, and ``set`` rules name an option with an allowed value."""
        missing = sorted({rule.effect for rule in self.rules} - set(effects))
        if missing:
            raise ConfigError(f"a trigger targets effect {missing[0]!r}, which is not enabled",
                              f"add it to [run] effects (enabled: {', '.join(effects) or 'none'})")
        for number, rule in enumerate(self.rules, start=1):
            if rule.action != "set":
                continue
            effect = effects[rule.effect]
            try:
                resolve_options(rule.effect, effect.options, {rule.option: rule.value})
            except ConfigError as exc:
                raise ConfigError(f"{self.origin}: [[triggers]] #{number}: {exc.message}", exc.hint) from None

    def handle(self, event: Event, effects: Mapping[str, Effect]) -> None:
        if event.name in TRIGGER_EVENTS:
            field, value = "keyword", event_word(event)
        elif event.name == "hotkey":
            field, value = "hotkey", str(event.data.get("key") or "").strip().lower()
        else:
            return
        t = self._now if event.t is None else event.t
        for i, rule in enumerate(self.rules):
            effect = effects.get(rule.effect)
            if not value or getattr(rule, field) != value or effect is None:
                continue
            last = self._last.get(i)
            if last is not None and 0 <= t - last < rule.debounce:
                continue
            self._last[i] = t
            self._apply(rule, effect, event)

    def _apply(self, rule: Trigger, effect: Effect, event: Event) -> None:
        if rule.action == "set":
            effect.set_option(rule.option, rule.value)
            return
        self._pulses.pop(rule.effect, None)
        if rule.action == "toggle":
            effect.set_enabled(not effect.enabled)
        else:
            effect.set_enabled(rule.action != "off")
        if rule.action == "pulse":
            self._pulses[rule.effect] = (None if event.t is None else event.t + rule.seconds, rule.seconds)

    def tick(self, media_time: float, effects: Mapping[str, Effect]) -> None:
        """Once per frame after its events: end pulses that are over."""
        self._now = media_time
        for name, (end, seconds) in list(self._pulses.items()):
            if end is None:
                self._pulses[name] = (media_time + seconds, seconds)
            elif media_time >= end:
                del self._pulses[name]
                if name in effects:
                    effects[name].set_enabled(False)
