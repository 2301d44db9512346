"""Building and running one job from validated settings: check the outputs destroy nothing,
create and start the plugins, open the source (paced to real time when the output is watched
live) and the sink, run the loop, and always finish the output (also on SIGINT/SIGTERM/SIGHUP
and on a corrupt input)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from edgefx.config import Settings, validate_plugin_tables
from edgefx.contract import Analyzer, Effect
from edgefx.errors import SourceError
from edgefx.events import Event
from edgefx.frame import Frame, FrameContext
from edgefx.io.output_stage import OutputStage
from edgefx.io.outputs import SharedOutputs, check_targets, output_targets
from edgefx.io.pacing import Paced, wants_pacing
from edgefx.io.protect import check_outputs, local_file
from edgefx.io.sink import Sink, SinkRequest
from edgefx.io.source import Source, SourceRequest
from edgefx.registry import Registry
from edgefx.runtime.dependencies import resolve_analyzers
from edgefx.runtime.metrics import RECENT_FRAMES
from edgefx.runtime.pipeline import Pipeline, Triggers
from edgefx.runtime.stages import stage_picture, time_to_first_frame
from edgefx.runtime.watchdog import Watchdog
from edgefx.scheduling.scheduler import Scheduler, budget_from, create_scheduler

log = logging.getLogger(__name__)


@dataclass(slots=True)
class RunResult:
    """What a finished run reports: the summary, whether a signal stopped it, and the input error."""

    summary: dict[str, Any]
    interrupted: bool = False
    source_error: Exception | None = None
    notes: list[str] = field(default_factory=list)


def create_plugins(settings: Settings, registry: Registry) -> tuple[dict[str, Analyzer], dict[str, Effect]]:
    """Instantiate the configured effects and the analyzers they need, options validated."""
    validate_plugin_tables(settings, registry.effects, registry.analyzers)
    effects = {name: registry.effect(name)(settings.effects.get(name, {})) for name in settings.run["effects"]}
    wanted = [*settings.run["analyzers"], *(dep for effect in effects.values() for dep in effect.requires)]
    names = resolve_analyzers(wanted, lambda name: registry.analyzer(name).requires)
    analyzers = {name: registry.analyzer(name)(settings.analyzers.get(name, {})) for name in names}
    return analyzers, effects


def create_triggers(settings: Settings, effects: dict[str, Effect]) -> Triggers | None:
    """The trigger table of the preset, checked against the enabled effects."""
    if not settings.triggers:
        return None
    from edgefx.runtime.triggers import parse_triggers

    table = parse_triggers(settings.triggers, settings.origins.get("triggers", "command line"))
    table.check(effects)
    return table


def open_source(settings: Settings, registry: Registry) -> Source:
    """Open the configured input (with the sound of ``audio_url`` when one is given)."""
    cfg = settings.input
    request = SourceRequest(cfg["width"], cfg["height"], cfg["fps"], cfg["pixel_format"], cfg["audio"],
                            threads=cfg["threads"])
    source = registry.source_for(cfg["url"]).open(cfg["url"], request)
    if cfg["audio_url"]:
        from edgefx.io.audio_input import WithAudio

        try:
            return WithAudio(source, cfg["audio_url"], cfg["audio_delay_ms"], cfg["audio_gain_db"], cfg["audio_mute"])
        except BaseException:
            source.close()
            raise
    return source


def sink_classes(settings: Settings, registry: Registry) -> list[type[Sink]]:
    """The sink class of each configured output; several are checked (``check_targets``) here,
    before anything is opened."""
    targets = output_targets(settings.output)
    classes = [registry.sink_for(target) for target in targets]
    if len(targets) > 1:
        check_targets(targets, classes)
    return classes


def open_sink(settings: Settings, registry: Registry, source: Source) -> Sink:
    """Open the configured output (several: one ``SharedOutputs``) for the source's stream."""
    cfg = settings.output
    budget = budget_from(settings.extra.get("scheduler", {})) if cfg["adapt_preset"] else 0.0
    request = SinkRequest(cfg["codec"], cfg["preset"], cfg["crf"], cfg["bitrate"], cfg["gop_seconds"],
                          threads=cfg["threads"], budget_ms=budget)
    targets, classes = output_targets(cfg), sink_classes(settings, registry)
    if len(targets) > 1:
        sink: Sink = SharedOutputs.open_all(targets, classes, source.info, request)
    else:
        sink = classes[0].open(cfg["url"], source.info, request)
    if settings.run["overlap"] and sink.output_thread:
        return OutputStage(sink, live=source.info.live)
    return sink


def run_outputs(settings: Settings) -> dict[str, tuple[Path, str]]:
    """The files a run writes (label -> (path, kind), see ``edgefx.io.protect``)."""
    outputs = {}
    for i, target in enumerate(output_targets(settings.output)):
        if (video := local_file(target)) is not None:
            outputs["output" if i == 0 else f"output {i + 1}"] = (video, "video")
    if settings.run["stats"]:
        outputs["--stats"] = (Path(settings.run["stats"]), "stats")
    return outputs


