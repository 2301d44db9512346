"""``person_front``: puts the person back on top of what ``behind-person`` effects drew.

Layers run background -> behind-person -> person. ``background`` keeps the frame's original
pixels when effects draw behind the person (``keep_person``); this effect, at ``Layer.PERSON``,
blends them back over the frame with the person mask. ``link_layers`` (called from the
plugin's ``edgefx_startup`` hook) connects the two for one run.
"""

from __future__ import annotations

from collections.abc import Mapping

from edgefx.frame import Frame, FrameContext
from edgefx.plugin import Effect, Layer
from edgefx.plugins.background.effect import Background, composite
from edgefx.plugins.person.mask import PersonMask


class PersonFront(Effect):
    """The person over everything drawn behind them (needs ``background`` in the same run)."""

    name = "person_front"
    layer = Layer.PERSON
    requires = ("person",)

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self.background: Background | None = None
        self.behind: list[Effect] = []

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        person: PersonMask | None = ctx.get("person")
        bg = self.background
        if (person is None or bg is None or bg.original is None or bg.original_index != frame.index
                or not any(e.active for e in self.behind)):
            return
        alpha = person.full(frame.height, frame.width)
        original = bg.original
        composite(original, alpha, frame.image, box=person.box(frame.height, frame.width))
        frame.image[:] = original


def link_layers(effects: Mapping[str, Effect]) -> list[str]:
    """Connect ``background`` and ``person_front`` of one run; returns warnings for the user."""
    behind = [e for e in effects.values() if e.layer == Layer.BEHIND_PERSON]
    bg, front = effects.get("background"), effects.get("person_front")
    if not behind:
        return []
    if not isinstance(front, PersonFront):
        return [f"effects {', '.join(e.name for e in behind)} draw behind the person but person_front is "
                "not enabled: they will cover the person (add person_front to the effects)"]
    if not isinstance(bg, Background):
        return ["person_front needs the background effect in the same run (it keeps the person's pixels)"]
    bg.keep_person = True
    front.background, front.behind = bg, behind
    return []
