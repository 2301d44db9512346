"""One test per hook in edgefx.hookspecs (tests/test_docs.py checks that each hook has its
``test_hook_<name>`` here). A real plugin module, loaded through an entry point like an installed
package, implements every hook; runs go through the real runner and pipeline."""

from __future__ import annotations

import json
import sys
import textwrap
from importlib.metadata import EntryPoint, entry_points

import av
import numpy as np
import pytest

import edgefx.cli.main as cli
from edgefx.bench import BenchSettings
from edgefx.bench.suite import run_benchmarks
from edgefx.config import load_settings
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import run_plugin, sample_frames

PLUGIN = '''
"""Implements every edgefx hook; records lifecycle calls in CALLS."""
import edgefx
import numpy as np
from edgefx.bench import Benchmark
from edgefx.io.sink import Sink
from edgefx.testing import ArraySource, FakeClock, measure_cost, sample_frames

CALLS = []


class Brightness(edgefx.Analyzer):
    name = "hk_brightness"

    def analyze(self, frame, ctx):
        return float(frame.image.mean())


class Invert(edgefx.Effect):
    name = "hk_invert"
    requires = ("hk_brightness",)

    def apply(self, frame, ctx):
        np.subtract(255, frame.image, out=frame.image)

    def on_event(self, event):
        CALLS.append(("on_event", event.name))


class PhotoSource(ArraySource):
    """hkphoto:NAME - 10 frames panning over a scikit-image photo."""

    name = "hk_photo"
    schemes = ("hkphoto",)

    @classmethod
    def open(cls, url, request):
        return cls(sample_frames(10, (160, 120), url.split(":", 1)[1] or "coffee"), FakeClock(30))


class MemorySink(Sink):
    """hkmem: - keeps copies of the frames in MemorySink.written."""

    name = "hk_memory"
    schemes = ("hkmem",)
    written = []

    @classmethod
    def open(cls, target, info, request):
        cls.written.clear()
        return cls()

    def write(self, frame):
        self.frames_written += 1
        MemorySink.written.append(frame.image.copy())


def hello(args, registry):
    print("hello " * args.times)
    return 3


def bench_brightness(settings):
    return measure_cost(Brightness, size=(settings.width, settings.height), frames=settings.frames)


@edgefx.hookimpl
def edgefx_analyzers():
    return [Brightness]


@edgefx.hookimpl
def edgefx_effects():
    return [Invert]


@edgefx.hookimpl
def edgefx_sources():
    return [PhotoSource]


@edgefx.hookimpl
def edgefx_sinks():
    return [MemorySink]


@edgefx.hookimpl
def edgefx_add_commands(subparsers):
    p = subparsers.add_parser("hk-hello", help="say hello")
    p.add_argument("--times", type=int, default=1)
    p.set_defaults(func=hello)


@edgefx.hookimpl
def edgefx_benchmarks():
    return [Benchmark("hk_brightness", bench_brightness, "brightness cost")]


@edgefx.hookimpl
def edgefx_startup(pipeline):
    CALLS.append(("startup", pipeline.stream.width, sorted(pipeline.effects)))
    pipeline.bus.publish(edgefx.Event("hk_hello", t=0.1, source="hooks"))


@edgefx.hookimpl
def edgefx_shutdown(pipeline, summary):
    CALLS.append(("shutdown", summary["frames"]))


@edgefx.hookimpl
def edgefx_event(event, pipeline):
    CALLS.append(("event", event.name))
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    """The hooks plugin module, loaded by a Registry through an ``edgefx`` entry point."""
    folder = tmp_path_factory.mktemp("hooks")
    name = f"hooks_plugin_{folder.name}"
    (folder / f"{name}.py").write_text(textwrap.dedent(PLUGIN))
    sys.path.insert(0, str(folder))
    builtin_io = [ep for ep in entry_points(group="edgefx") if ep.name == "io"]
    registry = Registry([*builtin_io, EntryPoint("hooks", name, "edgefx")])
    assert registry.records["hooks"].loaded, registry.records["hooks"].problems
    yield registry, sys.modules[name]
    sys.path.remove(str(folder))


def run_job(registry, url="hkphoto:coffee", out="hkmem:", effects=("hk_invert",)):
    settings = load_settings(None, {"input.url": url, "output.url": out, "run.effects": list(effects)})
    return execute(settings, registry)


def test_hook_edgefx_analyzers(plugin):
    registry, module = plugin
    assert registry.analyzer("hk_brightness") is module.Brightness
    assert registry.owner[("analyzer", "hk_brightness")] == "hooks"
    run = run_plugin(registry.analyzer("hk_brightness"), frames=2, size=(64, 48))
    assert run.results[1]["hk_brightness"] == pytest.approx(run.inputs[1].mean())


def test_hook_edgefx_effects(plugin, tmp_path):
    registry, module = plugin
    assert registry.effect("hk_invert") is module.Invert
    out = tmp_path / "inverted.mp4"
    run_job(registry, out=str(out))
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="bgr24").astype(int) for f in container.decode(video=0)]
    source = sample_frames(10, (160, 120), "coffee")
    assert len(frames) == 10
    assert np.mean(np.abs(frames[5] - (255 - source[5].astype(int)))) < 6  # inverted, up to coding noise


def test_hook_edgefx_sources(plugin):
    registry, module = plugin
    assert registry.source_for("hkphoto:chelsea") is module.PhotoSource
    run_job(registry, url="hkphoto:chelsea", effects=())
    expected = sample_frames(10, (160, 120), "chelsea")
    assert len(module.MemorySink.written) == 10
    assert all(np.array_equal(a, b) for a, b in zip(module.MemorySink.written, expected, strict=True))


def test_hook_edgefx_sinks(plugin):
    registry, module = plugin
    assert registry.sink_for("hkmem:") is module.MemorySink
    result = run_job(registry)
    source = sample_frames(10, (160, 120), "coffee")
    assert result.summary["frames"] == len(module.MemorySink.written) == 10
    assert np.array_equal(module.MemorySink.written[3], 255 - source[3])


def test_hook_edgefx_add_commands(plugin, monkeypatch, capsys):
    registry, _ = plugin
    monkeypatch.setattr("edgefx.registry.load_registry", lambda: registry)
    assert cli.main(["hk-hello", "--times", "2"]) == 3  # the handler's exit code
    assert capsys.readouterr().out.strip() == "hello hello"


def test_hook_edgefx_benchmarks(plugin, tmp_path):
    registry, _ = plugin
    settings = BenchSettings(width=320, height=240, frames=5, out_dir=tmp_path, quick=True)
    assert run_benchmarks(registry, settings, only=["hk_brightness"]) == 0
    figures = json.loads((tmp_path / "report.json").read_text())["hk_brightness"]
    assert figures["name"] == "hk_brightness" and figures["n"] == 5 and figures["size"] == [320, 240]
    assert 0 < figures["median_ms"] <= figures["p90_ms"]


def test_hook_edgefx_startup(plugin):
    registry, module = plugin
    module.CALLS.clear()
    run_job(registry)
    assert module.CALLS[0] == ("startup", 160, ["hk_invert"])
    assert ("on_event", "hk_hello") in module.CALLS  # an event published from startup reached the effect


def test_hook_edgefx_shutdown(plugin):
    registry, module = plugin
    module.CALLS.clear()
    run_job(registry)
    assert module.CALLS[-1] == ("shutdown", 10)


def test_hook_edgefx_event(plugin):
    registry, module = plugin
    module.CALLS.clear()
    run_job(registry)
    assert ("event", "hk_hello") in module.CALLS
