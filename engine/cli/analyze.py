"""``edgefx analyze``: what the analyzers found, per frame, as JSON lines (masks as PNG).

``DIR/frames.jsonl``: one object per frame, ``{"index", "pts" (seconds), <analyzer>: ...}``,
coordinates in input pixels. ``DIR/events.jsonl``: one object per bus event,
``{"t", "event", **data}`` (e.g. keywords heard). ``DIR/<analyzer>/``: files analyzers write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from edgefx.config import Settings
from edgefx.errors import SinkError
from edgefx.events import Event
from edgefx.frame import Frame, FrameContext
from edgefx.io.protect import check_outputs
from edgefx.registry import Registry
from edgefx.runtime.runner import RunResult, execute


def to_json(value: Any) -> Any:
    """Make analyzer exports JSON-safe: NumPy arrays and scalars become lists and numbers."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def analyze(settings: Settings, registry: Registry, names: list[str], out_dir: Path, max_frames: int = 0) -> RunResult:
    """Run ``names`` (and what they require) over the input and write the results under ``out_dir``
    (a ``SinkError`` before anything runs when that folder cannot be made or written)."""
    check_outputs(settings.input["url"], {"--out": (out_dir, "analysis"),
                                          **{f"--out {name}": (out_dir / name, "analysis")
                                             for name in ("frames.jsonl", "events.jsonl")}})
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".edgefx-write-test"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        why = "it is a file" if out_dir.is_file() else exc.strerror
        raise SinkError(f"cannot write the analysis to {out_dir}: {why}",
                        "give --out a new folder, or an existing folder you can write to") from None
    settings.run["analyzers"] = names
    settings.run["effects"] = []
    settings.triggers = []  # no effects run here, so there is nothing for triggers to act on
    settings.output["url"] = "null"
    # unbuffered: each line reaches the file with its frame, a full disk fails on that frame, and
    # closing has nothing left to write
    with (out_dir / "frames.jsonl").open("wb", buffering=0) as frames_file, \
            (out_dir / "events.jsonl").open("wb", buffering=0) as events_file:
        def on_frame(frame: Frame, ctx: FrameContext) -> None:
            line: dict[str, Any] = {"index": frame.index, "pts": round(frame.time, 6)}
            for name in names:
                analyzer = pipeline_ref[0].analyzers[name]
                line[name] = to_json(analyzer.export(ctx.results.get(name), frame, out_dir))
            _write_line(frames_file, line)

        def on_event(event: Event) -> None:
            _write_line(events_file, to_json({"t": event.t, "event": event.name, **event.data}))

        pipeline_ref: list[Any] = []
        return execute(settings, registry, on_frame=on_frame, on_event=on_event, max_frames=max_frames,
                       on_open=pipeline_ref.append)


def _write_line(file: BinaryIO, value: dict[str, Any]) -> None:
    """One JSON line; a failed write (a full disk) is a ``SinkError`` naming the file."""
    try:
        file.write((json.dumps(value) + "\n").encode())
    except OSError as exc:
        raise SinkError(f"cannot write {file.name}: {exc.strerror}", "check free disk space") from None
