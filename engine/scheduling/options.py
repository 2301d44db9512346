"""The ``[scheduler]`` table's options, apart from the scheduler itself, so the config loader can
check them without importing the scheduling machinery (``edgefx.config`` reads only Option tables)."""

from __future__ import annotations

from edgefx.options import Option

SCHEDULER_OPTIONS: dict[str, Option] = {
    "budget_ms": Option(0.0, "frame time budget in ms (0 = none: everything fresh at its best level)",
                        min=0, max=10000),
    "fps_target": Option(0.0, "target frame rate; the budget becomes 1000/fps (the smaller wins with budget_ms)",
                         min=0, max=240),
    "priority": Option({}, "weight per plugin name (default 1); higher keeps its quality longer", type=dict),
    "cap": Option({}, "best level a plugin may use on this device, e.g. {face_mesh = \"lite\"}", type=dict),
    "max_stale_frames": Option(4, "a result is reused for about this many frames at most to save time (refreshes "
                                  "falling due together are spread: one frame more per other one due)",
                               min=0, max=300),
    "similarity_gate": Option(1.0, "skip an analyzer while the tiny frame has changed since its last run by less "
                                   "than this (mean absolute difference frame to frame, summed; 0-255; 0 = off)",
                              min=0, max=255),
    "gate_max_frames": Option(15, "the similarity gate reuses a result for at most this many frames", min=0, max=600),
    "overlap": Option(False, "run analyzers on a worker thread while the previous frame renders "
                             "(the picture is delayed one frame so results stay aligned)"),
    "window": Option(30, "timings kept per plugin and level for the cost estimates", min=5, max=1000),
    "follow_cpu_share": Option(True, "while other processes keep CPU cores busy, give OpenCV one thread fewer per "
                                     "busy core (its parallel steps would wait for a busy core: frame-time spikes)"),
}
