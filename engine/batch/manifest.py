"""The manifest: one JSON line per attempt at a file, in the output folder, written the moment the
attempt ends (flushed and synced), so a re-run after a kill knows what is finished.

Each line holds ``input``, ``output``, ``status`` (``done`` or ``failed``), ``frames`` and
``seconds``, plus ``attempt``, ``worker`` and ``node`` (where it ran), ``reason`` (why it failed),
``settings`` (a fingerprint of the batch's settings) and, with ``--stats``, ``timings``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edgefx.errors import ConfigError

MANIFEST_NAME = "manifest.jsonl"


@dataclass(slots=True)
class Outcome:
    """How one attempt at one file ended."""

    input: str
    output: str
    status: str
    """``done`` or ``failed``."""
    frames: int = 0
    seconds: float = 0.0
    attempt: int = 1
    worker: str = ""
    """``host:pid`` of the process that ran it."""
    node: str = ""
    """The machine: its host name locally, its Ray node id on a cluster."""
    reason: str = ""
    settings: str = ""
    timings: dict[str, Any] = field(default_factory=dict)

    def line(self) -> str:
        """This outcome as one JSON line (empty optional fields left out)."""
        data = {k: v for k, v in asdict(self).items() if v or k in ("frames", "seconds")}
        return json.dumps(data, separators=(",", ":"))


class Manifest:
    """``DIR/manifest.jsonl``: read what earlier runs finished, append each attempt as it ends."""

    def __init__(self, folder: Path, settings: str) -> None:
        self.path = folder / MANIFEST_NAME
        self.settings = settings

    def finished(self) -> dict[str, Outcome]:
        """Inputs whose last attempt is ``done`` and whose output is still there, by input path.

        Raises ``ConfigError`` when the folder holds a batch made with other settings (its outputs
        would not match this preset) or the manifest is not JSON lines.
        """
        last: dict[str, Outcome] = {}
        if not self.path.exists():
            return last
        with self.path.open() as fh:
            for number, text in enumerate(fh, start=1):
                if not text.strip():
                    continue
                try:
                    outcome = Outcome(**json.loads(text))
                except (ValueError, TypeError):
                    if not text.endswith("\n"):
                        break  # the last line of a batch killed while writing it
                    raise ConfigError(f"{self.path}:{number} is not a manifest line",
                                      "give another --out folder, or remove the damaged line") from None
                if outcome.settings != self.settings:
                    raise ConfigError(f"{self.path.parent} holds a batch made with other settings "
                                      f"({outcome.settings}, now {self.settings})",
                                      "give another --out folder for this preset, or delete the old one")
                last[outcome.input] = outcome
        return {k: o for k, o in last.items() if o.status == "done" and Path(o.output).is_file()}

    def append(self, outcome: Outcome) -> None:
        """Add one attempt, on disk before this returns."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(outcome.line() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
