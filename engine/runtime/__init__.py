"""Running a job: open the input and outputs, build the pipeline, drive the frame loop.

- ``runner``: settings -> plugins, source, sinks, pipeline; ``execute`` runs it end to end;
- ``pipeline``: one frame's trip through the analyzers and effects, in layer order;
- ``isolation``: the per-plugin ``Guard`` that contains a failing plugin;
- ``metrics``: per-plugin and per-frame timings, the run summary, and ``percentile`` (the one
  percentile rule of edgefx);
- ``triggers``: ``[[triggers]]`` rules that turn events into effect switches;
- ``watchdog``: notices a stalled loop.
"""
