"""Deciding, per frame, which analyzers run fresh and which carry their last result forward.

The loop asks the scheduler once per frame (``plan``) and, once the frame is out, tells it
what the whole frame and each plugin cost (``frame_done``). ``RunEverything`` is
the policy when no budget is set: every analyzer runs fresh on every frame at its best
level. ``BudgetScheduler`` keeps the frame inside a time budget (see docs/scheduler.md).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush
from typing import Any, Protocol

from edgefx.contract import Analyzer, Effect
from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.options import resolve_options
from edgefx.scheduling.costs import CARRY, CostModel, SortedWindow
from edgefx.scheduling.cpu_share import ThreadFollower
from edgefx.scheduling.options import SCHEDULER_OPTIONS
from edgefx.vision.change import ChangeMeter, thumbnail

LEVEL_LOSS = 0.5
"""Quality lost by one analyzer level step, relative to reusing a result for one frame."""
EFFECT_LEVEL_LOSS = 1.0
"""Quality lost by one effect level step (visible on every frame)."""
BASE = "_engine"
"""Cost-model key of the frame time outside plugins (sink, events, bookkeeping)."""
FOLLOW_FRAMES = 8
"""The CPU share of other processes is re-read every this many frames (``follow_cpu_share``)."""
REPRICE_FRAMES = 8
"""A unit's prices are re-read from the cost model every this many frames (units take turns). The
p90 of a 30-frame window barely moves in 8 frames; the load index, which follows a CPU hog within
frames, still scales every price on every frame."""


@dataclass(slots=True)
class Plan:
    """This frame's decisions: which analyzers run fresh (the rest carry forward)."""

    fresh: set[str]
    notes: dict[str, object] = field(default_factory=dict)


class Planner(Protocol):
    """The least a scheduler must do: ``plan`` each frame and hear how long it took. Objects with
    only these two methods are accepted wherever a ``Scheduler`` is (``as_scheduler``)."""

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        """Decide for the frame in ``ctx``; may also set analyzer levels and effect options."""
        ...

    def frame_done(self, total_ms: float, costs: Mapping[str, tuple[float, str | None]]) -> None:
        """Record the whole frame's time and, per plugin name, ``(ms, level)``: what it took on this
        frame at which level (``None``: an analyzer that carried its last result forward)."""
        ...


class Scheduler:
    """What the loop calls on a scheduler. Subclasses implement ``plan`` and may override the rest.

    ``overlap``: run analyzers on a worker thread one frame ahead of rendering (``[scheduler] overlap``).
    """

    overlap: bool = False

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        """Decide for the frame in ``ctx``; may also set analyzer levels and effect options."""
        raise NotImplementedError

    def frame_done(self, total_ms: float, costs: Mapping[str, tuple[float, str | None]]) -> None:
        """Record the whole frame's time and, per plugin name, ``(ms, level)``: what it took on this
        frame at which level (``None``: an analyzer that carried its last result forward)."""

    def close(self) -> None:
        """Called once after the last frame (stop helper threads). Default: nothing to release."""

    def summary(self) -> dict[str, Any] | None:
        """What it decided over the run, for the run summary's ``scheduler`` (``None``: nothing)."""
        return None


