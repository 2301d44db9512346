"""Base classes for what plugins provide: analyzers (perception) and effects (rendering).

The hot loop calls these objects directly, so the scheduler can time and control
each one. pluggy hooks (see ``hookspecs.py``) only register the classes.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from edgefx.errors import ConfigError
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext, View
from edgefx.io.info import StreamInfo
from edgefx.options import Option, resolve_options

if TYPE_CHECKING:
    import av


class Layer(enum.IntEnum):
    """Where an effect draws. Effects run in this order, so ordering is data, not code."""

    CAMERA = -1
    """What a camera does to the whole picture before anything is drawn on it: framing (``autoframe``
    crops and zooms, results are mapped with ``FrameContext.reframe``), exposure (``relight``), touch-up."""
    BACKGROUND = 0
    BEHIND_PERSON = 1
    PERSON = 2
    FACE = 3
    FOREGROUND = 4
    OVERLAY = 5


class Configurable:
    """Something with a ``name`` and declared ``options``; ``settings`` holds validated values.

    ``bus`` is the run's ``EventBus``, handed over by the loop before ``start`` (``None`` outside a
    run): publish events on it (a heard keyword, a held gesture).
    """

    name: ClassVar[str]
    options: ClassVar[Mapping[str, Option]] = {}
    bus: EventBus | None = None
    #: Typical cost per frame in ms; a frame far over it is reported as an overrun
    #: (``edgefx.runtime.isolation``). ``None``: the frame budget is the yardstick.
    expected_ms: ClassVar[float | None] = None

    levels: ClassVar[tuple[str, ...]] = ("full",)
    """Quality levels from best to cheapest; the scheduler picks one with ``set_level``."""

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        self.settings: dict[str, Any] = resolve_options(self.name, self.options, settings or {})
        self.level = self.levels[0]

    def set_level(self, level: str) -> None:
        """Switch quality level; ``level`` is one of ``levels``."""
        if level not in self.levels:
            raise ValueError(f"{self.name}: unknown level {level!r}; levels are {self.levels}")
        self.level = level

    def set_option(self, key: str, value: Any) -> None:
        """Change one option while running (validated like at start). When ``option_changed`` refuses
        the new value with ``ConfigError``, the previous settings stay and the error is raised."""
        previous = self.settings
        self.settings = resolve_options(self.name, self.options, {**self.settings, key: value})
        try:
            self.option_changed(key)
        except ConfigError:
            self.settings = previous
            raise

    def option_changed(self, key: str) -> None:
        """React to ``key`` changed while running (``self.settings`` holds the new value), e.g. reload
        a file; raise ``ConfigError`` to refuse the value. Default: nothing to do."""

    def start(self, stream: StreamInfo) -> None:
        """Called once before the first frame with the stream's size and rate. Load models here."""

    def close(self) -> None:
        """Called once after the last frame. Release threads, files and models."""


class Analyzer(Configurable):
    """Perception: computes a typed result for a frame and stores it in the context.

    Subclasses set ``name`` (also the context key), ``options``, and implement
    ``analyze``. When the scheduler decides not to run it fresh on a frame it calls
    ``carry`` instead, which must be cheap (reuse, track, predict or decay).
    ``levels`` lists quality levels from best to cheapest; the scheduler picks one
    with ``set_level``.
    """

    requires: ClassVar[tuple[str, ...]] = ()
    result_type: ClassVar[Any] = object
    """What ``analyze`` and ``carry`` return, as a type expression (``list[Face]``, ``PersonMask``,
    ``Saber | None``; the shared ones are in ``edgefx.results``). ``edgefx.testing.run_plugin``
    checks every result against it (``edgefx.results.conforms``)."""
    audio_lookahead: ClassVar[float] = 0.0
    """Audio analyzers (those overriding ``on_audio``): seconds of audio past a frame's time that
    must have been delivered before that frame is analyzed, on file inputs. The loop holds
    video frames back that long so an event lands on the frame where it happened.
    Live inputs ignore it (events fire as soon as they are heard)."""

    def analyze(self, frame: Frame, ctx: FrameContext) -> Any:
        """Compute a fresh result for ``frame``. ``frame.image`` must not be modified."""
        raise NotImplementedError

    def on_audio(self, frame: av.AudioFrame) -> None:
        """Receive each decoded audio frame of the input, in order, on the loop thread (never while
        ``analyze`` runs). Override it to analyze sound; the default ignores audio."""

    @property
    def hears_audio(self) -> bool:
        """Whether this analyzer overrides ``on_audio`` (the loop hands audio only to those)."""
        return type(self).on_audio is not Analyzer.on_audio

    def carry(self, frame: Frame, ctx: FrameContext, last: Any) -> Any:
        """Return a result for ``frame`` without running the model; default: reuse ``last``."""
        return last

    def reframe(self, result: Any, view: View) -> Any:
        """``result`` mapped onto a picture an effect cropped and scaled by ``view`` (``edgefx.frame.View``),
        as a new object (``result`` itself is this analyzer's state for ``carry``). Override when the
        result holds picture coordinates or pixels; default: ``result`` unchanged (no geometry)."""
        return result

    def export(self, result: Any, frame: Frame, out_dir: Path) -> Any:
        """Turn ``result`` into JSON for ``edgefx analyze``. Large data (masks) may be
        written under ``out_dir / self.name`` and referenced. Default: ``result`` itself."""
        return result


class Effect(Configurable):
    """Rendering: reads the context and draws on ``frame.image`` in place, every frame.

    Subclasses set ``name``, ``layer``, ``requires`` (analyzer names whose results
    they read; the engine enables those analyzers) and implement ``apply``.
    ``levels`` lists quality levels from best to cheapest (fewer particles, smaller
    glow); the scheduler picks one with ``set_level`` when the frame budget is tight.
    """

    layer: ClassVar[Layer] = Layer.FOREGROUND
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(self, settings: Mapping[str, Any] | None = None) -> None:
        super().__init__(settings)
        self.enabled = True

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        """Draw on ``frame.image`` in place."""
        raise NotImplementedError

    @property
    def active(self) -> bool:
        """Whether ``apply`` runs this frame. Default: when enabled; an effect with an
        off-animation (a retracting blade) stays active until the animation ends."""
        return self.enabled

    def set_enabled(self, enabled: bool) -> None:
        """Turn the effect on or off (triggers, hotkeys, control panel). Override to animate."""
        self.enabled = enabled

    def on_event(self, event: Event) -> None:
        """Receive every bus event due at the current frame, before ``apply``."""