def execute(settings: Settings, registry: Registry, *, scheduler: Scheduler | None = None,
            on_frame: Callable[[Frame, FrameContext], None] | None = None,
            on_event: Callable[[Event], None] | None = None, max_frames: int = 0,
            on_open: Callable[[Pipeline], None] | None = None) -> RunResult:
    """Run one job to the end. Plugins are created and started (models loaded) and the
    ``edgefx_startup`` hooks run before the output is opened, so a bad option, a missing model
    or a side service that cannot start (``EdgefxError``) writes nothing. Whatever happens
    after that, the output is finished so it plays. An output that would destroy the input or a
    file edgefx did not write is refused first (``edgefx.io.protect``)."""
    started = time.perf_counter()
    check_outputs(settings.input["url"], run_outputs(settings), settings.output["overwrite"])
    classes = sink_classes(settings, registry)
    analyzers, effects = create_plugins(settings, registry)
    triggers = create_triggers(settings, effects)
    if scheduler is None:
        scheduler = create_scheduler(settings.extra.get("scheduler", {}), registry.levels())
    source = open_source(settings, registry)
    stop = threading.Event()
    if any(wants_pacing(settings.run["realtime"], source, sink_class) for sink_class in classes):
        source = Paced(source, stop)
    pipeline: Pipeline | None = None
    sink: Sink | None = None
    result = RunResult({})

    def tell_plugins(event: Event) -> None:
        registry.call_safely("edgefx_event", event=event, pipeline=pipeline)
        if on_event is not None:
            on_event(event)

    limit_hit = threading.Event()
    try:
        pipeline = Pipeline(source, None, analyzers, effects, scheduler=scheduler, triggers=triggers,
                            max_failures=settings.run["max_failures"], on_event=tell_plugins,
                            keep_frames=None if settings.run["stats"] else RECENT_FRAMES, settings=settings)
        with Watchdog(stop, pipeline.output_lock, lambda: pipeline.busy) as watchdog:
            try:
                pipeline.start()
                registry.call_safely("edgefx_startup", refusable=True, pipeline=pipeline)
                try:
                    sink = watchdog.output = pipeline.attach_sink(open_sink(settings, registry, source))
                except BaseException:  # stop what the startup hooks started
                    registry.call_safely("edgefx_shutdown", pipeline=pipeline, summary=pipeline.summary())
                    raise
                if on_open is not None:
                    on_open(pipeline)
                try:
                    pipeline.run(stop, _limit(on_frame, max_frames, stop, limit_hit))
                except SourceError as exc:  # the input broke: keep what was processed, report after closing
                    result.source_error = exc
                result.interrupted = stop.is_set() and not limit_hit.is_set()
                if result.interrupted and result.source_error is not None:  # the stop cut a read short
                    log.info("reading the input ended with the stop: %s", result.source_error.message)
                    result.source_error = None
            finally:
                source.close()
                try:
                    watchdog.close_output()
                finally:
                    pipeline.close()
    finally:
        if pipeline is None:
            source.close()
    result.summary = pipeline.summary()
    result.summary["output"] = settings.output["url"]
    if sink is not None:
        result.summary["output_stats"] = sink.stats()
        result.summary.update(frame_counts(result.summary, source, sink))
    result.summary["stages"] = stage_picture(result.summary)
    result.summary["time_to_first_frame_s"] = time_to_first_frame(pipeline.first_frame_at)
    if pipeline.first_frame_at is not None:
        result.summary["start_to_first_frame_s"] = round(pipeline.first_frame_at - started, 3)
    registry.call_safely("edgefx_shutdown", pipeline=pipeline, summary=result.summary)
    if settings.run["stats"]:
        pipeline.metrics.write_json(settings.run["stats"], {**result.summary, "input": settings.input["url"]})
    return result


def frame_counts(summary: dict[str, Any], source: Source, sink: Sink) -> dict[str, Any]:
    """Frames read, written and dropped (with the reason), and re-stamped, for the summary."""
    out = sink.stats()
    dropped = {"live input behind: only its newest frame is kept": source.dropped,
               "output thread behind (live input): only its newest frame is kept": out.get("handoff_dropped", 0),
               "network output queue full, offline or its sender restarted": out.get("dropped", 0)}
    restamped = source.restamped + out.get("restamped", 0)
    return {"frames_read": summary["frames"] + source.dropped, "frames_written": sink.frames_written,
            "frames_dropped": {why: n for why, n in dropped.items() if n},
            "frames_restamped": restamped}


def _limit(on_frame: Callable[[Frame, FrameContext], None] | None, max_frames: int,
           stop: threading.Event, limit_hit: threading.Event) -> Callable[[Frame, FrameContext], None] | None:
    """Wrap ``on_frame`` so the run stops after ``max_frames`` frames (0 = no limit)."""
    if not max_frames:
        return on_frame
    count = 0

    def wrapped(frame: Frame, ctx: FrameContext) -> None:
        nonlocal count
        count += 1
        if on_frame is not None:
            on_frame(frame, ctx)
        if count >= max_frames:
            limit_hit.set()
            stop.set()
    return wrapped
