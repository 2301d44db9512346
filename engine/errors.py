"""User-facing errors: each one says what went wrong and what to do next."""

from __future__ import annotations


class EdgefxError(Exception):
    """An error the user can fix. ``hint`` says how; the CLI prints both and exits 2."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  -> {self.hint}" if self.hint else self.message


class ConfigError(EdgefxError):
    """A preset, option or flag is invalid."""


class ModelError(EdgefxError):
    """A model file is missing or fails its checksum."""


class SourceError(EdgefxError):
    """An input cannot be opened or read."""


class SinkError(EdgefxError):
    """An output cannot be opened or written."""


class PluginError(EdgefxError):
    """A plugin failed to load, validate or run."""
