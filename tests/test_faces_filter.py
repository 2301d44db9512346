"""The One Euro filter on its own: still signals are smoothed, steady motion passes with bounded lag."""

from __future__ import annotations

import numpy as np

from edgefx.vision.one_euro import OneEuroFilter, smoothing_factor


def test_smoothing_factor_matches_the_first_order_low_pass():
    # tau = 1 / (2 pi fc); alpha = 1 / (1 + tau / dt)
    assert abs(smoothing_factor(1.0, 1 / 30) - 1 / (1 + 30 / (2 * np.pi))) < 1e-12


def test_noise_on_a_still_point_is_strongly_reduced():
    rng = np.random.default_rng(0)
    f = OneEuroFilter(min_cutoff=0.5, beta=0.0)
    noisy = 100 + rng.normal(0, 1.0, (300, 5, 2))
    out = np.array([f(x, i / 30) for i, x in enumerate(noisy)])
    assert out[60:].std() < 0.3 * noisy[60:].std()


def test_beta_cuts_the_lag_of_a_moving_point():
    t = np.arange(120) / 30
    ramp = (300.0 * t)[:, None, None] * np.ones((1, 3, 2))  # 300 px/s
    lags = {}
    for beta in (0.0, 1.0):
        f = OneEuroFilter(min_cutoff=0.5, beta=beta)
        out = np.array([f(x, ti, scale=100.0) for x, ti in zip(ramp, t, strict=True)])
        lags[beta] = float((ramp - out)[60:].mean())
    assert lags[1.0] < 0.2 * lags[0.0]


def test_first_sample_and_repeated_time_pass_through():
    f = OneEuroFilter()
    x = np.array([[1.0, 2.0]])
    assert np.array_equal(f(x, 0.0), x)
    assert np.array_equal(f(x + 5, 0.0), x)  # same timestamp: no update, no division by zero
    f.reset()
    assert np.array_equal(f(x + 5, 1.0), x + 5)
