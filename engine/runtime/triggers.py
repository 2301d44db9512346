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

    [[triggers]]
    gesture = "thumbs_up"     # or a gesture (hands analyzer) / expression = "smile" (expressions)
    effect = "particles"
    action = "pulse"
    hold_s = 0.5              # fire once the gesture has been held this long (once per hold)
    cooldown_s = 3.0          # then not again within this many seconds
    enabled = true            # a reaction can be switched off here or from the control panel

A ``reaction`` event (``data={"reaction": "thumbs_up", "enabled": false}``, e.g. from the panel)
switches every gesture/expression rule of that name on or off.

Times are media times: a pulse started by a word that ended at 12.3 s on a file ends at
12.3 s + ``seconds``; events without a time use the current frame's time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from edgefx.contract import Effect
from edgefx.errors import ConfigError
from edgefx.events import TRIGGER_EVENTS, Event, event_word
from edgefx.options import Option, resolve_options

ACTIONS = ("on", "off", "toggle", "pulse", "set")
SOURCES = ("keyword", "hotkey", "gesture", "expression")
"""What a rule listens for: exactly one of these keys."""
HELD = ("gesture", "expression")
"""Sources published while held (``data[source]``, ``who``, ``since``, ``held_s``; ``edgefx.events.Holds``)."""
KEYS = {*SOURCES, "effect", "action", "seconds", "option", "value", "debounce", "hold_s", "cooldown_s", "enabled"}
TIMES = {"seconds": Option(3.0, "pulse: how long the effect stays on", min=0),
         "debounce": Option(0.5, "ignore the same rule again within this many seconds", min=0),
         "hold_s": Option(0.5, "gesture/expression: how long it must be held before the rule fires", min=0),
         "cooldown_s": Option(3.0, "gesture/expression: wait this long before the rule fires again", min=0)}
"""The rule's times, checked by the same validator as every option (finite numbers only)."""
REACTION_EVENT = "reaction"


@dataclass(frozen=True, slots=True)
class Trigger:
    """One rule: when ``keyword`` is heard (or ``hotkey`` pressed, or ``gesture`` / ``expression``
    held for ``hold_s``), do ``action`` to ``effect``."""

    keyword: str | None
    hotkey: str | None
    effect: str
    action: str
    seconds: float = 3.0
    option: str | None = None
    value: Any = None
    debounce: float = 0.5
    gesture: str | None = None
    expression: str | None = None
    hold_s: float = 0.5
    cooldown_s: float = 3.0
    enabled: bool = True

    @property
    def source(self) -> str:
        """Which of ``SOURCES`` this rule listens for."""
        return next(key for key in SOURCES if getattr(self, key) is not None)


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
        given = [key for key in SOURCES if key in table]
        if len(given) != 1:
            raise ConfigError(f"{where}: give exactly one of {', '.join(SOURCES)}",
                              'e.g. keyword = "snow", hotkey = "s", gesture = "thumbs_up" or expression = "smile"')
        source = given[0]
        for key in (source, "effect", "action"):
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
        held_keys = {"hold_s", "cooldown_s"} & set(table)
        if source not in HELD and held_keys:
            raise ConfigError(f"{where}: {sorted(held_keys)[0]} is only for gesture and expression rules",
                              "use debounce for keyword and hotkey rules")
        if source in HELD and "debounce" in table:
            raise ConfigError(f"{where}: debounce is for keyword and hotkey rules", "use cooldown_s here")
        if not isinstance(table.get("enabled", True), bool):
            raise ConfigError(f"{where}: enabled must be true or false", "e.g. enabled = false")
        if action == "pulse" and not table.get("seconds", 3.0):
            raise ConfigError(f"{where}: seconds must be > 0 for a pulse", "e.g. seconds = 3.0")
        if action == "set" and ("option" not in table or "value" not in table):
            raise ConfigError(f"{where}: action = 'set' needs option and value",
                              'e.g. option = "kind", value = "sparks"')
        if action != "set" and ("option" in table or "value" in table):
            key = "option" if "option" in table else "value"
            raise ConfigError(f"{where}: {key} is only used with action = 'set'",
                              f"remove {key} or use action = 'set'")
        keyword, hotkey, gesture, expression = (table.get(k, "").strip().lower() or None for k in SOURCES)
        times = {key: float(table.get(key, option.default)) for key, option in TIMES.items()}
        rules.append(Trigger(keyword, hotkey, table["effect"], action, times["seconds"], table.get("option"),
                             table.get("value"), times["debounce"], gesture, expression, times["hold_s"],
                             times["cooldown_s"], table.get("enabled", True)))
    return TriggerTable(rules, origin)


class TriggerTable:
    """Applies the rules on the loop thread: ``handle`` each delivered event, ``tick`` once per frame."""

    def __init__(self, rules: list[Trigger], origin: str = "config") -> None:
        self.rules = rules
        self.origin = origin
        self._now = 0.0
        self._last: dict[int, float] = {}
        self._fired_hold: dict[int, tuple[Any, float]] = {}
        """Rule index -> the hold (who, since) it last fired on: a held gesture fires once."""
        self.enabled = [rule.enabled for rule in rules]
        self.fired: list[tuple[float, int]] = []
        """(media time, rule index) of every rule that fired, in order."""
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

    def reactions(self) -> dict[str, bool]:
        """Each gesture/expression named by a rule, and whether its rules are on."""
        out: dict[str, bool] = {}
        for rule, on in zip(self.rules, self.enabled, strict=True):
            if rule.source in HELD:
                name = getattr(rule, rule.source)
                out[name] = out.get(name, False) or on
        return out

    def set_reaction(self, name: str, enabled: bool) -> None:
        """Switch every gesture/expression rule named ``name`` on or off."""
        for i, rule in enumerate(self.rules):
            if rule.source in HELD and getattr(rule, rule.source) == name:
                self.enabled[i] = enabled

    def handle(self, event: Event, effects: Mapping[str, Effect]) -> None:
        if event.name == REACTION_EVENT:
            self.set_reaction(str(event.data.get("reaction", "")).lower(), bool(event.data.get("enabled", True)))
            return
        if event.name in TRIGGER_EVENTS:
            field, value = "keyword", event_word(event)
        elif event.name == "hotkey":
            field, value = "hotkey", str(event.data.get("key") or "").strip().lower()
        elif event.name in HELD:
            field, value = event.name, str(event.data.get(event.name) or "").lower()
        else:
            return
        t = self._now if event.t is None else event.t
        for i, rule in enumerate(self.rules):
            effect = effects.get(rule.effect)
            if not value or getattr(rule, field) != value or effect is None or not self.enabled[i]:
                continue
            last = self._last.get(i)
            if field in HELD:
                hold = (str(event.data.get("who")), float(event.data.get("since", t)))
                if float(event.data.get("held_s", 0.0)) < rule.hold_s - 1e-6 or self._fired_hold.get(i) == hold or (
                        last is not None and 0 <= t - last < rule.cooldown_s):
                    continue
                self._fired_hold[i] = hold
            elif last is not None and 0 <= t - last < rule.debounce:
                continue
            self._last[i] = t
            self.fired.append((t, i))
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
