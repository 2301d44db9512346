"""Plugin hooks of ``speech``: the keyword-spotting analyzer and its latency benchmark."""

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
