"""Plugin hooks of ``speech``: the keyword-spotting analyzer, its benchmarks and ``edgefx speech``."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_analyzers():
    from edgefx.plugins.speech.analyzer import SpeechAnalyzer
    return [SpeechAnalyzer]


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.speech.bench import speech_benchmarks
    return speech_benchmarks()


@hookimpl
def edgefx_add_commands(subparsers):
    from edgefx.plugins.speech.tune import add_command
    add_command(subparsers)
