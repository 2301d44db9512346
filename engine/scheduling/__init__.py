"""The frame-time budget: which analyzers run fresh, carry, or drop a level on each frame.

- ``scheduler``: the ``Scheduler`` base class, ``RunEverything`` and ``BudgetScheduler``;
- ``options``: the ``[scheduler]`` table's options (what ``edgefx.config`` validates with);
- ``costs``: the per-plugin, per-level cost model the budget scheduler plans with;
- ``cpu_share``: how much CPU the loop's threads actually get (other processes compete).
"""
