"""The studio effects are installed plugins whose every option `edgefx plugins show` lists, and the
reframing geometry (``View``) maps points and pictures consistently, also for the person mask."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edgefx.cli.main import main
from edgefx.frame import View
from edgefx.plugins.studio.autoframe import AutoFrame
from edgefx.plugins.studio.relight import Relight
from edgefx.plugins.studio.touchup import TouchUp
from edgefx.results import PersonMask

PERSON_MASK = sorted((Path(__file__).parent / "data" / "person").glob("*.png"))[0]


@pytest.mark.parametrize("effect", [AutoFrame, TouchUp, Relight])
def test_plugins_show_lists_every_option(effect, capsys):
    assert main(["plugins", "show", effect.name]) == 0
    out = capsys.readouterr().out
    assert "plugin studio" in out and "layer: camera" in out
    for key, option in effect.options.items():
        assert f"{key}: " in out and option.help in out, key


def test_view_maps_points_like_cv2_resize_maps_pixels():
    """A bright pixel at a known place lands where ``View.points`` says after the crop is resized."""
    image = np.zeros((720, 1280), np.uint8)
    image[300, 500] = 255
    view = View(400.0, 200.0, 640.0, 360.0, (1280, 720), (1280, 720))
    framed = cv2.resize(image[200:560, 400:1040], (1280, 720), interpolation=cv2.INTER_LINEAR)
    ys, xs = np.nonzero(framed == framed.max())
    assert np.allclose(view.points(np.array([[500.0, 300.0]]))[0], (xs.mean(), ys.mean()), atol=0.6)
    twice = view.then(View(320.0, 180.0, 640.0, 360.0, (1280, 720), (1280, 720)))
    direct = View(560.0, 290.0, 320.0, 180.0, (1280, 720), (1280, 720))
    p = np.array([[600.0, 320.0, 4.0]])
    assert np.allclose(twice.points(p), direct.points(p)) and np.isclose(twice.points(p)[0, 2], 16.0)


def test_person_mask_is_cut_to_the_framed_picture():
    mask = cv2.imread(str(PERSON_MASK), cv2.IMREAD_GRAYSCALE)
    small = cv2.resize(mask, (256, 144), interpolation=cv2.INTER_AREA)
    person = PersonMask(small, np.zeros((144, 256, 3), np.uint8))
    view = View(320.0, 90.0, 640.0, 360.0, (1280, 720), (1280, 720))
    framed = person.reframed(view)
    assert framed.small.shape == small.shape
    whole = person.full(720, 1280)
    want = cv2.resize(whole[90:450, 320:960], (1280, 720), interpolation=cv2.INTER_LINEAR)
    got = framed.full(720, 1280)
    assert np.abs(got.astype(int) - want).mean() < 3.0
