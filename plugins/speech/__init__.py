"""Speech keywords: Vosk or PocketSphinx listening to the input's audio (or a microphone),
publishing ``keyword`` events that triggers turn into effect actions (see docs/speech.md)."""

from edgefx.plugins.speech.hooks import edgefx_add_commands, edgefx_analyzers, edgefx_benchmarks

__all__ = ["edgefx_add_commands", "edgefx_analyzers", "edgefx_benchmarks"]
