"""The edgefx plugin contract: every hook a plugin may implement, grouped by lifecycle phase.

A plugin is a module (or object) listed under the ``edgefx`` entry-point group of
its package, with functions marked ``@edgefx.hookimpl``. Built-in plugins in
``plugins/`` are registered exactly the same way. Example ``pyproject.toml``::

    [project.entry-points.edgefx]
    filmlook = "edgefx_filmlook"

pluggy is used for discovery and lifecycle only. The per-frame work is done by the
``Analyzer`` and ``Effect`` objects the registration hooks return, which the loop
calls directly so the scheduler can time and control each one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import argparse

    from edgefx.bench import Benchmark
    from edgefx.contract import Analyzer, Effect
    from edgefx.events import Event
    from edgefx.io.sink import Sink
    from edgefx.io.source import Source
    from edgefx.runtime.pipeline import Pipeline

hookspec = pluggy.HookspecMarker("edgefx")

# ---------------------------------------------------------------------------------------------
# Registration: called once when the registry loads, before any run. Each returns classes;
# results of all plugins are collected. Names must be unique across plugins.
# ---------------------------------------------------------------------------------------------


@hookspec
def edgefx_analyzers() -> list[type[Analyzer]]:
    """Return the analyzer classes this plugin provides.

    Called once at registry load. Each class subclasses ``edgefx.Analyzer`` and sets
    ``name`` (also its key in the frame context) and ``options``. Not firstresult:
    the lists of all plugins are joined.

    Example::

        @edgefx.hookimpl
        def edgefx_analyzers():
            return [MotionAnalyzer]
    """


@hookspec
def edgefx_effects() -> list[type[Effect]]:
    """Return the effect classes this plugin provides.

    Called once at registry load. Each class subclasses ``edgefx.Effect`` and sets
    ``name``, ``layer`` (draw order), ``requires`` (analyzer names it reads) and
    ``options``. Not firstresult: the lists of all plugins are joined.

    Example::

        @edgefx.hookimpl
        def edgefx_effects():
            return [Vignette]
    """


@hookspec
def edgefx_sources() -> list[type[Source]]:
    """Return the input classes this plugin provides.

    Called once at registry load. Each class subclasses ``edgefx.io.source.Source``
    and lists the URL ``schemes`` it opens (``"file"`` is used for plain paths).
    When two plugins claim a scheme, the first registered wins and the clash is
    reported by ``edgefx plugins list``.

    Example::

        @edgefx.hookimpl
        def edgefx_sources():
            return [PiCameraSource]   # opens "picamera:0"
    """


@hookspec
def edgefx_sinks() -> list[type[Sink]]:
    """Return the output classes this plugin provides.

    Called once at registry load. Each class subclasses ``edgefx.io.sink.Sink`` and
    lists the ``schemes`` it writes (``"file"`` for plain paths, chosen by extension).

    Example::

        @edgefx.hookimpl
        def edgefx_sinks():
            return [RtmpSink]   # writes "rtmp://host/app/key"
    """


@hookspec
def edgefx_add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add subcommands to the ``edgefx`` command line.

    Called once when the CLI builds its parser. Add a parser with
    ``subparsers.add_parser(name, help=...)`` and ``set_defaults(func=handler)``;
    ``handler(args, registry)`` gets the parsed arguments and the loaded
    ``edgefx.registry.Registry`` and returns the exit code. Returns nothing.

    Example::

        @edgefx.hookimpl
        def edgefx_add_commands(subparsers):
            p = subparsers.add_parser("masks", help="make and list face masks")
            p.set_defaults(func=run_masks)  # def run_masks(args, registry) -> int
    """


@hookspec
def edgefx_benchmarks() -> list[Benchmark]:
    """Return the benchmarks this plugin contributes to ``edgefx bench``.

    Called once by ``edgefx bench``. Each ``edgefx.bench.Benchmark`` has a name and a
    function taking a ``BenchSettings`` and returning a dict of figures (medians in
    ms, ratios...). Performance targets live here, never in timed unit tests.

    Example::

        @edgefx.hookimpl
        def edgefx_benchmarks():
            return [Benchmark("vignette", bench_vignette, "vignette render at 720p")]
    """


# ---------------------------------------------------------------------------------------------
# Run lifecycle: called around each run of the loop (``edgefx run`` / ``analyze``).
# ---------------------------------------------------------------------------------------------


@hookspec
def edgefx_startup(pipeline: Pipeline) -> None:
    """Called once per run after the source is open and the analyzers and effects started,
    before the output is opened and before the first frame.

    ``pipeline`` gives ``stream`` (``StreamInfo``), ``bus`` (publish events to it),
    ``analyzers`` and ``effects`` (name -> object); ``pipeline.sink`` is set only after this
    hook. Start side services here (a control panel, a hotkey reader). Returns nothing; raise
    an ``EdgefxError`` (e.g. ``ConfigError``) to refuse the run, which then ends with that message
    before anything is written; any other exception is logged with the plugin's name and the run
    goes on.

    Example::

        @edgefx.hookimpl
        def edgefx_startup(pipeline):
            pipeline.bus.publish(Event("hello", source="myplugin"))
    """


@hookspec
def edgefx_shutdown(pipeline: Pipeline, summary: dict[str, Any]) -> None:
    """Called once per run after the last frame, after the sink is closed.

    ``summary`` is the run summary (frames, dropped, timings) also written by
    ``--stats``. Stop side services started in ``edgefx_startup`` here. Returns nothing.

    Example::

        @edgefx.hookimpl
        def edgefx_shutdown(pipeline, summary):
            print(summary["frames"], "frames")
    """


# ---------------------------------------------------------------------------------------------
# Events: called as the loop delivers bus events.
# ---------------------------------------------------------------------------------------------


@hookspec
def edgefx_event(event: Event, pipeline: Pipeline) -> None:
    """Called on the loop thread for every bus event, at the frame whose media time
    reaches ``event.t`` (immediately for ``t=None``), before that frame's effects run.

    Effects already get events through ``Effect.on_event``; this hook is for
    plugins that react without drawing (logging, sending to a device). Must be quick.

    Example::

        @edgefx.hookimpl
        def edgefx_event(event, pipeline):
            if event.name == "keyword":
                print("heard", event.data["word"])
    """
