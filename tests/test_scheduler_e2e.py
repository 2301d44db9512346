"""End-to-end: every effect and analyzer the registry lists (plus the load-test plugins) at
1280x720 through the real loop with a budget of half their full cost.

What the scheduler decides is asserted: it degrades or reuses under the budget and returns to
full quality within a second once the budget is raised. How close p99 stays to the budget is a
timing figure of a shared CPU, so it is a benchmark (`edgefx bench --only
scheduler_budget,scheduler_budget_hog`, quoted in docs/scheduler.md), not asserted here.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgefx.bench.scheduling import budget_acceptance


@pytest.mark.parametrize("hog", [False, True], ids=["quiet", "cpu_hog"])
def test_half_budget_all_effects_720p(hog):
    report = budget_acceptance(frames=300, hog=hog)
    assert {"faces", "face_mask", "stats", "loadtest_glow"} <= set(report["plugins"])
    assert report["degraded"], "a budget of half the full cost must degrade or reuse something"
    assert report["frames_to_full_quality_after_raise"] is not None
    assert report["frames_to_full_quality_after_raise"] <= 30, report  # within 1 s at 30 fps
    assert np.isfinite(report["full_cost_median_ms"]) and report["budget_ms"] < report["full_cost_median_ms"]
