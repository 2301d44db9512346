"""The stage picture of a run: where a frame's time goes, stage by stage, for the run summary.

A frame's trip, with the stages overlapping (``[run] overlap``)::

    decode thread      input_wait   loop thread: analyze -> render   output thread: encode
    (source.py)  --->  (queue)  --->  (+ scheduler)   ---> handoff --->  convert + encode + mux
                                                         output_wait

- ``input_wait``: the loop waited for the source's next frame (a live input: the camera's pace);
- ``analyze``: the analyzers, summed (on the worker thread with ``[scheduler] overlap``);
- ``render``: the effects, in layer order, in place on the one array;
- ``output_wait``: the loop waited for the one-slot handoff (a file input when the output thread
  is the slowest stage; with overlap off this is the whole convert + encode + write);
- ``encode``: the output thread's convert + encode + mux of one frame (overlap on);
- ``end_to_end``: from taking the frame from the source to handing it to the output.

Throughput is set by the slowest stage: the loop (``analyze + render``, or the longer of the
two with ``[scheduler] overlap``), the encoder, or the input.
"""

from __future__ import annotations

import os
import time
from typing import Any


def stage_picture(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """p50 / p99 ms per stage (see the module) from a run summary, and which stage is slowest."""
    stages = summary.get("stages_ms", {})
    picture = {name: stages[name] for name in ("input_wait", "analyze", "render") if name in stages}
    if "sink" in stages:
        picture["output_wait"] = stages["sink"]
    encode = summary.get("output_stats", {}).get("output_stage", {}).get("encode_ms", {})
    if encode:
        picture["encode"] = encode
    if summary.get("latency_ms"):
        picture["end_to_end"] = summary["latency_ms"]
    out = {name: {"p50": d.get("p50", 0.0), "p99": d.get("p99", 0.0)} for name, d in picture.items()}
    busy = {name: v["p50"] for name, v in out.items() if name in ("analyze", "render", "encode")}
    if "encode" not in busy and "output_wait" in out:  # overlap off: the loop encodes
        busy["encode"] = out["output_wait"]["p50"]
    if busy:
        out["slowest"] = {"stage": max(busy, key=busy.get)}  # type: ignore[arg-type]
    return out


def seconds_since_process_start() -> float | None:
    """Seconds since this process started (Linux ``/proc``), interpreter start-up and imports
    included; ``None`` where ``/proc`` is not there."""
    try:
        with open("/proc/self/stat") as stat, open("/proc/uptime") as uptime:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            since_boot = float(uptime.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return since_boot - started_ticks / os.sysconf("SC_CLK_TCK")


def time_to_first_frame(first_frame_at: float | None) -> float | None:
    """Seconds from the process start to the first frame handed to the output (``first_frame_at``
    on the ``perf_counter`` clock), or ``None`` when no frame came out."""
    since = seconds_since_process_start()
    if first_frame_at is None or since is None:
        return None
    return round(since - (time.perf_counter() - first_frame_at), 3)
