"""Deciding, per frame, which analyzers run fresh and which carry their last result forward.

The loop asks the scheduler once per frame (``plan``) and tells it what each plugin
cost (``observe``) and what the whole frame cost (``frame_done``). ``RunEverything`` is
the policy when no budget is set: every analyzer runs fresh on every frame at its best
level. ``BudgetScheduler`` keeps the frame inside a time budget (see docs/scheduler.md).
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import cv2
import numpy as np

from edgefx.costs import CARRY, CostModel
from edgefx.errors import ConfigError
from edgefx.frame import FrameContext
from edgefx.options import Option
from edgefx.plugin import Analyzer, Effect

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
    "similarity_gate": Option(1.0, "skip an analyzer while the tiny frame differs from its last run by less than "
                                   "this (mean absolute difference, 0-255; 0 = off)", min=0, max=255),
    "gate_max_frames": Option(15, "the similarity gate reuses a result for at most this many frames", min=0, max=600),
    "overlap": Option(False, "run analyzers on a worker thread while the previous frame renders "
                             "(the picture is delayed one frame so results stay aligned)"),
    "window": Option(30, "timings kept per plugin and level for the cost estimates", min=5, max=1000),
    "device_slowdown": Option(1.0, "how many times slower the profile's device is than the x86 machine its "
                                   "figures were measured on (scale the budget by it to test here)",
                              min=0.05, max=100),
}

LEVEL_LOSS = 0.5
"""Quality lost by one analyzer level step, relative to reusing a result for one frame."""
EFFECT_LEVEL_LOSS = 1.0
"""Quality lost by one effect level step (visible on every frame)."""
BASE = "_engine"
"""Cost-model key of the frame time outside plugins (sink, events, bookkeeping)."""


@dataclass(slots=True)
class Plan:
    """This frame's decisions: which analyzers run fresh (the rest carry forward)."""

    fresh: set[str]
    notes: dict[str, object] = field(default_factory=dict)


class Scheduler(Protocol):
    """What the loop needs from a scheduler."""

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        """Decide for the frame in ``ctx``; may also set analyzer levels and effect options."""
        ...

    def observe(self, name: str, ms: float, fresh: bool) -> None:
        """Record that plugin ``name`` took ``ms`` on this frame (``fresh``: ran its model)."""
        ...

    def frame_done(self, total_ms: float) -> None:
        """Record the whole frame's time."""
        ...


class RunEverything:
    """No budget: every analyzer fresh, every frame."""

    def __init__(self, overlap: bool = False) -> None:
        self.overlap = overlap

    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        return Plan(set(analyzers))

    def observe(self, name: str, ms: float, fresh: bool) -> None:
        pass

    def frame_done(self, total_ms: float) -> None:
        pass


def thumbnail(image: np.ndarray) -> np.ndarray:
    """The similarity gate's view of a frame: every 16th pixel of the green channel.

    ``image``: (H, W, 3) uint8 -> (ceil(H/16), ceil(W/16)) uint8, contiguous (45x80 at 720p).
    """
    return np.ascontiguousarray(image[::16, ::16, 1])


@dataclass(slots=True)
class _Unit:
    """One plugin's state inside the scheduler."""

    name: str
    levels: tuple[str, ...]
    top: int
    priority: float
    analyzer: bool
    level: int = 0
    age: int = -1
    """Frames since the last fresh run (-1: never ran)."""
    gated: int = 0
    thumb: np.ndarray | None = None


