"""Discovery through the `edgefx` entry-point group, with a real package installed by pip."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx import Effect
from edgefx.errors import ConfigError
from edgefx.io.sink import Sink
from edgefx.registry import Registry, scheme_of, validate_class

EDGEFX = str(Path(sys.executable).with_name("edgefx"))

PLUGIN_MODULE = '''
"""A third-party plugin used by the tests: inverts the picture."""
import edgefx


class Invert(edgefx.Effect):
    """Invert every pixel."""

    name = "tp_invert"
    layer = edgefx.Layer.OVERLAY
    options = {"amount": edgefx.Option(1.0, "how much to invert", min=0.0, max=1.0)}

    def apply(self, frame, ctx):
        if self.settings["amount"] >= 0.5:
            frame.image[...] = 255 - frame.image


class NotAnEffect:
    name = "tp_bad"


@edgefx.hookimpl
def edgefx_effects():
    return [Invert, NotAnEffect]
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "edgefx-testplugin"
version = "1.2.3"

[project.entry-points.edgefx]
tp_invert = "edgefx_testplugin"
tp_broken = "edgefx_testplugin_missing"

[tool.setuptools]
py-modules = ["edgefx_testplugin"]
'''


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory):
    """Build and pip-install a real third-party package; uninstall afterwards."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "pyproject.toml").write_text(textwrap.dedent(PYPROJECT))
    (root / "edgefx_testplugin.py").write_text(PLUGIN_MODULE)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--no-deps", "--no-build-isolation", str(root)], check=True)
    yield "edgefx-testplugin"
    subprocess.run([*pip, "uninstall", "-y", "edgefx-testplugin"], check=True)


def plugins_json() -> list[dict]:
    out = subprocess.run([EDGEFX, "plugins", "list", "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_third_party_package_is_found_like_builtins(installed_plugin):
    records = {r["name"]: r for r in plugins_json()}
    assert records["io"]["package"] == "edgefx"  # built-in, same group
    good = records["tp_invert"]
    assert (good["package"], good["version"], good["loaded"]) == ("edgefx-testplugin", "1.2.3", True)
    assert good["provides"] == {"effect": ["tp_invert"]}
    # the invalid class in the same plugin is reported, not fatal
    assert any("tp_bad" in p or "NotAnEffect" in p for p in good["problems"])


def test_broken_plugin_is_skipped_with_its_reason(installed_plugin):
    records = {r["name"]: r for r in plugins_json()}
    broken = records["tp_broken"]
    assert broken["loaded"] is False
    assert "ModuleNotFoundError" in broken["problems"][0]
    assert "edgefx_testplugin_missing" in broken["problems"][0]


def test_third_party_effect_runs_through_the_engine(installed_plugin, tmp_path):
    out = tmp_path / "inverted.mkv"
    done = subprocess.run([EDGEFX, "run", "-i", "testsrc:?size=320x240&duration=1", "-o", str(out),
                           "--effects", "tp_invert", "--no-progress"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    plain = tmp_path / "plain.mkv"
    subprocess.run([EDGEFX, "run", "-i", "testsrc:?size=320x240&duration=1", "-o", str(plain), "--no-progress"],
                   check=True, capture_output=True)
    with av.open(str(out)) as a, av.open(str(plain)) as b:
        fa = next(a.decode(video=0)).to_ndarray(format="bgr24").astype(int)
        fb = next(b.decode(video=0)).to_ndarray(format="bgr24").astype(int)
    assert np.mean(np.abs(fa - (255 - fb))) < 6  # inverted, up to coding noise


def test_bad_option_of_a_plugin_is_refused_before_output(installed_plugin, tmp_path):
    out = tmp_path / "never.mp4"
    done = subprocess.run([EDGEFX, "run", "-i", "testsrc:?duration=1", "-o", str(out), "--effects", "tp_invert",
                           "--set", "effects.tp_invert.amount=3"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "tp_invert" in done.stderr and "amount" in done.stderr and "from 0.0 to 1.0" in done.stderr
    assert not out.exists()


def test_allow_and_block_lists(installed_plugin, monkeypatch):
    monkeypatch.setenv("EDGEFX_DISABLE_PLUGINS", "tp_invert")
    registry = Registry()
    assert "tp_invert" not in registry.effects
    assert "disabled" in registry.records["tp_invert"].problems[0]
    monkeypatch.delenv("EDGEFX_DISABLE_PLUGINS")
    monkeypatch.setenv("EDGEFX_PLUGINS", "io")
    registry = Registry()
    assert set(registry.effects) == set() and "file" in registry.sources


def test_validate_class_names_what_is_wrong():
    class Nameless(Effect):
        pass

    class Upper(Effect):
        name = "Bad Name"

    assert "name" in validate_class(Nameless, Effect)
    assert "lowercase identifier" in validate_class(Upper, Effect)
    assert "not a subclass" in validate_class(int, Sink)


def test_scheme_resolution_and_unknown_scheme():
    assert scheme_of("rtsp://cam/1") == "rtsp"
    assert scheme_of("clip.mp4") == scheme_of("/a/b.mkv") == "file"
    assert scheme_of("C:\\videos\\a.mp4") == "file"
    assert scheme_of("demo:?seconds=2") == "demo"
    with pytest.raises(ConfigError, match="unknown input type 'gopher'"):
        Registry().source_for("gopher://x")
