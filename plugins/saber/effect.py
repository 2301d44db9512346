"""The ``lightsaber`` effect: a glowing blade on the ``saber`` analyzer's stick, with ignite/retract
animations and triggers. (Not named ``saber`` too: the engine keys stage timings, scheduler units and
failure isolation by plugin name, so an effect and an analyzer must not share one.)"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from edgefx.contract import Effect, Layer
from edgefx.events import Event, event_word
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.options import Option
from edgefx.plugins.saber.blade import GLOW_RADII, Blade, draw_blade, parse_colour
from edgefx.results import Saber

ACTIONS = ("ignite", "retract", "toggle")


class SaberEffect(Effect):
    """Blade from the hilt along the stick, ``length`` times the stick. It grows over ``ignite_s`` when
    the effect is enabled (or the stick appears) and shrinks back when disabled (or the stick is lost),
    at the last position. Triggers: ``keyword`` events (speech) and ``trigger`` events (control API)
    whose word is in ``ignite_words`` / ``retract_words``, ``hotkey`` events for ``hotkey`` (toggle),
    and ``trigger`` events with ``data = {"effect": "lightsaber", "action": "ignite" | "retract" |
    "toggle"}``. ``[[triggers]]`` rules work too: their on/off/toggle/pulse are ``set_enabled``."""

    name = "lightsaber"
    layer = Layer.FOREGROUND
    requires = ("saber",)
    levels: ClassVar[tuple[str, ...]] = tuple(GLOW_RADII)
    expected_ms: ClassVar[float | None] = 2.0
    options: ClassVar[dict[str, Option]] = {
        "colour": Option("blue", "blade colour: a name (blue, green, red, purple, yellow, orange, cyan, "
                         "white) or [B, G, R]", type=(str, list), widget="colour"),
        "length": Option(1.0, "blade length as a multiple of the visible stick", min=0.2, max=4.0),
        "ignite_s": Option(0.3, "seconds the blade takes to grow (ignite) or shrink (retract)", min=0.0, max=5.0),
        "smear": Option(0.5, "strength of the motion smear between consecutive blades (0 = none)",
                        min=0.0, max=1.0),
        "ignite_words": Option(["ignite"], "spoken keywords that ignite the blade"),
        "retract_words": Option(["retract"], "spoken keywords that retract it"),
        "hotkey": Option("l", "hotkey that toggles the blade (\"\" = none)"),
    }

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.colour = parse_colour(self.settings["colour"])
        self.extent = 0.0
        """Drawn fraction of the blade, 0 (off) to 1 (fully lit)."""
        self.stick: tuple[np.ndarray, np.ndarray] | None = None
        """The last tracked hilt and tip: a retracting blade shrinks there when the stick is gone."""
        self.width = 0.0
        """The last tracked stick's width (frame pixels): the blade's core covers it."""
        self.previous: Blade | None = None
        self.last_time: float | None = None

    def start(self, stream: StreamInfo) -> None:
        self.extent, self.stick, self.previous, self.last_time, self.width = 0.0, None, None, None, 0.0

    def option_changed(self, key: str) -> None:
        self.colour = parse_colour(self.settings["colour"])

    @property
    def active(self) -> bool:
        """Enabled, or still retracting."""
        return self.enabled or self.extent > 0.0

    def on_event(self, event: Event) -> None:
        """Ignite, retract or toggle on a matching keyword, hotkey or trigger event."""
        data, action, word = event.data, None, event_word(event)
        if word:
            action = ("ignite" if word in self.settings["ignite_words"]
                      else "retract" if word in self.settings["retract_words"] else None)
        elif event.name == "hotkey" and data.get("key") == self.settings["hotkey"]:
            action = "toggle"
        elif event.name == "trigger" and data.get("effect", self.name) == self.name and data.get("action") in ACTIONS:
            action = data["action"]
        if action is not None:
            self.set_enabled(not self.enabled if action == "toggle" else action == "ignite")

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        saber: Saber | None = ctx.get("saber")
        if saber is not None:
            self.stick = (np.array(saber.base, float), np.array(saber.tip, float))
            self.width = saber.width
        dt = 0.0 if self.last_time is None else float(np.clip(frame.time - self.last_time, 0.0, 0.1))
        self.last_time = frame.time
        grow = self.enabled and saber is not None
        step = 1.0 if self.settings["ignite_s"] <= 0 else dt / self.settings["ignite_s"]
        self.extent = float(np.clip(self.extent + (step if grow else -step), 0.0, 1.0))
        if self.stick is None or self.extent <= 0.0:
            self.previous = None
            return
        hilt, tip = self.stick
        blade = Blade(hilt, hilt + (tip - hilt) * self.settings["length"] * self.extent, self.width)
        smear = self.settings["smear"]
        draw_blade(frame.image, blade, self.colour, self.level, self.previous if smear > 0 else None, smear)
        self.previous = blade