class BudgetScheduler:
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
                 cap: Mapping[str, str] | None = None, max_stale_frames: int = 4, similarity_gate: float = 1.0,
                 gate_max_frames: int = 15, overlap: bool = False, window: int = 30) -> None:
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
        self.misses: deque[float] = deque(maxlen=60)
        """Recent (frame time - predicted) in ms: how far the machine's noise overshoots the plan."""
        self.units: dict[str, _Unit] = {}
        self._frame_ms = [0.0, 0.0]  # analyzers, effects observed this frame
        self.counts: dict[str, Counter[str]] = {}
        self.frames = 0
        self.over_budget = 0

    def set_budget(self, budget_ms: float) -> None:
        """Change the budget while running (takes effect on the next frame)."""
        self.budget_ms = budget_ms
        self.guard = 1.0

    # -- set-up --------------------------------------------------------------------------------
    def _unit(self, obj: Analyzer | Effect, analyzer: bool) -> _Unit:
        unit = self.units.get(obj.name)
        if unit is None:
            levels = tuple(getattr(obj, "levels", ("full",)))
            capped = self.cap.get(obj.name, levels[0])
            if capped not in levels:
                raise ConfigError(f"[scheduler] cap: {obj.name} has no level {capped!r}",
                                  f"levels of {obj.name}: {', '.join(levels)}")
            unit = self.units[obj.name] = _Unit(obj.name, levels, levels.index(capped),
                                                float(self.priority.get(obj.name, 1.0)), analyzer)
            unit.level = levels.index(getattr(obj, "level", levels[0]))
            self.counts[obj.name] = Counter()
        return unit

    def _prices(self, unit: _Unit) -> list[float]:
        """Estimated ms of ``unit`` at each level, then (last entry, index -1) carrying forward.
        Levels are ordered best first, so a level is never priced below a level after it (an old,
        low sample of a better level must not win over a fresh one of a cheaper level)."""
        prices = [self.costs.estimate(unit.name, level, unit.levels) for level in unit.levels]
        for level in range(len(prices) - 2, -1, -1):
            prices[level] = max(prices[level], prices[level + 1])
        return [*prices, self.costs.estimate(unit.name, CARRY)]

    # -- per frame -----------------------------------------------------------------------------
    def plan(self, ctx: FrameContext, analyzers: Mapping[str, Analyzer], effects: Mapping[str, Effect]) -> Plan:
        thumb = thumbnail(ctx.frame.image) if self.gate > 0 else None
        a_units = [self._unit(a, True) for a in analyzers.values()]
        e_units = [self._unit(e, False) for e in effects.values() if e.active]
        choice: dict[str, int] = {}  # level index, -1 = carry
        unchanged: list[str] = []
        for unit in a_units:
            choice[unit.name] = unit.top
            if (thumb is not None and unit.thumb is not None and unit.gated < self.gate_max
                    and cv2.norm(thumb, unit.thumb, cv2.NORM_L1) < self.gate * thumb.size):
                choice[unit.name] = -1
                unchanged.append(unit.name)
        for unit in e_units:
            choice[unit.name] = unit.top
        self._degrade(a_units, e_units, choice)
        fresh: set[str] = set()
        degraded: dict[str, str] = {}
        reused: list[str] = []
        for unit in a_units:
            level = choice[unit.name]
            if level < 0:
                unit.age += 1
                if unit.name in unchanged:
                    unit.gated += 1
                else:
                    reused.append(unit.name)
                self.counts[unit.name]["unchanged" if unit.name in unchanged else "reused"] += 1
                continue
            fresh.add(unit.name)
            unit.age, unit.gated, unit.thumb = 0, 0, thumb
            self._set_level(analyzers[unit.name], unit, level, degraded)
        for unit in e_units:
            self._set_level(effects[unit.name], unit, choice[unit.name], degraded)
        notes: dict[str, Any] = {"budget_ms": round(self.budget_ms, 2)}
        if degraded:
            notes["degraded"] = degraded
        if reused:
            notes["reused"] = reused
        if unchanged:
            notes["unchanged"] = unchanged
        return Plan(fresh, notes)

    def _set_level(self, obj: Analyzer | Effect, unit: _Unit, level: int, degraded: dict[str, str]) -> None:
        if unit.level != level:
            obj.set_level(unit.levels[level])
            unit.level = level
        self.counts[unit.name][unit.levels[level]] += 1
        if level > 0:
            degraded[unit.name] = unit.levels[level]

    def _degrade(self, a_units: list[_Unit], e_units: list[_Unit], choice: dict[str, int]) -> None:
        """Take the cheapest quality step per ms saved until the prediction fits the budget."""
        units = [*a_units, *e_units]
        prices = {u.name: self._prices(u) for u in units}
        spent = [0.0, self.costs.estimate(BASE, "full")]  # analyzers; effects + engine
        for u in units:
            spent[0 if u.analyzer else 1] += prices[u.name][choice[u.name]]
        allowed = self.budget_ms * self.guard - self._noise_margin()
        # Results due for a refresh (at max_stale) the same frame are spread out: all but the most
        # urgent (priority x age) may wait one frame more each, so refreshes do not pile up.
        due = sorted((u for u in a_units if u.age >= self.max_stale and choice[u.name] >= 0),
                     key=lambda u: (u.priority * u.age, u.name), reverse=True)
        grace = {u.name: rank for rank, u in enumerate(due) if u.age < self.max_stale + rank}
        steps = {u.name: self._cheapest_step(u, choice[u.name], prices[u.name], u.name in grace) for u in units}
        while (max(spent) if self.overlap else spent[0] + spent[1]) > allowed:
            best: tuple[float, _Unit, int, float] | None = None  # (loss per ms, unit, new level, saving)
            for unit in units:  # only the unit that stepped changes its options, so each is kept
                step = steps[unit.name]
                if step is not None and (best is None or step[0] < best[0]):
                    best = (step[0], unit, step[1], step[2])
            if best is None:
                break
            _, unit, choice[unit.name], saving = best
            spent[0 if unit.analyzer else 1] -= saving
            steps[unit.name] = self._cheapest_step(unit, choice[unit.name], prices[unit.name], unit.name in grace)
        self.predicted = max(spent) if self.overlap else spent[0] + spent[1]

    def _cheapest_step(self, unit: _Unit, level: int, price: list[float], grace: bool,
                       ) -> tuple[float, int, float] | None:
        """``unit``'s cheapest quality step from ``level``: (quality lost per ms saved, new level or -1
        to carry, ms saved), or None. Ties keep the first option (a smaller step down, then carry)."""
        if level < 0:
            return None
        best: tuple[float, int, float] | None = None
        step_loss = (LEVEL_LOSS if unit.analyzer else EFFECT_LEVEL_LOSS) * unit.priority
        for lower in range(level + 1, len(unit.levels)):
            saving = price[level] - price[lower]
            if saving > 1e-3 and (best is None or (lower - level) * step_loss / saving < best[0]):
                best = ((lower - level) * step_loss / saving, lower, saving)
        if unit.analyzer and unit.age >= 0 and (unit.age < self.max_stale or grace):
            saving = price[level] - price[-1]
            if saving > 1e-3 and (best is None or (unit.age + 1) * unit.priority / saving < best[0]):
                best = ((unit.age + 1) * unit.priority / saving, -1, saving)
        return best

    def _noise_margin(self) -> float:
        """ms kept free for noise: the 98th percentile of recent overshoots of the prediction (>= 0)."""
        if len(self.misses) < 20:
            return 0.0
        ordered = sorted(self.misses)
        return max(0.0, ordered[(49 * len(ordered)) // 50])

    def observe(self, name: str, ms: float, fresh: bool) -> None:
        unit = self.units.get(name)
        if unit is None:
            return
        self.costs.observe(name, unit.levels[unit.level] if fresh else CARRY, ms)
        self._frame_ms[0 if unit.analyzer else 1] += ms

    def frame_done(self, total_ms: float) -> None:
        a, e = self._frame_ms
        self.costs.observe(BASE, "full", max(0.0, total_ms - (max(a, e) if self.overlap else a + e)))
        self._frame_ms = [0.0, 0.0]
        self.misses.append(total_ms - self.predicted)
        self.costs.next_frame()
        self.frames += 1
        if total_ms > self.budget_ms:
            self.over_budget += 1
            self.guard = max(0.5, self.guard * 0.9)
        else:
            self.guard = min(1.0, self.guard + 0.01)

    # -- reporting -----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """Budget, frames over it, per plugin how many frames ran at each level / reused / unchanged,
        the load index and the current cost estimates (p90 ms per plugin@level)."""
        return {"budget_ms": round(self.budget_ms, 3), "frames": self.frames, "frames_over_budget": self.over_budget,
                "overlap": self.overlap,
                "plugins": {name: dict(sorted(c.items())) for name, c in sorted(self.counts.items())},
                "load_index": round(self.costs.load, 3),
                "estimates_ms": {f"{n}@{lvl}": round(self.costs.estimate(n, lvl), 3)
                                 for n, lvl in sorted(self.costs.samples)}}


def budget_from(options: Mapping[str, Any]) -> float:
    """The budget in ms set by ``budget_ms`` and/or ``fps_target`` (0 = none)."""
    budgets = [b for b in (options.get("budget_ms", 0.0), 1000.0 / options["fps_target"]
                           if options.get("fps_target") else 0.0) if b > 0]
    return min(budgets, default=0.0)


def create_scheduler(options: Mapping[str, Any], known: set[str] | None = None) -> RunEverything | BudgetScheduler:
    """The scheduler a validated ``[scheduler]`` table asks for. ``known``: plugin names the
    ``priority``/``cap`` tables may mention (a typo there is an error, not silently ignored)."""
    for table in ("priority", "cap"):
        for name, value in options.get(table, {}).items():
            if known is not None and name not in known:
                raise ConfigError(f"[scheduler] {table}: no plugin called {name!r}",
                                  f"plugins: {', '.join(sorted(known))}")
            if table == "priority" and (not isinstance(value, int | float) or isinstance(value, bool) or value <= 0):
                raise ConfigError(f"[scheduler] priority.{name} = {value!r} is not a positive number",
                                  "use e.g. 2.0 to keep it at quality longer, 0.5 to degrade it first")
            if table == "cap" and not isinstance(value, str):
                raise ConfigError(f"[scheduler] cap.{name} = {value!r} is not a level name",
                                  f"see the levels with `edgefx plugins show {name}`")
    budget = budget_from(options)
    if budget <= 0:
        return RunEverything(overlap=bool(options.get("overlap", False)))
    return BudgetScheduler(budget, priority=options.get("priority"), cap=options.get("cap"),
                           max_stale_frames=options.get("max_stale_frames", 4),
                           similarity_gate=options.get("similarity_gate", 1.0),
                           gate_max_frames=options.get("gate_max_frames", 15),
                           overlap=bool(options.get("overlap", False)), window=options.get("window", 30))
