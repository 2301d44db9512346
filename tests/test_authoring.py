"""`edgefx plugins new`: the generated package installs with pip, runs in `edgefx run` on a real
clip, and its own generated tests pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.cli.scaffold import new_plugin, template_values
from edgefx.errors import ConfigError
from edgefx.testing import sample_clip

BIN = Path(sys.executable).parent
EDGEFX = str(BIN / "edgefx")
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
NAME = "authkit"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """`edgefx plugins new authkit` into a temp dir, pip-installed (offline); uninstalled afterwards."""
    parent = tmp_path_factory.mktemp("scaffold")
    done = subprocess.run([EDGEFX, "plugins", "new", NAME, "--dir", str(parent)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    root = parent / "edgefx-authkit"
    subprocess.run([*PIP, "install", "--no-deps", "--no-build-isolation", str(root)], check=True,
                   capture_output=True)
    yield root
    subprocess.run([*PIP, "uninstall", "-y", "edgefx-authkit"], check=True, capture_output=True)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """One second of a slow pan across the astronaut photo, H.264, 320x240 at 30 fps."""
    return sample_clip(tmp_path_factory.mktemp("clip") / "astronaut.mp4", seconds=1.0, fps=30, size=(320, 240))


def decode(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]


def test_generated_package_layout(tmp_path):
    generated = new_plugin(NAME, tmp_path)
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert files == ["README.md", "edgefx_authkit/__init__.py", "edgefx_authkit/analyzer.py",
                     "edgefx_authkit/effect.py", "pyproject.toml", "tests/test_edgefx_authkit.py"]
    pyproject = (generated / "pyproject.toml").read_text()
    assert '[project.entry-points.edgefx]\nauthkit = "edgefx_authkit"' in pyproject
    assert "${" not in "".join(p.read_text() for p in generated.rglob("*") if p.is_file())


def test_generated_plugin_runs_in_edgefx_run_on_a_real_clip(generated, clip, tmp_path):
    out = tmp_path / "bordered.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", str(clip), "-o", str(out), "--effects", NAME, "--no-progress",
                           "--set", "effects.authkit.color=red", "--set", "effects.authkit.gain=100"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "authkit_activity" in done.stdout  # the analyzer the effect requires ran, with its timing
    frames, inputs = decode(out), decode(clip)
    assert len(frames) == len(inputs) == 30
    top = np.stack([f[:16].reshape(-1, 3).mean(axis=0) for f in frames])  # mean BGR of the top rows
    assert not (top[0, 2] > 200 and top[0, 0] < 60)  # frame 0: no motion yet, no border
    assert (top[1:, 2] > 200).all() and (top[1:, 0] < 60).all()  # then a red border on every frame
    middle = slice(40, 200), slice(40, 280)
    assert np.mean(np.abs(frames[10][middle].astype(int) - inputs[10][middle])) < 4  # inside untouched


def test_generated_tests_pass_as_generated(generated):
    done = subprocess.run([str(BIN / "pytest"), "-q", "-p", "no:cacheprovider"], cwd=generated,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 passed" in done.stdout


def test_bad_option_of_generated_plugin_exits_2_naming_plugin_option_and_choices(generated, clip, tmp_path):
    out = tmp_path / "never.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", str(clip), "-o", str(out), "--effects", NAME,
                           "--set", "effects.authkit.color=purple"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "authkit" in done.stderr and "color = 'purple'" in done.stderr
    assert "one of 'white', 'red', 'green', 'blue'" in done.stderr
    assert not out.exists()


def test_plugins_show_prints_types_defaults_ranges_and_choices(generated):
    done = subprocess.run([EDGEFX, "plugins", "show", NAME], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert "  max_px: int = 24  allowed: int from 1 to 200  - thickest border in pixels" in lines
    assert any(line.startswith("  gain: float = 8.0  allowed: float or int from 0.0 to 100.0") for line in lines)
    assert "  color: str = 'white'  allowed: one of 'white', 'red', 'green', 'blue'  - border colour" in lines
    assert "layer: overlay   requires: authkit_activity" in done.stdout


def test_bad_names_and_existing_folders_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not a lowercase identifier"):
        new_plugin("Film-Look", tmp_path)
    assert template_values("film_look")["effect_class"] == "FilmLookBorder"
    new_plugin("dup", tmp_path)
    with pytest.raises(ConfigError, match="already exists"):
        new_plugin("dup", tmp_path)
    done = subprocess.run([EDGEFX, "plugins", "new", "dup", "--dir", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 2 and "already exists" in done.stderr
