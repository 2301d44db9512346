"""Gesture and expression rules: hold-to-confirm, once per hold, cooldown, enabled and the
``reaction`` switch, through the real loop and a real effect (particles). The held events are made
by ``edgefx.events.Holds``, the code the analyzers publish with."""

from __future__ import annotations

import pytest
from test_triggers import first, run

from edgefx.errors import ConfigError
from edgefx.events import Event, Holds
from edgefx.runtime.triggers import parse_triggers

FPS = 30


def held(spans: list[tuple[int, int]], gesture: str = "thumbs_up", who: int = 1) -> list[Event]:
    """The events ``Holds`` publishes for ``gesture`` shown on frames [start, end) of each span."""
    holds = Holds("gesture", "gesture", "hands")
    events = []
    for i in range(max(end for _, end in spans) + 1):
        shown = [(gesture, who)] if any(a <= i < b for a, b in spans) else []
        events += holds.update(shown, i / FPS, None)
    return events


RULE = {"gesture": "thumbs_up", "effect": "particles", "action": "toggle", "hold_s": 0.5, "cooldown_s": 1.5}


def test_fires_once_the_gesture_is_held_for_hold_s():
    flags, _ = run([RULE], held([(10, 50)]), frames=90)
    assert first(flags, True) == 25 and all(flags[25:])  # held from frame 10; 0.5 s later; once per hold


def test_a_short_hold_does_not_fire():
    flags, _ = run([RULE], held([(10, 24), (30, 40)]), frames=60)
    assert not any(flags)


def test_cooldown_and_a_new_hold():
    # second hold starts at 40 (would fire at 55, within the 1.5 s cooldown of 25: no); third at 70 -> 85
    flags, _ = run([RULE], held([(10, 30), (40, 60), (70, 100)]), frames=110)
    assert first(flags, True) == 25 and first(flags, False, 25) == 85


def test_disabled_rules_and_the_reaction_switch():
    flags, _ = run([{**RULE, "enabled": False}], held([(10, 50)]), frames=60)
    assert not any(flags)
    switch_on = Event("reaction", 0.1, "control", {"reaction": "thumbs_up", "enabled": True})
    flags, _ = run([{**RULE, "enabled": False}], [switch_on, *held([(10, 50)])], frames=60)
    assert first(flags, True) == 25
    table = parse_triggers([RULE, {**RULE, "gesture": "heart"}, {"keyword": "snow", "effect": "x", "action": "on"}])
    table.set_reaction("heart", False)
    assert table.reactions() == {"thumbs_up": True, "heart": False}


def test_expression_rules_match_expression_events():
    holds = Holds("expression", "expression", "expressions")
    events = [e for i in range(40) for e in holds.update([("smile", 3)] if i >= 5 else [], i / FPS, None)]
    flags, _ = run([{"expression": "smile", "effect": "particles", "action": "on", "hold_s": 0.0}], events)
    assert first(flags, True) == 5


@pytest.mark.parametrize(("table", "message"), [
    ({"gesture": "heart", "keyword": "x", "effect": "particles", "action": "on"}, "give exactly one of"),
    ({"keyword": "x", "effect": "particles", "action": "on", "hold_s": 1.0}, "hold_s is only for gesture"),
    ({"gesture": "heart", "effect": "particles", "action": "on", "debounce": 1.0}, "debounce is for keyword"),
    ({"gesture": "heart", "effect": "particles", "action": "on", "cooldown_s": -1}, "cooldown_s = -1 must be"),
    ({"gesture": "heart", "effect": "particles", "action": "on", "enabled": "no"}, "enabled must be true or false"),
])
def test_bad_reaction_tables(table, message):
    with pytest.raises(ConfigError, match=message):
        parse_triggers([table])
