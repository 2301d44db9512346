"""Triggers: [[triggers]] tables turn bus events into actions on a real effect (particles),
through the real loop, at the frames where the events are due."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.events import Event, EventBus
from edgefx.plugins.particles.effect import Particles
from edgefx.registry import Registry
from edgefx.runtime.pipeline import Pipeline
from edgefx.runtime.runner import execute
from edgefx.runtime.triggers import parse_triggers
from edgefx.testing import ArraySource, CollectSink, FakeClock, sample_frames


def run(triggers: list[dict], events: list[Event], frames: int = 60) -> tuple[list[bool], Particles]:
    """Per frame (30 fps): whether particles is switched on after that frame's events."""
    effect = Particles({"seed": 1})
    bus = EventBus()
    for event in events:
        bus.publish(event)
    pipeline = Pipeline(ArraySource(sample_frames(frames, (160, 120)), FakeClock()), None, {}, {"particles": effect},
                        bus=bus, triggers=parse_triggers(triggers))
    pipeline.sink = CollectSink(keep=False)
    enabled: list[bool] = []
    pipeline.start()
    pipeline.run(on_frame=lambda frame, ctx: enabled.append(effect.enabled))
    return enabled, effect


def said(word: str, t: float | None) -> Event:
    return Event("keyword", t, "speech", {"word": word, "confidence": 0.9})


def first(flags: list[bool], value: bool, after: int = 0) -> int:
    return flags.index(value, after)


def test_on_at_the_frame_of_the_word() -> None:
    flags, _ = run([{"keyword": "snow", "effect": "particles", "action": "on"}], [said("snow", 0.5)])
    assert first(flags, True) == 15 and all(flags[15:])


def test_pulse_ends_after_its_seconds() -> None:
    flags, _ = run([{"keyword": "Snow", "effect": "particles", "action": "pulse", "seconds": 0.5}],
                   [said("snow", 0.5)])
    assert flags[:15] == [False] * 15 and flags[15:30] == [True] * 15 and not any(flags[30:])


def test_toggle_with_debounce() -> None:
    events = [said("snow", 0.5), said("snow", 0.6), said("snow", 1.2)]  # the second is a repeat
    flags, _ = run([{"keyword": "snow", "effect": "particles", "action": "toggle", "debounce": 0.5}], events)
    assert first(flags, True) == 15 and first(flags, False, 15) == 36


def test_set_changes_an_option() -> None:
    _, effect = run([{"keyword": "fire", "effect": "particles", "action": "set", "option": "kind", "value": "sparks"}],
                    [said("fire", 0.5)])
    assert effect.settings["kind"] == "sparks"


def test_live_event_fires_on_the_next_frame_and_other_words_do_nothing() -> None:
    """``t=None`` (live, or a hotkey / the control API publishing a keyword) applies with the next frame."""
    flags, _ = run([{"keyword": "snow", "effect": "particles", "action": "pulse", "seconds": 1.0}],
                   [said("rain", 0.2), Event("trigger", None, "control", {"keyword": "snow"})])
    assert flags[0] and sum(flags) == 30


def test_hotkey_rule() -> None:
    flags, _ = run([{"hotkey": "S", "effect": "particles", "action": "toggle"}],
                   [Event("hotkey", 0.5, "control", {"key": "s"}), Event("keyword", 0.7, "speech", {"word": "s"})])
    assert first(flags, True) == 15 and all(flags[15:])  # the spoken "s" is not the hotkey


@pytest.mark.parametrize(("table", "message"), [
    ({"keyword": "snow", "effect": "particles", "action": "on", "colour": 1}, "unknown key 'colour'"),
    ({"keyword": "snow", "effect": "particles", "action": "boom"}, "action = 'boom' is not allowed"),
    ({"keyword": "snow", "effect": "particles"}, "action must be a non-empty string"),
    ({"keyword": "snow", "hotkey": "s", "effect": "particles", "action": "on"}, "give exactly one of keyword, hotkey"),
    ({"effect": "particles", "action": "on"}, "give exactly one of keyword, hotkey"),
    ({"keyword": "snow", "effect": "particles", "action": "set", "option": "kind"},
     "action = 'set' needs option and value"),
    ({"keyword": "snow", "effect": "particles", "action": "on", "value": 2}, "value is only used with action"),
    ({"keyword": "snow", "effect": "particles", "action": "pulse", "seconds": -1}, "seconds = -1 must be"),
])
def test_bad_tables_name_the_key(table: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=r"\[\[triggers\]\] #2: " + message.replace("(", r"\(").replace("[", r"\[")):
        parse_triggers([{"keyword": "a", "effect": "particles", "action": "on"}, table], "my.toml")


def write_preset(tmp_path: Path, trigger: str, effects: str = '["particles"]') -> Path:
    path = tmp_path / "party.toml"
    path.write_text(f'[input]\nurl = "testsrc:"\n[output]\nurl = "{tmp_path / "out.mp4"}"\n'
                    f'[run]\neffects = {effects}\n\n[[triggers]]\n{trigger}\n')
    return path


def test_set_value_checked_against_the_effect_at_start(tmp_path: Path) -> None:
    rule = 'keyword = "x"\neffect = "particles"\naction = "set"\noption = "kind"\nvalue = "rain"'
    path = write_preset(tmp_path, rule)
    with pytest.raises(ConfigError, match=r"party.toml: \[\[triggers\]\] #1: particles: kind = 'rain' is not allowed"):
        execute(load_settings(str(path)), Registry())
    assert not (tmp_path / "out.mp4").exists()


def test_trigger_on_an_effect_not_enabled(tmp_path: Path) -> None:
    path = write_preset(tmp_path, 'keyword = "x"\neffect = "particles"\naction = "on"', effects="[]")
    with pytest.raises(ConfigError, match="targets effect 'particles', which is not enabled"):
        execute(load_settings(str(path)), Registry())


def test_light_saber_is_triggered_the_same_way() -> None:
    """Ignite and retract are the saber's set_enabled: a trigger rule drives them like any effect."""
    from edgefx.plugins.saber.effect import SaberEffect

    saber = SaberEffect()
    table = parse_triggers([{"keyword": "duel", "effect": "lightsaber", "action": "pulse", "seconds": 2.0}])
    saber.set_enabled(False)
    table.handle(said("duel", 1.0), {"lightsaber": saber})
    assert saber.enabled
    table.tick(3.0, {"lightsaber": saber})
    assert not saber.enabled
