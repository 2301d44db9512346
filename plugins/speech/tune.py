"""``edgefx speech tune RECORDING --keywords a,b,c [--transcript FILE]``: check the spotter on your
own voice and room.

With a transcript (the words said, plain text) the recording is aligned to it and the spotter
runs at each confidence in ``CONFIDENCES``: per keyword the hits, misses and false alarms, and
the lowest confidence that keeps the most hits with no false alarm, as a line to paste into
``[analyzers.speech]``. Without one it lists what fired and when, at the default settings.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from edgefx.errors import ConfigError
from edgefx.plugins.speech.corpus import Aligner, decode, normalise
from edgefx.plugins.speech.scoring import Heard, score, spot
from edgefx.plugins.speech.sphinx import MIN_CONFIDENCE, SphinxRecognizer

CONFIDENCES = (0.8, 0.83, 0.85, 0.87, 0.89, 0.91, 0.93)
"""The ``min_confidence`` values tried."""


def add_command(subparsers: argparse._SubParsersAction) -> None:
    speech = subparsers.add_parser("speech", help="speech keyword tools")
    sub = speech.add_subparsers(dest="speech_command", required=True)
    tune = sub.add_parser("tune", help="hits, misses and false alarms per keyword across confidences")
    tune.add_argument("recording", help="any audio or video file FFmpeg reads (its first audio track)")
    tune.add_argument("--keywords", required=True, help="comma-separated, e.g. snow,fire,hearts,stop")
    tune.add_argument("--transcript", help="text file with the words said in the recording")
    tune.set_defaults(func=lambda args, _registry: run_tune(args))


def run_tune(args: argparse.Namespace) -> int:
    keywords = [k.strip().lower() for k in args.keywords.split(",") if k.strip()]
    if not keywords:
        raise ConfigError("speech tune: --keywords is empty", "give words, e.g. --keywords snow,fire")
    path = Path(args.recording)
    if not path.is_file():
        raise ConfigError(f"speech tune: {path} not found", "give the path of a recording")
    try:
        samples = decode(path)
    except (OSError, ValueError, IndexError) as exc:  # PyAV errors are OSError/ValueError subclasses
        raise ConfigError(f"speech tune: cannot read audio from {path}: {exc}",
                          "give a file with an audio track (`ffprobe FILE` shows its streams)") from None
    if args.transcript is None:
        print(listing(spot(SphinxRecognizer(keywords), samples), samples.size / 16000))
        return 0
    text = normalise(Path(args.transcript).read_text(encoding="utf-8"))
    aligner = Aligner()
    if not aligner.known(text):
        unknown = [w for w in text.split() if not aligner.known(w)]
        raise ConfigError(f"speech tune: the transcript has words the English dictionary lacks: {unknown[:5]}",
                          "spell them as ordinary words, or leave them out (write only what was said)")
    words = aligner.words(samples, text)
    if words is None:
        raise ConfigError("speech tune: the transcript does not match the recording",
                          "write exactly the words said, in order")
    print(report(samples, words, keywords))
    return 0


def listing(heard: list[Heard], seconds: float) -> str:
    """What fired and when (default settings)."""
    lines = [f"{len(heard)} keyword events in {seconds:.1f} s (min_confidence {MIN_CONFIDENCE}):"]
    lines += [f"  {h.hit.end:8.2f} s  {h.hit.word:<16} confidence {h.hit.confidence:.3f}" for h in heard]
    return "\n".join(lines)


def sweep(samples, words, keywords: list[str]) -> dict[float, dict[str, tuple[int, int, int]]]:
    """Per confidence, per keyword: (hits, misses, false alarms)."""
    out = {}
    for confidence in CONFIDENCES:
        result = score(spot(SphinxRecognizer(keywords, min_confidence=confidence), samples), words, keywords,
                       samples.size / 16000)
        out[confidence] = {k: (result.hits[k], result.said[k] - result.hits[k], result.false[k]) for k in keywords}
    return out


def suggest(table: dict[float, dict[str, tuple[int, int, int]]], keywords: list[str]) -> dict[str, float]:
    """Per keyword the confidence with the most hits minus false alarms (the lowest on a tie)."""
    return {k: max(CONFIDENCES, key=lambda c: (table[c][k][0] - table[c][k][2], -c)) for k in keywords}


def report(samples, words, keywords: list[str]) -> str:
    table = sweep(samples, words, keywords)
    best = suggest(table, keywords)
    lines = ["hits / misses / false alarms per keyword at each min_confidence:",
             "confidence  " + "  ".join(f"{k:>14}" for k in keywords)]
    for c, row in table.items():
        lines.append(f"{c:>10}  " + "  ".join(f"{'/'.join(map(str, row[k])):>14}" for k in keywords))
    lines.append("suggested, for [analyzers.speech]:")
    lines.append("confidences = {" + ", ".join(f"{k} = {best[k]}" for k in keywords) + "}")
    return "\n".join(lines)
