"""What a PocketSphinx decoder heard, as words with times: the segmentation the spotter's
verifier and the corpus's forced alignment both read."""

from __future__ import annotations

from typing import Any

FRAME_S = 0.01
"""PocketSphinx frame period (seconds)."""


def words_heard(decoder: Any, t0: float = 0.0) -> list[tuple[str, float, float]]:
    """The words of ``decoder``'s last utterance (no silences, fillers or noises; alternative
    pronunciations as their word) with start and end times, ``t0`` being the utterance's start;
    ``[]`` when it heard nothing."""
    if decoder.hyp() is None:
        return []
    return [(seg.word.split("(")[0], t0 + seg.start_frame * FRAME_S, t0 + (seg.end_frame + 1) * FRAME_S)
            for seg in decoder.seg() if not seg.word.startswith(("<", "[", "+"))]
