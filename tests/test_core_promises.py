"""What the docs promise about plugins, runs and outputs, checked end to end (issue 31's
"broken promises": each of these failed before its fix)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from fractions import Fraction
from importlib.metadata import EntryPoint, entry_points

import av
import numpy as np
import pytest

from edgefx import Analyzer, Effect, Layer
from edgefx import registry as discovery
from edgefx.cli.main import main
from edgefx.config import load_settings
from edgefx.errors import ConfigError
from edgefx.registry import GROUP, Registry
from edgefx.runtime.runner import create_plugins, execute
from edgefx.testing import run_plugin


def _plugins(tmp_path, monkeypatch, **modules: str) -> list[EntryPoint]:
    """Write each ``name=source`` as an importable module; entry points for them, in order."""
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.syspath_prepend(str(tmp_path))
    return [EntryPoint(name=name, value=name, group=GROUP) for name in modules]


# -- hooks go through pluggy --------------------------------------------------------------------

def test_trace_logs_each_hook_call_with_its_plugin():
    env = {**os.environ, "EDGEFX_TRACE_PLUGINS": "1"}
    run = subprocess.run([sys.executable, "-m", "edgefx.cli", "run", "-i", "demo:?seconds=1", "-o", "null",
                          "--no-progress"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    traced = [line for line in run.stderr.splitlines() if line.startswith("[edgefx trace] ")]
    assert "[edgefx trace] edgefx_sources -> io (no arguments)" in traced
    for plugin in ("control", "overlay", "person", "studio"):
        assert f"[edgefx trace] edgefx_startup -> {plugin} (pipeline)" in traced, traced
    assert "[edgefx trace] edgefx_shutdown -> control (pipeline, summary)" in traced, traced


def test_wrappers_and_tryfirst_apply_to_each_plugins_call(tmp_path, monkeypatch):
    eps = _plugins(tmp_path, monkeypatch, tp_calls="CALLS = []\n", tp_plain="""
        from edgefx import hookimpl
        from tp_calls import CALLS

        @hookimpl
        def edgefx_startup(pipeline):
            CALLS.append("plain")
        """, tp_first="""
        from edgefx import hookimpl
        from tp_calls import CALLS

        @hookimpl(tryfirst=True)
        def edgefx_startup(pipeline):
            CALLS.append("first")
        """, tp_broken="""
        from edgefx import hookimpl

        @hookimpl
        def edgefx_startup(pipeline):
            raise RuntimeError("broken on purpose")
        """, tp_wrap="""
        from edgefx import hookimpl
        from tp_calls import CALLS

        @hookimpl(wrapper=True)
        def edgefx_startup(pipeline):
            CALLS.append("in")
            try:
                return (yield)
            finally:
                CALLS.append("out")
        """)
    registry = Registry(eps)
    from tp_calls import CALLS
    registry.call_safely("edgefx_startup", pipeline=None)
    # tryfirst first; the broken plugin's failure stays its own; the wrapper wraps every call
    assert CALLS[:3] == ["in", "first", "out"]
    assert CALLS.count("in") == CALLS.count("out") == 3 and "plain" in CALLS


def test_benchmarks_come_through_the_registry():
    names = {bench.name for bench in Registry().benchmarks()}
    assert {"stream_sink", "face_mask"} <= names


# -- the essential plugin and built-ins without metadata -------------------------------------------

def test_an_allow_list_keeps_the_io_plugin(monkeypatch):
    monkeypatch.setenv("EDGEFX_PLUGINS", "faces")
    registry = Registry()
    assert registry.records["io"].loaded and "demo" in registry.sources and "file" in registry.sinks
    assert set(registry.analyzers) == {"faces"} and not registry.effects


def test_an_allow_list_run_opens_its_input(monkeypatch, tmp_path):
    monkeypatch.setenv("EDGEFX_PLUGINS", "faces")
    assert main(["run", "-i", "demo:?seconds=1", "-o", "null", "--no-progress"]) == 0


def test_builtins_are_registered_by_import_without_metadata():
    registry = Registry(discovery.with_builtins([]))  # a source tree with no installed entry points
    installed = {ep.name for ep in entry_points(group=GROUP) if ep.value.startswith("edgefx.plugins.")}
    assert {ep.name for ep in discovery.builtin_plugins()} == installed  # every module of plugins/ is a plugin
    assert {name for name, rec in registry.records.items() if rec.loaded} >= {"io", "faces", "streaming"}
    assert "demo" in registry.sources and "faces" in registry.analyzers and "rtmp" in registry.sinks
    assert len(discovery.with_builtins(entry_points(group=GROUP))) == len(entry_points(group=GROUP))


# -- validation before any output opens ------------------------------------------------------------

def test_a_cap_level_typo_is_refused_before_the_output_opens(tmp_path):
    out = tmp_path / "out.mp4"
    settings = load_settings(None, {"input.url": "demo:?seconds=1", "output.url": str(out),
                                    "run.effects": ["particles"], "scheduler.budget_ms": 33.0,
                                    "scheduler.cap": {"particles": "hihg"}})
    opened = []  # execute calls on_open once the output is open
    with pytest.raises(ConfigError, match="no level 'hihg'") as err:
        execute(settings, Registry(), on_open=opened.append)
    assert "levels of particles" in err.value.hint
    assert not opened and not out.exists()


CYCLE = """
    import edgefx

    class Ping(edgefx.Analyzer):
        name = "tp_ping"
        requires = ("tp_pong",)

        def analyze(self, frame, ctx):
            return 1

    class Pong(edgefx.Analyzer):
        name = "tp_pong"
        requires = ("tp_ping",)

        def analyze(self, frame, ctx):
            return 2

    class Show(edgefx.Effect):
        name = "tp_show"
        layer = edgefx.Layer.OVERLAY
        requires = ("tp_ping",)

        def apply(self, frame, ctx):
            pass

    @edgefx.hookimpl
    def edgefx_analyzers():
        return [Ping, Pong]

    @edgefx.hookimpl
    def edgefx_effects():
        return [Show]
    """


def test_an_analyzer_cycle_is_a_config_error_naming_it(tmp_path, monkeypatch):
    registry = Registry([*entry_points(group=GROUP), *_plugins(tmp_path, monkeypatch, tp_cycle=CYCLE)])
    settings = load_settings(None, {"input.url": "demo:?seconds=1", "output.url": "null", "run.effects": ["tp_show"]})
    with pytest.raises(ConfigError, match="cycle: tp_ping -> tp_pong -> tp_ping"):
        create_plugins(settings, registry)


def test_run_plugin_reports_an_analyzer_cycle(tmp_path, monkeypatch):
    class Ping(Analyzer):
        name = "tp_ping"
        requires = ("tp_pong",)

    class Pong(Analyzer):
        name = "tp_pong"
        requires = ("tp_ping",)

    class Show(Effect):
        name = "tp_show"
        layer = Layer.OVERLAY
        requires = ("tp_ping",)

    with pytest.raises(ConfigError, match=r"cycle: tp_p[io]ng -> tp_p[io]ng -> tp_p[io]ng"):
        run_plugin(Show, Ping, Pong, frames=2)


# -- outputs start at 0 -----------------------------------------------------------------------------

def _clip_starting_at(path, seconds: float, frames: int = 15, fps: int = 15):
    """A real H.264 MP4 whose first frame is at ``seconds`` (as a camera's device clock gives)."""
    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = 160, 96, "yuv420p"
        for i in range(frames):
            image = np.full((96, 160, 3), 20 + 10 * i, np.uint8)
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts, vf.time_base = round(seconds * fps) + i, Fraction(1, fps)
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
    return path


def _first_pts(path) -> float:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return float(frame.pts * frame.time_base)


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_recording_starts_at_zero_when_its_input_does_not(tmp_path, suffix):
    clip = _clip_starting_at(tmp_path / "late.mkv", 3.0)
    assert _first_pts(clip) == pytest.approx(3.0)
    out = tmp_path / f"out{suffix}"
    assert main(["run", "-i", str(clip), "-o", str(out), "--no-progress"]) == 0
    assert _first_pts(out) == 0.0
