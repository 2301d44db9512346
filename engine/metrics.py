"""Per-frame timings: total frame time and each plugin's share, summarised as medians and
percentiles, written as JSON by ``--stats``."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np


def percentiles(values: list[float] | np.ndarray) -> dict[str, float]:
    """p50/p90/p99/max/mean of ``values`` (ms), rounded to 3 decimals; empty -> {}."""
    if len(values) == 0:
        return {}
    arr = np.asarray(values, dtype=np.float64)
    p50, p90, p99 = np.percentile(arr, [50, 90, 99])
    return {"p50": round(float(p50), 3), "p90": round(float(p90), 3), "p99": round(float(p99), 3),
            "max": round(float(arr.max()), 3), "mean": round(float(arr.mean()), 3)}


class Metrics:
    """Collects one record per processed frame; cheap enough to leave on for every run."""

    def __init__(self) -> None:
        self.frames: list[dict[str, Any]] = []
        self.stage_ms: dict[str, list[float]] = defaultdict(list)
        self.started = time.perf_counter()
        self.dropped = 0

    def record(self, index: int, media_time: float, total_ms: float, stages: dict[str, float],
               notes: dict[str, Any]) -> None:
        """Add the timings of one frame. ``stages`` maps stage/plugin name to ms."""
        entry: dict[str, Any] = {"index": index, "t": round(media_time, 4), "total_ms": round(total_ms, 3),
                                 "stages": {k: round(v, 3) for k, v in stages.items()}}
        if notes:
            entry["notes"] = notes
        self.frames.append(entry)
        for name, ms in stages.items():
            self.stage_ms[name].append(ms)

    def recent_totals(self, n: int) -> list[float]:
        """Total ms of the last ``n`` frames (for overlays and schedulers)."""
        return [f["total_ms"] for f in self.frames[-n:]]

    def summary(self) -> dict[str, Any]:
        """Frames, drops, wall-clock fps, frame-time percentiles and per-stage percentiles."""
        wall = time.perf_counter() - self.started
        totals = [f["total_ms"] for f in self.frames]
        return {
            "frames": len(self.frames),
            "dropped": self.dropped,
            "wall_s": round(wall, 3),
            "fps": round(len(self.frames) / wall, 2) if wall > 0 else 0.0,
            "frame_ms": percentiles(totals),
            "stages_ms": {name: percentiles(ms) for name, ms in sorted(self.stage_ms.items())},
        }

    def write_json(self, path: str | Path, extra: dict[str, Any] | None = None) -> None:
        """Write ``{"summary": ..., "frames": [...]}`` to ``path`` (folders are created)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"summary": {**self.summary(), **(extra or {})}, "frames": self.frames}
        path.write_text(json.dumps(payload, indent=1))
