"""BudgetScheduler decisions replayed on cost traces: deterministic, no clocks.

Each simulated frame asks the scheduler for a plan, then reports the cost the trace
gives for what it chose (fresh at a level, carried, effect at a level) plus the
engine's own time, exactly as the loop does. The traces are per-plugin per-level
costs with seeded noise, or the costs recorded on this machine by `edgefx bench`
(tests/data/scheduler_trace.json).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from edgefx.contract import Analyzer, Effect, Layer
from edgefx.errors import ConfigError
from edgefx.frame import Frame, FrameContext
from edgefx.scheduling.costs import CARRY, CostModel
from edgefx.scheduling.scheduler import BASE, BudgetScheduler, RunEverything, create_scheduler

TRACE = Path(__file__).parent / "data" / "scheduler_trace.json"


def make_analyzer(name: str, levels: tuple[str, ...]) -> Analyzer:
    cls = type(name, (Analyzer,), {"name": name, "levels": levels})
    return cls()


def make_effect(name: str, levels: tuple[str, ...]) -> Effect:
    cls = type(name, (Effect,), {"name": name, "levels": levels, "layer": Layer.FOREGROUND})
    return cls()


def moving_frames(photo: np.ndarray, n: int, step: int = 3) -> list[np.ndarray]:
    """The real photo panned ``step`` pixels per frame (content changes every frame)."""
    return [np.ascontiguousarray(np.roll(photo, i * step, axis=1)) for i in range(n)]


class Simulation:
    """Drives a scheduler frame by frame with costs from ``cost(name, level, frame)``."""

    def __init__(self, scheduler: BudgetScheduler, analyzers: list[Analyzer], effects: list[Effect],
                 cost: Callable[[str, str, int], float]) -> None:
        self.s, self.cost = scheduler, cost
        self.analyzers = {a.name: a for a in analyzers}
        self.effects = {e.name: e for e in effects}
        self.totals: list[float] = []
        self.plans: list[dict] = []

    def step(self, image: np.ndarray, index: int) -> float:
        ctx = FrameContext(Frame(image, index, Fraction(1, 30), index))
        plan = self.s.plan(ctx, self.analyzers, self.effects)
        costs: dict[str, tuple[float, str | None]] = {}
        for name, a in self.analyzers.items():
            level = a.level if name in plan.fresh else None
            costs[name] = (self.cost(name, level or CARRY, index), level)
        for name, e in self.effects.items():
            costs[name] = (self.cost(name, e.level, index), e.level)
        # the engine's own time (sink, bookkeeping) on top of the plugins'
        total = self.cost(BASE, "full", index) + sum(ms for ms, _level in costs.values())
        self.s.frame_done(total, costs)
        self.totals.append(total)
        self.plans.append({"fresh": set(plan.fresh), **plan.notes})
        return total


def table_cost(table: dict[str, dict[str, float]], seed: int = 0, jitter: float = 0.1,
               load: Callable[[int], float] = lambda i: 1.0) -> Callable[[str, str, int], float]:
    """Costs from a (name -> level -> ms) table, with seeded multiplicative noise and a load factor."""
    rng = np.random.default_rng(seed)
    noise = rng.lognormal(0.0, jitter, size=(100_000,))

    def cost(name: str, level: str, index: int) -> float:
        ms = table[name][level]
        return ms * load(index) * float(noise[(zlib.crc32(f"{name}@{level}".encode()) + index * 13) % len(noise)])
    return cost


COSTS = {
    BASE: {"full": 2.0},
    "face": {"full": 12.0, "lite": 6.0, "tiny": 3.0, CARRY: 0.2},
    "person": {"full": 10.0, "half": 5.0, CARRY: 0.3},
    "glow": {"full": 6.0, "small": 2.5},
    "particles": {"full": 4.0, "few": 1.5},
}
FULL_COST = 2.0 + 12 + 10 + 6 + 4  # engine base + everything at its best level


def build(budget: float, **kw) -> tuple[BudgetScheduler, list[Analyzer], list[Effect]]:
    analyzers = [make_analyzer("face", ("full", "lite", "tiny")), make_analyzer("person", ("full", "half"))]
    effects = [make_effect("glow", ("full", "small")), make_effect("particles", ("full", "few"))]
    return BudgetScheduler(budget, **kw), analyzers, effects


def p99(values: list[float]) -> float:
    return float(np.percentile(values, 99))


def test_half_budget_holds_p99_and_says_what_was_degraded(astronaut_bgr):
    budget = FULL_COST / 2
    scheduler, analyzers, effects = build(budget, similarity_gate=0.0)
    sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS))
    for i, image in enumerate(moving_frames(astronaut_bgr, 300)):
        sim.step(image, i)
    settled = sim.totals[30:]
    assert p99(settled) <= 1.1 * budget, (p99(settled), budget)
    degraded = [p for p in sim.plans[30:] if p.get("degraded") or p.get("reused")]
    assert len(degraded) == len(settled)  # at half budget, every frame gives something up
    summary = scheduler.summary()
    assert summary["plugins"]["face"].get("reused", 0) + summary["plugins"]["face"].get("lite", 0) > 0
    # nothing is reused for longer than max_stale_frames
    streak, worst = 0, 0
    for plan in sim.plans:
        streak = 0 if "face" in plan["fresh"] else streak + 1
        worst = max(worst, streak)
    assert worst <= 4


def test_full_quality_returns_within_a_second_when_budget_is_raised(astronaut_bgr):
    scheduler, analyzers, effects = build(FULL_COST / 2, similarity_gate=0.0)
    sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS))
    frames = moving_frames(astronaut_bgr, 240)
    for i in range(120):
        sim.step(frames[i], i)
    assert sim.plans[-1].get("degraded") or sim.plans[-1].get("reused")
    scheduler.set_budget(FULL_COST * 2)
    for i in range(120, 240):
        sim.step(frames[i], i)
    full = [i for i, p in enumerate(sim.plans[120:]) if not p.get("degraded") and not p.get("reused")
            and p["fresh"] == {"face", "person"}]
    assert full and full[0] < 30  # 30 frames = 1 s at 30 fps
    assert all(i in full for i in range(full[0], 120))  # and it stays there


def test_cpu_hog_mid_run_keeps_p99_and_quality_comes_back(astronaut_bgr):
    """From frame 150 to 300 everything costs 1.5x (another process takes the CPU)."""
    budget = FULL_COST * 0.6
    hog = lambda i: 1.5 if 150 <= i < 300 else 1.0  # noqa: E731
    scheduler, analyzers, effects = build(budget, similarity_gate=0.0)
    sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS, load=hog))
    for i, image in enumerate(moving_frames(astronaut_bgr, 450)):
        sim.step(image, i)
    during = sim.totals[160:300]
    assert p99(during) <= 1.1 * budget, p99(during)
    levels_during = sum(len(p.get("degraded", {})) + len(p.get("reused", [])) for p in sim.plans[160:300])
    levels_after = sum(len(p.get("degraded", {})) + len(p.get("reused", [])) for p in sim.plans[400:450])
    assert levels_after / 50 < levels_during / 140  # quality returns once the hog is gone
    assert p99(sim.totals[310:]) <= 1.1 * budget


def test_refreshes_falling_due_together_are_spread_out(astronaut_bgr):
    """A budget with room for at most one fresh analyzer per frame: the two analyzers never refresh
    on the same frame (after start-up), and neither waits more than one frame past max_stale."""
    costs = {BASE: {"full": 2.0}, "face": {"full": 8.0, CARRY: 0.2}, "person": {"full": 8.0, CARRY: 0.2},
             "glow": {"full": 3.0}}
    analyzers = [make_analyzer("face", ("full",)), make_analyzer("person", ("full",))]
    scheduler = BudgetScheduler(14.0, similarity_gate=0.0, max_stale_frames=3)
    sim = Simulation(scheduler, analyzers, [make_effect("glow", ("full",))], table_cost(costs, jitter=0.02))
    for i, image in enumerate(moving_frames(astronaut_bgr, 120)):
        sim.step(image, i)
    assert all(len(p["fresh"]) <= 1 for p in sim.plans[10:])
    for name in ("face", "person"):
        streak, worst = 0, 0
        for plan in sim.plans[10:]:
            streak = 0 if name in plan["fresh"] else streak + 1
            worst = max(worst, streak)
        assert 1 <= worst <= 4


def test_priority_decides_who_degrades_first(astronaut_bgr):
    frames = moving_frames(astronaut_bgr, 120)
    kept = {}
    for favourite in ("face", "person"):
        scheduler, analyzers, effects = build(FULL_COST * 0.7, similarity_gate=0.0, priority={favourite: 5.0})
        sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS))
        for i, image in enumerate(frames):
            sim.step(image, i)
        counts = scheduler.summary()["plugins"]
        kept[favourite] = (counts["face"].get("full", 0), counts["person"].get("full", 0))
    assert kept["face"][0] > kept["person"][0]  # face keeps its best level more when it is the favourite
    assert kept["person"][1] > kept["face"][1]


def test_similarity_gate_skips_unchanged_frames(astronaut_bgr):
    still = [astronaut_bgr.copy() for _ in range(40)]
    scheduler, analyzers, effects = build(FULL_COST * 10, similarity_gate=1.0, gate_max_frames=15)
    sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS))
    for i, image in enumerate(still):
        sim.step(image, i)
    fresh_face = [i for i, p in enumerate(sim.plans) if "face" in p["fresh"]]
    assert fresh_face == [0, 16, 32]  # plenty of budget, but the picture did not change
    assert all(set(p.get("unchanged", [])) == {"face", "person"} for i, p in enumerate(sim.plans)
               if i not in fresh_face)
    moving = moving_frames(astronaut_bgr, 10, step=8)
    for i, image in enumerate(moving):
        sim.step(image, 40 + i)
    assert all("face" in p["fresh"] for p in sim.plans[41:])  # the content moves: every frame fresh


def test_cap_limits_the_best_level():
    scheduler, analyzers, effects = build(1000.0, cap={"face": "lite"})
    ctx = FrameContext(Frame(np.zeros((72, 128, 3), np.uint8), 0, Fraction(1, 30), 0))
    scheduler.plan(ctx, {a.name: a for a in analyzers}, {e.name: e for e in effects})
    assert analyzers[0].level == "lite"
    bad, analyzers, effects = build(1000.0, cap={"face": "huge"})
    with pytest.raises(ConfigError, match="no level 'huge'"):
        bad.plan(ctx, {a.name: a for a in analyzers}, {e.name: e for e in effects})


def test_create_scheduler_from_config_tables():
    assert isinstance(create_scheduler({"budget_ms": 0.0, "fps_target": 0.0}), RunEverything)
    s = create_scheduler({"budget_ms": 50.0, "fps_target": 25.0})
    assert isinstance(s, BudgetScheduler) and s.budget_ms == 40.0
    with pytest.raises(ConfigError, match="no plugin called 'fase'"):
        create_scheduler({"budget_ms": 20.0, "priority": {"fase": 2}}, known={"face"})
    with pytest.raises(ConfigError, match="not a positive number"):
        create_scheduler({"budget_ms": 20.0, "priority": {"face": -1}}, known={"face"})


def test_cost_model_follows_the_machine_load_for_levels_not_running():
    model = CostModel(window=10, stale_frames=5)
    levels = ("full", "lite")
    for _ in range(10):  # quiet machine: full costs 20 ms
        model.observe("face", "full", 20.0)
        model.observe("person", "full", 10.0)
        model.next_frame()
    assert model.estimate("face", "full", levels) == 20.0
    assert model.estimate("face", "lite", levels) == 10.0  # unmeasured: half the better level
    assert model.estimate("glow", "full", levels) == 0.0  # never measured: must run once to be priced
    for _ in range(40):  # a hog doubles every cost; face is not run any more, person is
        model.observe("person", "full", 20.0)
        model.next_frame()
    assert model.load == pytest.approx(2.0, rel=0.05)
    assert model.estimate("face", "full", levels) == pytest.approx(40.0, rel=0.05)  # priced before the hog
    for _ in range(40):  # the hog is gone
        model.observe("person", "full", 10.0)
        model.next_frame()
    assert model.estimate("face", "full", levels) == pytest.approx(20.0, rel=0.05)
    assert model.estimate("person", "full", levels) == 10.0
    model.observe("face", "full", 18.0)  # a sample after a long gap starts a new window
    assert model.estimate("face", "full", levels) == pytest.approx(18.0, rel=0.05)
    for _ in range(10):  # a plugin with nothing to do (no face) costs ~0: no division by zero later
        model.observe("mask", "full", 0.0)
    load = model.load
    model.observe("mask", "full", 3.0)
    assert model.load == load  # no quiet cost to compare with: it does not move the load index
    assert model.estimate("mask", "full", levels) == pytest.approx(3.0)  # the p90 of its window


def test_quality_returns_after_the_hog(astronaut_bgr):
    """Half budget; from frame 100 to 200 everything costs 1.5x; the share of plugin-frames at
    full quality after the hog comes back to what it was before it."""
    hog = lambda i: 1.5 if 100 <= i < 200 else 1.0  # noqa: E731
    scheduler, analyzers, effects = build(FULL_COST / 2, similarity_gate=0.0)
    sim = Simulation(scheduler, analyzers, effects, table_cost(COSTS, load=hog))
    for i, image in enumerate(moving_frames(astronaut_bgr, 330)):
        sim.step(image, i)

    def full_share(plans: list[dict]) -> float:
        lost = sum(len(p.get("degraded", {})) + len(p.get("reused", [])) for p in plans)
        return 1 - lost / (4 * len(plans))

    before, during, after = full_share(sim.plans[40:100]), full_share(sim.plans[110:200]), full_share(sim.plans[230:])
    assert during < before
    assert after >= before - 0.05, (before, during, after)


@pytest.mark.skipif(not TRACE.exists(), reason="no recorded trace")
def test_recorded_trace_from_this_machine_half_budget(astronaut_bgr):
    """Replay per-call costs recorded by `edgefx bench --only plugin_levels` on this machine (real
    plugins at 1280x720, real noise from a shared CPU). Where the recording itself leaves no room
    (the engine alone plus the cheapest of everything is over the budget) no decision can help,
    so the check is: over 110% of the budget only on such frames, and on at most 1% of the rest."""
    trace = json.loads(TRACE.read_text())
    series: dict[str, dict[str, list[float]]] = trace["series"]
    analyzers = [make_analyzer(n, tuple(trace["levels"][n])) for n in trace["analyzers"]]
    effects = [make_effect(n, tuple(trace["levels"][n])) for n in trace["effects"]]
    best = {n: trace["levels"].get(n, ["full"])[0] for n in series}
    full = sum(float(np.median(series[n][best[n]])) for n in [BASE, *trace["analyzers"], *trace["effects"]])
    budget = full / 2

    def cost(name: str, level: str, index: int) -> float:
        values = series[name][level]
        return values[index % len(values)]

    def floor(index: int) -> float:
        cheapest = [cost(n, CARRY, index) for n in trace["analyzers"]]
        cheapest += [min(cost(n, lvl, index) for lvl in trace["levels"][n]) for n in trace["effects"]]
        return cost(BASE, "full", index) + sum(cheapest)

    scheduler = BudgetScheduler(budget, similarity_gate=0.0)
    sim = Simulation(scheduler, analyzers, effects, cost)
    for i, image in enumerate(moving_frames(astronaut_bgr, 300)):
        sim.step(image, i)
    feasible = [i for i in range(30, 300) if floor(i) <= budget]
    over = [i for i in feasible if sim.totals[i] > 1.1 * budget]
    assert len(feasible) > 150
    assert len(over) <= 0.01 * len(feasible), (over, budget)
    assert p99([sim.totals[i] for i in feasible]) <= 1.1 * budget
