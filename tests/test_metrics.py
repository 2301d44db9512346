"""Run metrics stay bounded on runs of any length and summarise like exact percentiles."""

from __future__ import annotations

import numpy as np

from edgefx.runtime.metrics import Distribution, Metrics, percentiles


def test_distribution_is_exact_while_short_and_within_half_a_percent_when_long():
    rng = np.random.default_rng(0)
    short = rng.lognormal(1.0, 0.5, 1000)
    exact = Distribution(exact=4096)
    for v in short:
        exact.add(float(v))
    assert exact.summary() == percentiles(short)

    long = rng.lognormal(1.0, 0.5, 50_000)  # binned after the first 4096
    binned = Distribution(exact=4096)
    for v in long:
        binned.add(float(v))
    got, want = binned.summary(), percentiles(long)
    for key in ("p50", "p90", "p99"):
        assert abs(got[key] - want[key]) <= 0.006 * want[key], (key, got[key], want[key])
    assert got["max"] == want["max"] and abs(got["mean"] - want["mean"]) <= 0.001
    assert binned._bins is not None and len(binned._buffer) < 4096  # bounded: bins plus < exact values


def test_metrics_keep_recent_records_and_count_all():
    metrics = Metrics(keep=100)
    for i in range(1000):
        metrics.record(i, i / 30, 10.0 + i % 7, {"sink": 1.0}, {})
    assert metrics.count == 1000 and len(metrics.frames) == 100 and metrics.frames[0]["index"] == 900
    assert metrics.recent_totals(3) == [10.0 + 997 % 7, 10.0 + 998 % 7, 10.0 + 999 % 7]
    summary = metrics.summary()
    assert summary["frames"] == 1000 and summary["frame_ms"] == percentiles([10.0 + i % 7 for i in range(1000)])
    assert summary["stages_ms"]["sink"]["p50"] == 1.0
