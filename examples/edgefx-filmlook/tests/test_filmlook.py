"""Tests of edgefx-filmlook on real photos through the real edgefx loop (edgefx.testing)."""

from __future__ import annotations

import numpy as np
import pytest
from edgefx.errors import ConfigError
from edgefx.registry import Registry
from edgefx.testing import photo, run_plugin, sample_frames

from edgefx_filmlook import FilmGrade, FilmGrain, FilmVignette, grade_table


def test_zero_strength_grade_is_identity_and_teal_orange_splits_tones():
    assert np.array_equal(grade_table("warm", 0.0)[0, :, 0], np.arange(256))
    image = photo("coffee", (320, 240))
    run = run_plugin(FilmGrade, frames=[image], options={"film_grade": {"look": "teal_orange", "strength": 1.0}})
    before, after = image.astype(int), run.images[0].astype(int)
    grey = image.mean(axis=2)
    shadows, highlights = grey < 60, grey > 180
    blue_minus_red = after[..., 0] - after[..., 2] - (before[..., 0] - before[..., 2])
    assert blue_minus_red[shadows].mean() > 10  # shadows towards teal
    assert blue_minus_red[highlights].mean() < -10  # highlights towards orange


def test_vignette_darkens_corners_and_keeps_the_centre():
    image = photo("astronaut", (320, 240))
    run = run_plugin(FilmVignette, frames=[image], options={"film_vignette": {"strength": 0.6, "radius": 1.0}})
    out = run.images[0].astype(float)
    corner = out[:8, :8].mean() / image[:8, :8].astype(float).mean()
    assert corner == pytest.approx(0.4, abs=0.05)  # 1 - 0.6 at the corner
    assert np.abs(out[118:122, 158:162] - image[118:122, 158:162]).max() <= 1


def test_grain_keeps_brightness_moves_and_repeats_with_the_seed():
    frames = sample_frames(4, (320, 240), pan_px=0)
    options = {"film_grain": {"amount": 10.0, "size": 2, "seed": 7}}
    run = run_plugin(FilmGrain, frames=frames, options=options)
    noise = [img.astype(int) - src for img, src in zip(run.images, run.inputs, strict=True)]
    assert abs(np.mean(noise[0])) < 1.0 and 7 < np.std(noise[0]) < 11  # zero mean, ~amount (minus clipping)
    assert not np.array_equal(noise[0], noise[1])  # the grain moves from frame to frame
    again = run_plugin(FilmGrain, frames=frames, options=options)
    assert all(np.array_equal(a, b) for a, b in zip(run.images, again.images, strict=True))


def test_bad_look_is_refused_with_the_choices():
    with pytest.raises(ConfigError, match="look = 'sepia'") as err:
        FilmGrade({"look": "sepia"})
    assert "'teal_orange'" in str(err.value)


def test_the_installed_package_is_discovered_by_edgefx():
    registry = Registry()
    assert registry.records["filmlook"].package == "edgefx-filmlook"
    assert registry.records["filmlook"].provides == {"effect": ["film_grade", "film_vignette", "film_grain"]}
