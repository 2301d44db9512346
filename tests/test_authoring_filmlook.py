"""examples/edgefx-filmlook, a plugin package outside the project: pip-installed, discovered through
its entry point, run by `edgefx run` on a real clip, and its own tests pass."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.testing import sample_clip

BIN = Path(sys.executable).parent
EDGEFX = str(BIN / "edgefx")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "edgefx-filmlook"
EFFECTS = "film_grade,film_vignette,film_grain"


@pytest.fixture(scope="module")
def filmlook(tmp_path_factory):
    """A copy of the example (so the build leaves nothing in the repo), pip-installed; uninstalled afterwards."""
    root = tmp_path_factory.mktemp("example") / "edgefx-filmlook"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    subprocess.run([*PIP, "install", "--no-deps", "--no-build-isolation", str(root)], check=True, capture_output=True)
    yield root
    subprocess.run([*PIP, "uninstall", "-y", "edgefx-filmlook"], check=True, capture_output=True)


def decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="bgr24") for f in container.decode(video=0)])


def test_filmlook_runs_in_edgefx_run_on_a_real_clip(filmlook, tmp_path):
    clip = sample_clip(tmp_path / "coffee.mp4", seconds=1.0, fps=30, size=(320, 240), name="coffee")
    out = tmp_path / "film.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", str(clip), "-o", str(out), "--effects", EFFECTS, "--no-progress",
                           "--set", "effects.film_vignette.strength=0.7"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in EFFECTS.split(","))  # each effect ran and was timed
    film, source = decode(out).astype(float), decode(clip).astype(float)
    assert film.shape == source.shape == (30, 240, 320, 3)
    corner_ratio = film[:, :12, :12].mean() / source[:, :12, :12].mean()
    assert 0.2 < corner_ratio < 0.45  # vignette: about 1 - 0.7 at the corners (grade and grain shift it a bit)
    centre = (slice(None), slice(100, 140), slice(140, 180))
    assert np.abs(film[centre].mean() - source[centre].mean()) < 12  # the middle keeps its brightness
    grain = film[:, 100:140, 140:180] - source[:, 100:140, 140:180]
    assert grain.std() > 4  # visible grain on top of coding noise


def test_filmlook_own_tests_pass(filmlook):
    done = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"], cwd=filmlook,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout


def test_filmlook_bad_option_exits_2_naming_plugin_option_and_choices(filmlook, tmp_path):
    out = tmp_path / "never.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", "testsrc:?duration=1", "-o", str(out), "--effects", EFFECTS,
                           "--set", "effects.film_grade.look=sepia"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "film_grade" in done.stderr and "look = 'sepia'" in done.stderr
    assert "one of 'teal_orange', 'warm', 'cool', 'faded'" in done.stderr
    assert not out.exists()
