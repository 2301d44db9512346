"""``edgefx analyze``: what the analyzers found, per frame, as JSON lines (masks as PNG).

``DIR/frames.jsonl``: one object per frame, ``{"index", "pts" (seconds), <analyzer>: ...}``,
coordinates in input pixels. ``DIR/events.jsonl``: one object per bus event,
``{"t", "event", **data}`` (e.g. keywords heard). ``DIR/<analyzer>/``: files analyzers write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any

import numpy as np

from edgefx.config import Settings
from edgefx.events import Event
from edgefx.frame import Frame, FrameContext
from edgefx.registry import Registry
from edgefx.runner import RunResult, execute


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
    """Run ``names`` (and what they require) over the input and write the results under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    settings.run["analyzers"] = names
    settings.run["effects"] = []
    settings.triggers = []  # no effects run here, so there is nothing for triggers to act on
    settings.output["url"] = "null"
    frames_file: IO[str]
    with (out_dir / "frames.jsonl").open("w") as frames_file, (out_dir / "events.jsonl").open("w") as events_file:
        def on_frame(frame: Frame, ctx: FrameContext) -> None:
            line: dict[str, Any] = {"index": frame.index, "pts": round(frame.time, 6)}
            for name in names:
                analyzer = pipeline_ref[0].analyzers[name]
                line[name] = to_json(analyzer.export(ctx.results.get(name), frame, out_dir))
            frames_file.write(json.dumps(line) + "\n")

        def on_event(event: Event) -> None:
            events_file.write(json.dumps(to_json({"t": event.t, "event": event.name, **event.data})) + "\n")

        pipeline_ref: list[Any] = []
        return execute(settings, registry, on_frame=on_frame, on_event=on_event, max_frames=max_frames,
                       on_open=pipeline_ref.append)