class _Adopted(Scheduler):
    """A ``Planner`` that is not a ``Scheduler``, with the defaults for the rest."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        return self.planner.plan(ctx, analyzers, effects)

    def frame_done(self, total_ms: float, costs: Mapping[str, tuple[float, str | None]]) -> None:
        self.planner.frame_done(total_ms, costs)


def as_scheduler(scheduler: Scheduler | Planner | None) -> Scheduler:
    """``scheduler`` as a ``Scheduler``: ``None`` is ``RunEverything``, a bare ``Planner`` is adopted."""
    if scheduler is None:
        return RunEverything()
    return scheduler if isinstance(scheduler, Scheduler) else _Adopted(scheduler)


class RunEverything(Scheduler):
    """No budget: every analyzer fresh, every frame."""

    def __init__(self, overlap: bool = False) -> None:
        self.overlap = overlap

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        return Plan(set(analyzers))


@dataclass(slots=True)
class _Unit:
    """One plugin's state inside the scheduler."""

    name: str
    levels: tuple[str, ...]
    top: int
    priority: float
    analyzer: bool
    level: int = 0
    slot: int = 0
    """Which frames (modulo ``REPRICE_FRAMES``) re-read this unit's prices."""
    age: int = -1
    """Frames since the last fresh run (-1: never ran)."""
    gated: int = 0
    drift: float = 0.0
    """How much the picture changed since the last fresh run (summed frame-to-frame differences)."""
    prices: list[float] = field(default_factory=list)
    """Quiet-machine p90 ms per level, then (index -1) carrying forward; see ``CostModel.quiet_prices``."""
    level_steps: list[tuple[float, int, float] | None] = field(default_factory=list)
    """Per level: the cheapest step to a lower level (quality lost per quiet ms saved, level, saving)."""
    tally: list[int] = field(default_factory=list)
    """Frames run at each level, then reused (index -2) and unchanged (index -1)."""
    choice: int = 0
    """This frame's decision while planning: a level index, or -1 to carry the last result forward."""
    unchanged: bool = False
    """This frame's picture barely changed since the unit's last fresh run (the similarity gate)."""

    def counts(self) -> dict[str, int]:
        """``tally`` by name, only what happened at least once."""
        return {name: n for name, n in zip((*self.levels, "reused", "unchanged"), self.tally, strict=True) if n}


