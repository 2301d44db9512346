"""``edgefx batch``: one preset over many recordings, in a local process pool or as Ray tasks.

The parts, each with one job:

- ``plan``: inputs (files, folders, globs) -> jobs with mirrored output names under ``--out``;
- ``manifest``: the JSON-lines record in the output folder that makes a batch resumable;
- ``work``: what a worker does with one file (the ``edgefx run`` code path, to a temporary name);
- ``executors``: where the work runs: a local ``pebble`` process pool, or a Ray cluster;
- ``driver``: hands out the files, retries a failure once elsewhere, shows progress, sums up;
- ``command``: the ``edgefx batch`` command line;
- ``bench``: the ``batch_scaling`` benchmark (1 worker against 2, in one run).
"""
