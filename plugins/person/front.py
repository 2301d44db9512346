"""``person_front``: the person on top of what ``behind-person`` effects drew.

Effects run in layer order: background -> behind-person -> person -> ... An effect in the
behind-person layer (particles, light) draws over the whole frame, person included. When such
effects are in a run, ``link_layers`` (from the ``edgefx_startup`` hook) tells the ``person``
analyzer to keep a copy of each frame as it came in; ``person_front`` (layer person) pastes the
person back from it with the mask. Nothing is copied or pasted when no such effect is active.
"""

from __future__ import annotations

from collections.abc import Mapping

from edgefx.contract import Analyzer, Effect, Layer
from edgefx.frame import Frame, FrameContext
from edgefx.plugins.person.analyzer import PersonAnalyzer
from edgefx.results import PersonMask
from edgefx.vision.mask_ops import paste


class PersonFront(Effect):
    """Pastes the person (as the camera saw them) over what behind-person effects drew."""

    name = "person_front"
    layer = Layer.PERSON
    requires = ("person",)

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self.behind: list[Effect] = []

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        person: PersonMask | None = ctx.get("person")
        if person is None or person.original is None or not any(e.active for e in self.behind):
            return
        box, alpha = person.inside(frame.height, frame.width)
        paste(frame.image, person.original, alpha, box)


def link_layers(analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> list[str]:
    """Set up one run for behind-person effects; returns warnings for the user (empty when all is well)."""
    behind = [e for e in effects.values() if e.layer == Layer.BEHIND_PERSON]
    front, person = effects.get("person_front"), analyzers.get("person")
    if not behind:
        return []
    names = ", ".join(e.name for e in behind)
    if not isinstance(front, PersonFront) or not isinstance(person, PersonAnalyzer):
        return [f"{names} draw behind the person but person_front is not enabled, so they cover the person: "
                "add person_front to the effects"]
    person.keep_frame = True
    front.behind = behind
    return []