class BudgetScheduler(Scheduler):
    """Keeps frame time within ``budget_ms`` by lowering levels and reusing analyzer results.

    Every frame it starts from full quality (every analyzer fresh at its best allowed level,
    every effect at its best level), predicts the frame's cost from the ``CostModel`` (p90
    per plugin and level, plus the engine's own time), and while the prediction is over the
    budget takes the cheapest step in *quality lost per ms saved*: an analyzer or effect one or
    more levels down, or an analyzer reusing its last result (a loss that grows with how stale the
    result already is, times the plugin's priority). Analyzers whose input barely changed
    (the similarity gate) reuse their result at no loss. The planning budget keeps a noise
    margin (the 98th percentile of recent overshoots of the prediction) and a multiplicative
    guard shrinks it after a frame over budget and lets it grow back slowly, which keeps the
    p99 inside the budget when costs jump (a CPU hog) before the estimates catch up.
    """

    def __init__(self, budget_ms: float, *, priority: Mapping[str, float] | None = None,
                 cap: Mapping[str, str] | None = None,
                 max_stale_frames: int = SCHEDULER_OPTIONS["max_stale_frames"].default,
                 similarity_gate: float = SCHEDULER_OPTIONS["similarity_gate"].default,
                 gate_max_frames: int = SCHEDULER_OPTIONS["gate_max_frames"].default,
                 overlap: bool = False, window: int = SCHEDULER_OPTIONS["window"].default,
                 follow_cpu_share: bool = False) -> None:
        self.budget_ms = budget_ms
        self.priority = dict(priority or {})
        self.cap = dict(cap or {})
        self.max_stale = max_stale_frames
        self.gate = similarity_gate
        self.gate_max = gate_max_frames
        self.overlap = overlap
        self.costs = CostModel(window=window, stale_frames=3 * window)
        self.guard = 1.0
        self.predicted = 0.0
        self.misses = SortedWindow(60)
        """Recent (frame time - predicted) in ms: how far the machine's noise overshoots the plan."""
        self.units: dict[str, _Unit] = {}
        self._seen: tuple[Mapping[str, Analyzer], Mapping[str, Effect], list[_Unit],
                          list[tuple[Effect, _Unit]]] | None = None
        self._meter = ChangeMeter()
        """Measures frames whose source did not (``Frame.change`` is None)."""
        self.frames = 0
        self.over_budget = 0
        self.threads = ThreadFollower() if follow_cpu_share else None

    def set_budget(self, budget_ms: float) -> None:
        """Change the budget while running (takes effect on the next frame)."""
        self.budget_ms = budget_ms
        self.guard = 1.0

    # -- set-up --------------------------------------------------------------------------------
    def _unit(self, obj: Analyzer | Effect, analyzer: bool) -> _Unit:
        unit = self.units.get(obj.name)
        if unit is None:
            levels = tuple(obj.levels)
            capped = self.cap.get(obj.name, levels[0])
            if capped not in levels:
                raise ConfigError(f"[scheduler] cap: {obj.name} has no level {capped!r}",
                                  f"levels of {obj.name}: {', '.join(levels)}")
            unit = self.units[obj.name] = _Unit(obj.name, levels, levels.index(capped),
                                                float(self.priority.get(obj.name, 1.0)), analyzer,
                                                slot=len(self.units) % REPRICE_FRAMES, tally=[0] * (len(levels) + 2))
            unit.level = levels.index(obj.level)
            self._reprice(unit)
        return unit

    def _units_of(self, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect],
                  ) -> tuple[list[_Unit], list[tuple[Effect, _Unit]]]:
        """The units of ``analyzers`` and, with their effect, of ``effects``; kept while the loop
        passes the same two mappings with the same plugins (it does, every frame)."""
        seen = self._seen
        if (seen is None or seen[0] is not analyzers or seen[1] is not effects
                or len(seen[2]) != len(analyzers) or len(seen[3]) != len(effects)):
            seen = self._seen = (analyzers, effects, [self._unit(a, True) for a in analyzers.values()],
                                 [(e, self._unit(e, False)) for e in effects.values()])
        return seen[2], seen[3]

    def _change(self, frame: Frame) -> float:
        """How much the picture changed since the last frame: the source's measure when it took one
        (where it made the picture), else measured here (0 with the gate off)."""
        if self.gate <= 0:
            return 0.0
        if frame.change is not None:
            return frame.change
        return self._meter.update(thumbnail(frame.image))

    def _reprice(self, unit: _Unit) -> None:
        """Re-read ``unit``'s prices and its cheapest level step from each level. Levels are ordered
        best first, so a level is never priced below a level after it (an old, low sample of a
        better level must not win over a fresh one of a cheaper level)."""
        prices = self.costs.quiet_prices(unit.name, unit.levels)
        for level in range(len(unit.levels) - 2, -1, -1):
            prices[level] = max(prices[level], prices[level + 1])
        unit.prices = prices
        step_loss = (LEVEL_LOSS if unit.analyzer else EFFECT_LEVEL_LOSS) * unit.priority
        unit.level_steps = []
        for level in range(len(unit.levels)):
            best: tuple[float, int, float] | None = None  # ties keep the smaller step down
            for lower in range(level + 1, len(unit.levels)):
                saving = prices[level] - prices[lower]
                if saving > 1e-3 and (best is None or (lower - level) * step_loss / saving < best[0]):
                    best = ((lower - level) * step_loss / saving, lower, saving)
            unit.level_steps.append(best)

    # -- per frame -----------------------------------------------------------------------------
    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        change = self._change(ctx.frame)
        a_units, e_pairs = self._units_of(analyzers, effects)
        e_units = [unit for effect, unit in e_pairs if effect.active]
        slot = -self.frames % REPRICE_FRAMES  # the units whose turn it is to re-read their prices
        gate, gate_max = self.gate, self.gate_max
        for unit in a_units:
            if unit.slot == slot or not unit.prices[unit.top]:
                self._reprice(unit)
            unit.drift += change
            unit.unchanged = unit.age >= 0 and unit.drift < gate and unit.gated < gate_max
            unit.choice = -1 if unit.unchanged else unit.top
        for unit in e_units:
            if unit.slot == slot or not unit.prices[unit.top]:
                self._reprice(unit)
            unit.choice = unit.top
        self._degrade(a_units, e_units)
        fresh: set[str] = set()
        degraded: dict[str, str] = {}
        notes: dict[str, Any] = {"budget_ms": round(self.budget_ms, 2)}
        reused: list[str] = []
        unchanged: list[str] = []
        for unit in a_units:
            level = unit.choice
            if level >= 0:
                fresh.add(unit.name)
                unit.age, unit.gated, unit.drift = 0, 0, 0.0
                self._set_level(analyzers[unit.name], unit, level, degraded)
                continue
            unit.age += 1
            if unit.unchanged:
                unit.gated += 1
                unit.tally[-1] += 1
                unchanged.append(unit.name)
            else:
                unit.tally[-2] += 1
                reused.append(unit.name)
        for unit in e_units:
            self._set_level(effects[unit.name], unit, unit.choice, degraded)
        if degraded:
            notes["degraded"] = degraded
        if reused:
            notes["reused"] = reused
        if unchanged:
            notes["unchanged"] = unchanged
        return Plan(fresh, notes)

    @staticmethod
    def _set_level(obj: Analyzer | Effect, unit: _Unit, level: int, degraded: dict[str, str]) -> None:
        if unit.level != level:
            obj.set_level(unit.levels[level])
            unit.level = level
        unit.tally[level] += 1
        if level > 0:
            degraded[unit.name] = unit.levels[level]

    def _degrade(self, a_units: list[_Unit], e_units: list[_Unit]) -> None:
        """Take the cheapest quality step per ms saved until the prediction fits the budget
        (sets each unit's ``choice``).

        Prices are on the quiet machine; the budget is divided by the load index instead of every
        price multiplied by it (the same decisions)."""
        load = self.costs.load
        spent = [sum(u.prices[u.choice] for u in a_units),  # analyzers; effects + engine
                 sum(u.prices[u.choice] for u in e_units) + self.costs.quiet_price(BASE, "full")]
        allowed = (self.budget_ms * self.guard - self._noise_margin()) / load
        if self._frame_ms(spent) > allowed:
            units = [*a_units, *e_units]
            # Results due for a refresh (at max_stale) the same frame are spread out: all but the most
            # urgent (priority x age) may wait one frame more each, so refreshes do not pile up.
            due = sorted((u for u in a_units if u.age >= self.max_stale and u.choice >= 0),
                         key=lambda u: (u.priority * u.age, u.name), reverse=True)
            grace = {u.name for rank, u in enumerate(due) if u.age < self.max_stale + rank}
            # each unit's cheapest step, cheapest first: (loss per ms saved, position, new level, saving);
            # equal losses go to the unit listed first
            steps = [(step[0], i, step[1], step[2]) for i, u in enumerate(units)
                     if (step := self._cheapest_step(u, u.choice, u.name in grace)) is not None]
            heapify(steps)
            while steps and self._frame_ms(spent) > allowed:
                _, i, level, saving = heappop(steps)
                unit = units[i]
                unit.choice = level
                spent[0 if unit.analyzer else 1] -= saving
                step = self._cheapest_step(unit, level, unit.name in grace)  # only this unit's options changed
                if step is not None:
                    heappush(steps, (step[0], i, step[1], step[2]))
        self.predicted = self._frame_ms(spent) * load

    def _frame_ms(self, spent: list[float]) -> float:
        """A frame's time from ``[analyzers, effects]`` ms (planning counts the engine's own with the
        effects): their sum, or with ``overlap`` (analyzers on the worker while the previous frame
        renders) the longer of the two."""
        return max(spent) if self.overlap else spent[0] + spent[1]

    def _cheapest_step(self, unit: _Unit, level: int, grace: bool) -> tuple[float, int, float] | None:
        """``unit``'s cheapest quality step from ``level``: (quality lost per quiet ms saved, new level
        or -1 to carry, quiet ms saved), or None. Ties keep the level step (a smaller step than carrying)."""
        if level < 0:
            return None
        best = unit.level_steps[level]
        if unit.analyzer and unit.age >= 0 and (unit.age < self.max_stale or grace):
            saving = unit.prices[level] - unit.prices[-1]
            if saving > 1e-3 and (best is None or (unit.age + 1) * unit.priority / saving < best[0]):
                best = ((unit.age + 1) * unit.priority / saving, -1, saving)
        return best

    def _noise_margin(self) -> float:
        """ms kept free for noise: the 98th percentile of recent overshoots of the prediction (>= 0)."""
        if len(self.misses) < 20:
            return 0.0
        return max(0.0, self.misses.percentile(0.98))

    def frame_done(self, total_ms: float, costs: Mapping[str, tuple[float, str | None]]) -> None:
        spent = [0.0, 0.0]  # analyzers, effects
        for name, (ms, level) in costs.items():
            unit = self.units.get(name)
            if unit is not None:
                self.costs.observe(name, CARRY if level is None else level, ms)
                spent[0 if unit.analyzer else 1] += ms
        plugins_ms = self._frame_ms(spent)
        self.costs.observe(BASE, "full", max(0.0, total_ms - plugins_ms))
        self.misses.add(total_ms - self.predicted)
        self.costs.next_frame()
        self.frames += 1
        if self.threads is not None and self.frames % FOLLOW_FRAMES == 0:
            self.threads.update()
        if total_ms > self.budget_ms:
            self.over_budget += 1
            self.guard = max(0.5, self.guard * 0.9)
        else:
            self.guard = min(1.0, self.guard + 0.01)

    def close(self) -> None:
        """The run is over: OpenCV gets back the threads it had."""
        if self.threads is not None:
            self.threads.restore()

    # -- reporting -----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Budget, frames over it, per plugin how many frames ran at each level / reused / unchanged,
        the load index and the current cost estimates (p90 ms per plugin@level)."""
        return {"budget_ms": round(self.budget_ms, 3), "frames": self.frames, "frames_over_budget": self.over_budget,
                "overlap": self.overlap,
                "plugins": {name: dict(sorted(u.counts().items())) for name, u in sorted(self.units.items())},
                "load_index": round(self.costs.load, 3),
                **({"opencv_threads": self.threads.threads, "others_cpu_cores": round(self.threads.others, 2),
                    "opencv_thread_changes": self.threads.changes} if self.threads is not None else {}),
                "estimates_ms": {f"{n}@{lvl}": round(self.costs.estimate(n, lvl), 3)
                                 for n, lvl in sorted(self.costs.samples)}}


def budget_from(options: Mapping[str, Any]) -> float:
    """The budget in ms set by ``budget_ms`` and/or ``fps_target`` (0 = none)."""
    budgets = [b for b in (options.get("budget_ms", 0.0), 1000.0 / options["fps_target"]
                           if options.get("fps_target") else 0.0) if b > 0]
    return min(budgets, default=0.0)


def create_scheduler(options: Mapping[str, Any], known: Collection[str] | Mapping[str, Sequence[str]] | None = None,
                     ) -> RunEverything | BudgetScheduler:
    """The scheduler a validated ``[scheduler]`` table asks for. ``known``: plugin names the
    ``priority``/``cap`` tables may mention (a typo there is an error, not silently ignored); when
    it maps names to their ``levels``, a ``cap`` level is checked too, so a typo is refused
    before any output opens rather than in the first frame's plan."""
    options = resolve_options("[scheduler]", SCHEDULER_OPTIONS, options)  # the defaults live in one table
    for table in ("priority", "cap"):
        for name, value in options[table].items():
            if known is not None and name not in known:
                raise ConfigError(f"[scheduler] {table}: no plugin called {name!r}",
                                  f"plugins: {', '.join(sorted(known))}")
            if table == "priority" and (not isinstance(value, int | float) or isinstance(value, bool) or value <= 0):
                raise ConfigError(f"[scheduler] priority.{name} = {value!r} is not a positive number",
                                  "use e.g. 2.0 to keep it at quality longer, 0.5 to degrade it first")
            if table == "cap" and not isinstance(value, str):
                raise ConfigError(f"[scheduler] cap.{name} = {value!r} is not a level name",
                                  f"see the levels with `edgefx plugins show {name}`")
            if table == "cap" and isinstance(known, Mapping) and value not in known[name]:
                raise ConfigError(f"[scheduler] cap: {name} has no level {value!r}",
                                  f"levels of {name}: {', '.join(known[name])}")
    budget = budget_from(options)
    if budget <= 0:
        return RunEverything(overlap=options["overlap"])
    return BudgetScheduler(budget, priority=options["priority"], cap=options["cap"],
                           max_stale_frames=options["max_stale_frames"], similarity_gate=options["similarity_gate"],
                           gate_max_frames=options["gate_max_frames"], overlap=options["overlap"],
                           window=options["window"], follow_cpu_share=options["follow_cpu_share"])
