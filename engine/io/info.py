"""What a source tells the rest of the engine about its streams, before the first frame."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """The audio stream carried along with the video."""

    sample_rate: int
    channels: int
    layout: str
    time_base: Fraction


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """Video size, nominal rate and timing of a source; ``live`` sources drop stale frames."""

    width: int
    height: int
    fps: Fraction
    time_base: Fraction
    live: bool
    audio: AudioInfo | None = None
    frame_count: int | None = None
    name: str = ""

    @property
    def frame_budget_ms(self) -> float:
        """Time per frame at the nominal rate, in milliseconds."""
        return 1000.0 / float(self.fps)
