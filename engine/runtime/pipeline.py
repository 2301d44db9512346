"""The loop: source -> analyzers -> effects (in layer order, in place) -> sink.

One frame's trip: the source decoded and converted it once; analyzers fill the
context (fresh or carried forward, as the scheduler decides); effects draw on the
one array in layer order; the sink converts and encodes once. Audio frames go to
audio analyzers and straight on to the sink, keeping their own timestamps.

A plugin that raises or breaks the frame is logged with its name and the frame, and disabled for
the rest of the run by the policy in ``edgefx.runtime.isolation``; the stream goes on. An event action
(a trigger rule, hotkey or control-API action) that fails is logged and counted; it never ends the run.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

import av

from edgefx.contract import Analyzer, Configurable, Effect
from edgefx.errors import EdgefxError, PluginError
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext
from edgefx.io.sink import Sink
from edgefx.io.source import Source
from edgefx.runtime.dependencies import resolve_analyzers
from edgefx.runtime.isolation import CONTAINED, FrameCheck, Guard
from edgefx.runtime.metrics import RECENT_FRAMES, Distribution, Metrics
from edgefx.scheduling.scheduler import Plan, Planner, Scheduler, as_scheduler

if TYPE_CHECKING:
    from edgefx.config import Settings

log = logging.getLogger(__name__)


class Triggers(Protocol):
    """Turns events into effect actions (see ``edgefx.runtime.triggers``)."""

    def handle(self, event: Event, effects: Mapping[str, Effect]) -> None: ...

    def tick(self, media_time: float, effects: Mapping[str, Effect]) -> None: ...


class Pipeline:
    """One run of the loop. Build it with the opened source, ``start()`` the plugins, give it the
    sink (``attach_sink``: the runner opens the output only after the plugins started, so a plugin
    that cannot start writes nothing; or pass ``sink`` when it is already open), then call ``run``.

    Attributes plugins may use from hooks: ``stream`` (``StreamInfo``), ``bus``,
    ``analyzers`` and ``effects`` (name -> object), ``metrics``, ``guard``, ``settings`` (the run's
    ``Settings``; sections such as ``[control]`` are in ``settings.extra``) and ``frame_observers``.
    ``keep_frames``: per-frame records ``metrics`` keeps (the newest; ``None`` = all).
    """

    def __init__(self, source: Source, sink: Sink | None, analyzers: Mapping[str, Analyzer],
                 effects: Mapping[str, Effect], bus: EventBus | None = None,
                 scheduler: Scheduler | Planner | None = None, triggers: Triggers | None = None,
                 max_failures: int = 5, on_event: Callable[[Event], None] | None = None,
                 keep_frames: int | None = RECENT_FRAMES, settings: Settings | None = None) -> None:
        self.source, self.sink = source, sink
        self.stream = source.info
        order = resolve_analyzers(sorted(analyzers), lambda name: analyzers[name].requires if name in analyzers else ())
        self.analyzers = {name: analyzers[name] for name in order if name in analyzers}
        self.effects = dict(sorted(effects.items(), key=lambda kv: (kv[1].layer, kv[0])))
        self.bus = bus or EventBus()
        self.scheduler = as_scheduler(scheduler)
        self.triggers = triggers
        self.on_event = on_event
        self.metrics = Metrics(keep_frames)
        self.guard = Guard(max_failures)
        self.audio_analyzers = [a for a in self.analyzers.values() if a.hears_audio]
        self.last: dict[str, Any] = {}
        self.age: dict[str, int] = {}
        self.lookahead = 0.0
        self.overlap = bool(self.scheduler.overlap)
        """Analyzers on a worker thread, one frame ahead of rendering (``[scheduler] overlap``)."""
        self.latency_ms = Distribution()
        """Per frame: from taking it from the source to handing it to the sink."""
        self.settings = settings
        """The run's validated ``Settings`` when started by the runner (plugins read their tables)."""
        self.frame_observers: list[Callable[[Frame], None]] = []
        """Called on the loop thread with each finished frame after the sink (e.g. a live preview);
        must be quick and must copy what it keeps. One that raises is counted by ``guard`` (as
        ``observer <its name>``) and, by the same policy as a plugin, dropped."""
        self.output_lock = threading.Lock()
        """Held while a frame is handed to the sink (so the stop watchdog never closes it mid-frame)."""
        self.busy: str | None = None
        """The plugin being called right now on the loop thread (named when a stop finds it hanging)."""
        self.failed_actions: list[str] = []
        """Event actions (trigger rules, hotkeys, control-API actions) that failed, one line each."""
        self._plan_s = 0.0  # seconds in plan this frame (with frame_done: the "scheduler" stage)
        self._input_wait_s = 0.0  # seconds the loop waited for the source's last item
        self.first_frame_at: float | None = None
        """``time.perf_counter()`` when the first frame was handed to the sink (time to first frame)."""
        self._worker: ThreadPoolExecutor | None = None
        self._in_flight: tuple[Frame, FrameContext, float, Future] | None = None
        if self.stream.audio is not None and not self.stream.live:
            self.lookahead = max((a.audio_lookahead for a in self.audio_analyzers), default=0.0)

    # -- set-up ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Give every plugin object the bus and the stream info (loads models). A plugin that fails
        here stops the run before anything is written, with a ``PluginError`` naming it (its own
        ``EdgefxError`` passes through: it already says what to do)."""
        objects: list[Configurable] = [*self.analyzers.values(), *self.effects.values()]
        for obj in objects:
            obj.bus = self.bus
            self.busy = obj.name
            try:
                obj.start(self.stream)
            except EdgefxError:
                raise
            except CONTAINED as exc:
                log.debug("plugin %s failed to start", obj.name, exc_info=exc)
                raise PluginError(f"plugin {obj.name} failed to start: {type(exc).__name__}: {exc}",
                                  f"check its options (`edgefx plugins show {obj.name}`), or run without it; "
                                  "-v shows the traceback") from None
            self.busy = None

    def attach_sink(self, sink: Sink) -> Sink:
        """Give the loop its output, opened after ``start`` (once; returns ``sink``)."""
        if self.sink is not None:
            raise RuntimeError("Pipeline already has a sink")
        self.sink = sink
        return sink

    def close(self) -> None:
        """Stop the scheduler and close every plugin (a plugin failing to close is logged)."""
        self.scheduler.close()
        for obj in [*self.analyzers.values(), *self.effects.values()]:
            self.busy = obj.name
            try:
                obj.close()
            except CONTAINED as exc:
                log.error("plugin %s failed to close: %s", obj.name, exc)
        self.busy = None

    # -- the loop ----------------------------------------------------------------------------------
    def run(self, stop: threading.Event | None = None,
            on_frame: Callable[[Frame, FrameContext], None] | None = None) -> None:
        """Process the source until it ends or ``stop`` is set. Raises the source's error (if any)
        after everything processed so far is handed to the sink."""
        if self.sink is None:
            raise RuntimeError("Pipeline.run needs a sink; pass it or call attach_sink after start()")
        stop = stop or threading.Event()
        pending: deque[Frame] = deque()
        audio_until = 0.0
        max_pending = int((self.lookahead + 1.0) * float(self.stream.fps)) + 1
        if self.overlap:
            self._worker = ThreadPoolExecutor(1, thread_name_prefix="edgefx-analyzers")
        try:
            for item in self._waited(self.source):
                if stop.is_set():
                    break
                if isinstance(item, av.AudioFrame):
                    self._audio(item)
                    audio_until = float((item.pts or 0) * item.time_base) + item.samples / item.sample_rate
                    continue
                pending.append(item)
                while pending and (not self.lookahead or len(pending) > max_pending
                                   or audio_until >= pending[0].time + self.lookahead):
                    self._frame(pending.popleft(), on_frame)
            while pending and not stop.is_set():
                self._frame(pending.popleft(), on_frame)
        finally:
            self._finish_in_flight(on_frame)
            if self._worker is not None:
                self._worker.shutdown()
                self._worker = None
            self.metrics.dropped = self.source.dropped  # also when a live input ends with an error
        if self.on_event is not None:  # events stamped after the last frame are still reported
            for event in self.bus.due(float("inf")):
                self.on_event(event)

    def _waited(self, source: Source) -> Iterator[Any]:
        """``source``'s items; notes how long the loop waited for each (the "input_wait" stage)."""
        items = iter(source)
        while True:
            t0 = time.perf_counter()
            try:
                item = next(items)
            except StopIteration:
                return
            self._input_wait_s = time.perf_counter() - t0
            yield item

    def _audio(self, audio: av.AudioFrame) -> None:
        if self.audio_analyzers:  # an audio analyzer must not get audio while it analyzes a frame
            self._wait_in_flight()
        for analyzer in self.audio_analyzers:
            if analyzer.name not in self.guard.disabled:
                try:
                    analyzer.on_audio(audio)
                    self.guard.ok(analyzer.name)
                except CONTAINED as exc:
                    self.guard.failed(analyzer.name, "on_audio", float(audio.time or 0), exc)
        with self.output_lock:
            self.sink.write_audio(audio)

    def _frame(self, frame: Frame, on_frame: Callable[[Frame, FrameContext], None] | None) -> None:
        """One frame. Sequential: plan, analyzers, events, effects, sink. With ``overlap`` the
        analyzers of this frame run on the worker while the previous frame renders, so each
        picture leaves one frame later, together with the results computed on it."""
        t_start = time.perf_counter()
        if not self.overlap:
            ctx = FrameContext(frame)
            plan = self._plan(ctx)
            ctx.notes.update(plan.notes)
            costs = self._analyze(frame, ctx, plan)
            # after the analyzers, as in overlap mode: an event one publishes (a gesture) acts on its own frame
            ctx.events = self.bus.due(frame.time)
            self._deliver_events(ctx)
            self._render(frame, ctx, costs, t_start, t_start, on_frame)
            return
        previous = self._in_flight
        costs = self._wait_in_flight()
        ctx = FrameContext(frame)
        plan = self._plan(ctx)
        ctx.notes.update(plan.notes)
        self._in_flight = (frame, ctx, t_start, self._worker.submit(self._analyze, frame, ctx, plan))
        if previous is not None:
            prev_frame, prev_ctx, arrived = previous[0], previous[1], previous[2]
            prev_ctx.events = self.bus.due(prev_frame.time)
            self._deliver_events(prev_ctx)
            self._render(prev_frame, prev_ctx, costs, t_start, arrived, on_frame)

    def _wait_in_flight(self) -> dict[str, tuple[float, str | None]]:
        """Overlap mode: wait for the frame on the worker; returns its analyzers' costs."""
        return {} if self._in_flight is None else self._in_flight[3].result()

    def _finish_in_flight(self, on_frame: Callable[[Frame, FrameContext], None] | None) -> None:
        if self._in_flight is not None:
            costs = self._wait_in_flight()
            frame, ctx, arrived = self._in_flight[:3]
            self._in_flight = None
            ctx.events = self.bus.due(frame.time)
            self._deliver_events(ctx)
            self._render(frame, ctx, costs, time.perf_counter(), arrived, on_frame)

    def _analyze(self, frame: Frame, ctx: FrameContext, plan: Plan) -> dict[str, tuple[float, str | None]]:
        """Every analyzer, fresh or carried as planned; returns name -> (ms, level it ran at or
        None when it carried its last result forward)."""
        costs = {}
        for name, analyzer in self.analyzers.items():
            fresh = name in plan.fresh or name not in self.last
            costs[name] = (self._run_analyzer(name, analyzer, frame, ctx, fresh), analyzer.level if fresh else None)
        return costs

    def _plan(self, ctx: FrameContext) -> Plan:
        t0 = time.perf_counter()
        plan = self.scheduler.plan(ctx, self.analyzers, self.effects)
        self._plan_s = time.perf_counter() - t0
        return plan

    def _render(self, frame: Frame, ctx: FrameContext, costs: dict[str, tuple[float, str | None]], t_start: float,
                arrived: float, on_frame: Callable[[Frame, FrameContext], None] | None) -> None:
        """Effects in layer order, then the sink; records the frame. ``costs``: the analyzers' (ms,
        level) on this frame, the effects' are added; ``t_start``: when this loop iteration began
        (frame time); ``arrived``: when the frame came in (latency)."""
        analyze_ms = sum(ms for ms, _level in costs.values())
        t_render = time.perf_counter()
        check = FrameCheck(frame.image)
        for name, effect in self.effects.items():
            if effect.active and name not in self.guard.disabled:
                t0 = time.perf_counter()
                self.busy = name
                try:
                    effect.apply(frame, ctx)
                    broken = check.violation(frame)
                except CONTAINED as exc:
                    self.guard.failed(name, "apply", frame, exc)
                    broken = check.violation(frame)
                    if broken is not None:
                        check.restore(frame)
                else:
                    if broken is None:
                        self.guard.ok(name)
                    else:
                        self.guard.failed(name, "apply", frame, broken)
                        check.restore(frame)
                self.busy = None
                ms = (time.perf_counter() - t0) * 1000.0
                costs[name] = (ms, effect.level)
                self.guard.overrun(name, ms, self._expected_ms(effect), self.stream.frame_budget_ms)
        stages = {name: ms for name, (ms, _level) in costs.items()}
        t0 = time.perf_counter()
        stages.update(input_wait=self._input_wait_s * 1000.0, analyze=analyze_ms, render=(t0 - t_render) * 1000.0)
        with self.output_lock:
            self.sink.write(frame)
        done = time.perf_counter()
        if self.first_frame_at is None:
            self.first_frame_at = done
        stages["sink"] = (done - t0) * 1000.0
        total = (done - t_start) * 1000.0
        self.scheduler.frame_done(total, costs)
        stages["scheduler"] = (self._plan_s + time.perf_counter() - done) * 1000.0
        self.latency_ms.add((done - arrived) * 1000.0)
        self.metrics.record(frame.index, frame.time, total, stages, ctx.notes)
        self._observe(frame)
        if on_frame is not None:
            on_frame(frame, ctx)

    def _observe(self, frame: Frame) -> None:
        """Hand the finished frame to each frame observer still enabled (``guard`` counts failures)."""
        for observe in self.frame_observers:
            name = f"observer {getattr(observe, '__qualname__', type(observe).__name__)}"
            if name in self.guard.disabled:
                continue
            try:
                observe(frame)
                self.guard.ok(name)
            except CONTAINED as exc:
                self.guard.failed(name, "observe", frame, exc)

    def _run_analyzer(self, name: str, analyzer: Analyzer, frame: Frame, ctx: FrameContext, fresh: bool) -> float:
        if name in self.guard.disabled:
            ctx.results[name] = None
            return 0.0
        t0 = time.perf_counter()
        self.busy = name
        try:
            if fresh:
                result = analyzer.analyze(frame, ctx)
                self.age[name] = 0
            else:
                result = analyzer.carry(frame, ctx, self.last.get(name))
                self.age[name] = self.age.get(name, 0) + 1
            self.guard.ok(name)
        except CONTAINED as exc:
            self.guard.failed(name, "analyze" if fresh else "carry", frame, exc)
            result, self.age[name] = None, self.age.get(name, 0) + 1
        self.busy = None
        self.last[name] = ctx.results[name] = result
        ctx.age[name] = self.age[name]
        ms = (time.perf_counter() - t0) * 1000.0
        self.guard.overrun(name, ms, self._expected_ms(analyzer), self.stream.frame_budget_ms)
        return ms

    def _expected_ms(self, plugin: Configurable) -> float:
        """A plugin's declared ``expected_ms``, else the frame budget (see ``edgefx.runtime.isolation``)."""
        return plugin.expected_ms or self.stream.frame_budget_ms

    def _deliver_events(self, ctx: FrameContext) -> None:
        for event in ctx.events:
            if self.triggers is not None:
                try:
                    self.triggers.handle(event, self.effects)
                except CONTAINED as exc:
                    self._action_failed(f"{event.name} event from {event.source or 'unknown'}", ctx.frame, exc)
            for effect in self.effects.values():
                try:
                    effect.on_event(event)
                except CONTAINED as exc:
                    self.guard.failed(effect.name, "on_event", ctx.frame, exc)
            if self.on_event is not None:
                self.on_event(event)
        if self.triggers is not None:
            try:
                self.triggers.tick(ctx.frame.time, self.effects)
            except CONTAINED as exc:
                self._action_failed("a timed trigger action", ctx.frame, exc)

    def _action_failed(self, what: str, frame: Frame, exc: BaseException) -> None:
        """An event action failed: log and count it; the stream goes on."""
        text = str(exc).replace("\n  -> ", " -> ")
        line = f"frame {frame.index} (t={frame.time:.3f} s): {what}: {type(exc).__name__}: {text}"
        self.failed_actions.append(line)
        log.error("event action failed on %s (the stream goes on; counted in the run summary as failed_actions)",
                  line, exc_info=exc if len(self.failed_actions) == 1 else None)

    def summary(self) -> dict[str, Any]:
        """The run summary: metrics, disabled plugins, plugins far over their expected time, latency
        and (with a budget) what the scheduler degraded or reused."""
        summary = {**self.metrics.summary(), "disabled_plugins": dict(self.guard.disabled),
                   "failing_plugins": self.guard.failing_report(), "slow_plugins": self.guard.slow_report(),
                   "failed_actions": {"count": len(self.failed_actions), "first": self.failed_actions[:3]}}
        summary["latency_ms"] = self.latency_ms.summary()
        summary["overlap"] = self.overlap
        if self.overlap and self.latency_ms.count:  # what running analyzers one frame ahead adds to latency
            summary["added_latency_ms"] = round(summary["latency_ms"]["p50"] - summary["frame_ms"]["p50"], 3)
        if (scheduled := self.scheduler.summary()) is not None:
            summary["scheduler"] = scheduled
        return summary
