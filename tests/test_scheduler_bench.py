"""`edgefx bench --only plugin_levels` report: every plugin at every level in the table, a real
PNG timeline, a suggested profile that loads, validates and builds a scheduler, and the trace."""

from __future__ import annotations

import json

import cv2

from edgefx.bench import BenchSettings
from edgefx.bench.scheduling import bench_plugin_levels, registry_with_loadtest
from edgefx.config import load_settings, validate_plugin_tables
from edgefx.registry import load_registry
from edgefx.scheduling.scheduler import BudgetScheduler, create_scheduler


def test_plugin_levels_report(tmp_path):
    figures = bench_plugin_levels(BenchSettings(out_dir=tmp_path, quick=True))
    registry = registry_with_loadtest()
    table = (tmp_path / "plugin_levels.md").read_text()
    for name, cls in [*registry.analyzers.items(), *registry.effects.items()]:
        for level in cls.levels:
            assert f"| {name} | " in table and f"{name}@{level}_median_ms" in figures
    for name in registry.analyzers:
        assert f"{name}@carry_median_ms" in figures
    plot = cv2.imread(str(tmp_path / "plugin_levels.png"))
    assert plot is not None and plot.shape == (700, 1200, 3) and (plot < 250).any()

    profile = tmp_path / "suggested_profile.toml"
    settings = load_settings(str(profile))
    installed = load_registry()
    validate_plugin_tables(settings, installed.effects, installed.analyzers)
    scheduler = create_scheduler(settings.extra["scheduler"], {*installed.analyzers, *installed.effects})
    assert isinstance(scheduler, BudgetScheduler) and 1000 / 30 <= scheduler.budget_ms <= 1000 / 15
    assert "loadtest" not in profile.read_text().split("[scheduler]")[1]  # only installed plugins

    trace = json.loads((tmp_path / "scheduler_trace.json").read_text())
    assert set(trace["analyzers"]) == set(registry.analyzers)
    assert set(trace["effects"]) == set(registry.effects)
    assert len(trace["series"]["_engine"]["full"]) >= 10
