"""Device profiles (configs/pi4.toml, pi5.toml, laptop.toml): they load and validate against the
installed plugins, and with the budget scaled by the slowdown each states, every effect runs
with the profile's size and settings and the scheduler degrades to fit (the p99 against that
budget is `edgefx bench --only profiles`)."""

from __future__ import annotations

import pytest

from edgefx.bench.scheduling import PROFILE_RUNS, PROFILE_SLOWDOWN, degraded_report, profile_run
from edgefx.config import load_settings, preset_path, validate_plugin_tables
from edgefx.errors import ConfigError
from edgefx.registry import load_registry
from edgefx.scheduling.scheduler import BudgetScheduler, budget_from, create_scheduler

PROFILES = ("pi4", "pi5", "laptop")


@pytest.mark.parametrize("name", PROFILES)
def test_profile_loads_and_validates(name):
    settings = load_settings(name)
    registry = load_registry()
    validate_plugin_tables(settings, registry.effects, registry.analyzers)
    options = settings.extra["scheduler"]
    scheduler = create_scheduler(options, {*registry.analyzers, *registry.effects})
    assert isinstance(scheduler, BudgetScheduler)
    assert scheduler.budget_ms == pytest.approx(1000.0 / options["fps_target"])
    assert settings.input["width"] and settings.input["height"]


def test_profiles_order_by_device_speed():
    budgets = {name: budget_from(load_settings(name).extra["scheduler"]) for name in PROFILES}
    assert budgets["pi4"] > budgets["pi5"] > budgets["laptop"]  # a slower device gets more time per frame
    for name in PROFILES:  # each profile's header states the slowdown used here
        assert f"{PROFILE_SLOWDOWN[name]}" in preset_path(name).read_text()


def test_no_scheduler_option_is_left_unread():
    """``device_slowdown`` was declared and set in the Pi profiles, and read by nothing: it is gone,
    and a preset that still sets it is told so instead of being silently ignored."""
    with pytest.raises(ConfigError, match="unknown option 'device_slowdown'"):
        load_settings(None, {"scheduler.device_slowdown": 2.5})


@pytest.mark.parametrize("name", sorted(PROFILE_RUNS))
def test_pi_profile_runs_every_effect_and_degrades_under_its_scaled_budget(name, tmp_path):
    """Every effect with the profile's size and settings under its budget scaled to this machine:
    the scheduler runs them all and trades quality for time. How close p99 stays to the budget is
    a timing figure, reported by `edgefx bench --only profiles`, not asserted here."""
    run = profile_run(name, 240, tmp_path)  # 8 s of the demo input at the profile's frame rate
    plugins = run.summary["scheduler"]["plugins"]
    assert {"face_mask", "background", "faces", "person"} <= set(plugins), plugins
    assert len(run.totals) > 60
    assert degraded_report(run.notes[30:]), "a Pi budget on all effects must degrade or reuse something"
