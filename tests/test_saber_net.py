"""The learned stick detector (``plugins/saber/net.py``, ``stick_net.tflite``): the shipped net loads
through LiteRT and, as the analyzer's ``detector = "net"``, follows a stick over a background it was
never trained on (an ``evaluate.UNTUNED`` photo)."""

from __future__ import annotations

import numpy as np

from edgefx.plugins.saber.evaluate import UNTUNED, endpoint_errors, track
from edgefx.plugins.saber.groundtruth import render_sequence
from edgefx.plugins.saber.net import NET_FILE, StickNet


def test_shipped_net_loads_and_is_small() -> None:
    net = StickNet()
    assert NET_FILE.stat().st_size < 200_000
    assert net.model.input_shape == (1, 90, 160, 3)
    heat = net.heatmap(np.zeros((180, 320, 3), np.uint8))
    assert heat.shape == (45, 80) and float(heat.max()) < 0.5  # a black picture shows no stick


def test_net_follows_a_stick_over_an_untuned_background() -> None:
    """An orange stick with a hand swung over the coins photo (untuned), blurred, under the moving
    camera: the net detector's median error is under 2% and its p95 under 5% of the diagonal (the
    colour detector, at the default colour, does not find this stick at all)."""
    assert "coins" in UNTUNED
    frames = render_sequence("circle", 60, background="coins", colour="orange", hand=True, seed=33, blur_subframes=4)
    net = endpoint_errors(frames, track(frames, settings={"detector": "net"}))
    colour = endpoint_errors(frames, track(frames, settings={"detector": "colour"}))
    print(f"coins: net median {np.median(net):.4f} p95 {np.percentile(net, 95):.4f} over {len(net)} frames; "
          f"colour median {np.median(colour):.4f}")
    assert np.median(net) <= 0.02 and np.percentile(net, 95) <= 0.05
    assert np.median(net) < np.median(colour)
