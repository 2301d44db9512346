"""Helpers for testing edgefx plugins: real sample frames, a fake clock, and running a
plugin through the real ``Pipeline`` and scheduler without files or a camera.

Needs the ``testing`` extra (``pip install "edgefx[testing]"``: scikit-image for the photos)::

    from edgefx.testing import measure_cost, run_plugin

    def test_vignette_darkens_corners():
        run = run_plugin(Vignette, frames=5, options={"vignette": {"strength": 0.8}})
        assert run.images[-1][0, 0].mean() < run.inputs[-1][0, 0].mean()
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from edgefx.bench import summarize_ms
from edgefx.contract import Analyzer, Configurable, Effect
from edgefx.events import Event, EventBus
from edgefx.frame import Frame, FrameContext
from edgefx.io.info import StreamInfo
from edgefx.io.sink import Sink
from edgefx.io.source import Item, Source
from edgefx.results import conforms
from edgefx.runtime.dependencies import resolve_analyzers
from edgefx.runtime.pipeline import Pipeline
from edgefx.scheduling.scheduler import Scheduler

PHOTOS = ("astronaut", "coffee", "chelsea")
"""Real photos shipped with scikit-image: a person and face, a coffee cup on a table, a cat."""

PluginLike = type[Configurable] | Configurable


# -- sample media -------------------------------------------------------------------------------------

def photo(name: str = "astronaut", size: tuple[int, int] | None = None) -> np.ndarray:
    """A real photo from scikit-image as ``(H, W, 3)`` uint8 BGR, C-contiguous.

    ``size=(width, height)`` scales it to cover that size and crops the sides or the bottom.
    """
    if name not in PHOTOS:
        raise ValueError(f"unknown sample photo {name!r}; choose one of {', '.join(PHOTOS)}")
    try:
        from skimage import data
    except ImportError:
        raise ImportError("edgefx.testing needs scikit-image: pip install 'edgefx[testing]'") from None
    image = cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR)
    return image if size is None else _cover(image, size)


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale ``image`` to cover ``size=(width, height)`` and crop it, keeping the top (where faces are)
    and the horizontal centre; BGR uint8 in and out."""
    width, height = size
    h, w = image.shape[:2]
    scale = max(width / w, height / h)
    scaled = cv2.resize(image, (math.ceil(w * scale), math.ceil(h * scale)), interpolation=cv2.INTER_AREA)
    x0 = (scaled.shape[1] - width) // 2
    return np.ascontiguousarray(scaled[:height, x0:x0 + width])


def sample_frames(count: int = 30, size: tuple[int, int] = (640, 360), name: str = "astronaut",
                  pan_px: float = 4.0) -> list[np.ndarray]:
    """``count`` frames of a slow camera pan across a real photo, each ``(H, W, 3)`` uint8 BGR.

    Consecutive frames move by ``pan_px`` pixels (to the right, then back), so motion
    analyzers see real, known motion; ``pan_px=0`` gives a still scene.
    """
    if pan_px < 0:
        raise ValueError("pan_px must be >= 0")
    width, height = size
    half = count // 2  # pan right for half the frames, then back: no two neighbours are equal
    wide = _cover(photo(name), (width + math.ceil(pan_px * half) + 1, height))
    out = []
    for i in range(count):
        x0 = round(pan_px * (i if i <= half else 2 * half - i))
        out.append(np.ascontiguousarray(wide[:, x0:x0 + width]))
    return out


def sample_clip(path: str | Path, seconds: float = 1.0, fps: int = 30, size: tuple[int, int] = (320, 240),
                name: str = "astronaut") -> Path:
    """Encode ``sample_frames`` of the real photo ``name`` as an H.264 file with PyAV; returns ``path``."""
    return write_clip(sample_frames(max(1, round(seconds * fps)), size, name), path, fps)


FACE_CENTRE = (225.0, 125.0)
"""Roughly the astronaut's face centre in scikit-image's 512x512 photo."""


def moving_face_frames(width: int, height: int, count: int) -> list[np.ndarray]:
    """``count`` BGR frames of the scikit-image astronaut photo, its face (about a third of the frame
    height) sliding and turning slowly on a grey canvas."""
    face = photo("astronaut")
    scale = 2.2 * height / 720
    frames = []
    for i in range(count):
        phase = 2 * math.pi * i / max(1, count)
        m = cv2.getRotationMatrix2D(FACE_CENTRE, 8 * math.sin(phase), scale)
        x = width / 2 + 0.2 * width * math.sin(phase) - FACE_CENTRE[0]
        y = height / 2 + 0.05 * height * math.cos(phase) - FACE_CENTRE[1]
        m[:, 2] += (x, y)
        frames.append(cv2.warpAffine(face, m, (width, height), borderValue=(90, 90, 90)))
    return frames


def write_clip(images: Sequence[np.ndarray], path: str | Path, fps: int = 30, crf: int | None = None) -> Path:
    """Encode BGR uint8 ``images`` (all one size) as H.264 4:2:0 with PyAV (x264's default quality, or
    ``crf``); returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = images[0].shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps, options={"crf": str(crf)} if crf is not None else {})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, image in enumerate(images):
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    return path


# -- time -------------------------------------------------------------------------------------------

class FakeClock:
    """Media time under the test's control. ``stamp(image)`` makes the next ``Frame`` (one frame
    period later than the last); ``advance(seconds)`` jumps ahead, e.g. to simulate a stall or a
    gap in a live stream. Calling the clock returns the current time in seconds, so it can stand
    in for ``time.monotonic`` (``monkeypatch.setattr(mymodule.time, "monotonic", clock)``)."""

    time_base = Fraction(1, 90000)

    def __init__(self, fps: float = 30.0, start: float = 0.0) -> None:
        self.fps = Fraction(fps).limit_denominator(1001)
        self.now = start
        self.index = 0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` without making a frame."""
        self.now += seconds

    def stamp(self, image: np.ndarray) -> Frame:
        """Wrap ``image`` as the next frame at the current time, then advance one frame period."""
        frame = Frame(image, round(self.now / self.time_base), self.time_base, self.index)
        self.index += 1
        self.now += 1 / float(self.fps)
        return frame


# -- running plugins through the real loop -----------------------------------------------------------

class ArraySource(Source):
    """An in-memory input: the given BGR images, stamped by a ``FakeClock``, as a file-like (not live) stream."""

    name = "array"
    schemes = ()

    def __init__(self, images: Sequence[np.ndarray], clock: FakeClock) -> None:
        h, w = images[0].shape[:2]
        self.images, self.clock = images, clock
        self.info = StreamInfo(w, h, clock.fps, clock.time_base, False, None, len(images), "array")

    def __iter__(self) -> Iterator[Item]:
        for image in self.images:
            yield self.clock.stamp(np.array(image, copy=True))  # the loop draws in place: keep inputs intact


class CollectSink(Sink):
    """Keeps a copy of every output image (``keep=True``) or only counts them."""

    name = "collect"
    schemes = ()

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.images: list[np.ndarray] = []

    def write(self, frame: Frame) -> None:
        self.frames_written += 1
        if self.keep:
            self.images.append(frame.image.copy())


@dataclass
class PluginRun:
    """What ``run_plugin`` saw: input and output images, each frame's analyzer results and
    ages, the events delivered, the run summary (timings, ``disabled_plugins``,
    ``slow_plugins``) and the pipeline itself."""

    inputs: list[np.ndarray]
    images: list[np.ndarray]
    results: list[dict[str, Any]] = field(default_factory=list)
    ages: list[dict[str, int]] = field(default_factory=list)
    events: list[list[Event]] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    pipeline: Pipeline | None = None

    @property
    def disabled(self) -> dict[str, str]:
        """Plugins the engine disabled during the run, with the reason."""
        return self.summary.get("disabled_plugins", {})


def run_plugin(*plugins: PluginLike, frames: int | Sequence[np.ndarray] = 30, size: tuple[int, int] = (640, 360),
               options: Mapping[str, Mapping[str, Any]] | None = None, events: Sequence[Event] = (),
               scheduler: Scheduler | None = None, clock: FakeClock | None = None, max_failures: int = 5,
               keep_images: bool = True, registry: Any = None) -> PluginRun:
    """Run analyzers and effects through the real ``Pipeline`` (and ``scheduler``, default
    ``RunEverything``) on ``frames``: a count of ``sample_frames`` at ``size``, or your own BGR images.

    ``plugins`` are classes (created with ``options[name]``) or ready objects. Analyzers an effect
    ``requires`` that are not given are taken from the installed plugins (``registry``).
    ``events`` are published on the bus before the first frame (timed ones arrive at their frame).
    Every analyzer result is checked against the analyzer's ``result_type`` (``TypeError`` if not).
    """
    options = options or {}
    images = sample_frames(frames, size) if isinstance(frames, int) else list(frames)
    objects = [p if isinstance(p, Configurable) else p(options.get(p.name, {})) for p in plugins]
    effects = {o.name: o for o in objects if isinstance(o, Effect)}
    analyzers = {o.name: o for o in objects if isinstance(o, Analyzer)}
    _add_required(analyzers, list(effects.values()), options, registry)
    bus = EventBus()
    for event in events:
        bus.publish(event)
    sink = CollectSink(keep_images)
    pipeline = Pipeline(ArraySource(images, clock or FakeClock()), sink, analyzers, effects, bus=bus,
                        scheduler=scheduler, max_failures=max_failures, keep_frames=None)
    run = PluginRun(inputs=images, images=sink.images, pipeline=pipeline)

    def on_frame(frame: Frame, ctx: FrameContext) -> None:
        run.results.append(dict(ctx.results))
        run.ages.append(dict(ctx.age))
        run.events.append(list(ctx.events))

    pipeline.start()
    try:
        pipeline.run(on_frame=on_frame)
    finally:
        pipeline.close()
    run.summary = pipeline.summary()
    _check_result_types(run, analyzers)
    return run


def _check_result_types(run: PluginRun, analyzers: Mapping[str, Analyzer]) -> None:
    """Raise ``TypeError`` when an analyzer returned something other than its ``result_type``
    (results of a plugin the engine disabled are ``None`` and not checked)."""
    for index, results in enumerate(run.results):
        for name, analyzer in analyzers.items():
            value = results.get(name)
            if name not in run.disabled and not conforms(value, analyzer.result_type):
                raise TypeError(f"{name} returned {type(value).__name__} on frame {index}, "
                                f"but declares result_type = {analyzer.result_type!r}")


def installed_analyzer(name: str, options: Mapping[str, Any] | None = None, registry: Any = None) -> Analyzer:
    """A new analyzer ``name`` from the installed plugins (``registry``, default: all installed), with
    ``options``: how one plugin's code (a benchmark, a tool) uses another plugin's analyzer without
    importing that plugin. Call ``start()`` on it before ``analyze``."""
    if registry is None:
        from edgefx.registry import Registry
        registry = Registry()
    return registry.analyzer(name)(options or {})


def _add_required(analyzers: dict[str, Analyzer], effects: list[Effect],
                  options: Mapping[str, Mapping[str, Any]], registry: Any) -> None:
    """Create every analyzer that the given plugins require but that was not passed in."""
    missing = any(dep not in analyzers for obj in [*effects, *analyzers.values()] for dep in obj.requires)
    if registry is None and missing:
        from edgefx.registry import Registry
        registry = Registry()

    def requires(name: str) -> tuple[str, ...]:
        if name not in analyzers:
            analyzers[name] = registry.analyzer(name)(options.get(name, {}))
        return analyzers[name].requires

    resolve_analyzers([*analyzers, *(dep for effect in effects for dep in effect.requires)], requires)


def measure_cost(plugin: PluginLike, size: tuple[int, int] = (1280, 720), frames: int = 60, warmup: int = 5,
                 options: Mapping[str, Mapping[str, Any]] | None = None, registry: Any = None) -> dict[str, Any]:
    """Per-frame cost of ``plugin`` (its own stage only) through the real loop at ``size=(width, height)``.

    Returns ``{"name", "size", "median_ms", "p90_ms", "p99_ms", "n"}`` over ``frames`` frames after
    ``warmup`` unmeasured ones. Analyzers it requires run too (timed separately), taken from
    ``registry`` as in ``run_plugin``. Times on a shared machine are noisy: compare medians from one run.
    """
    run = run_plugin(plugin, frames=warmup + frames, size=size, options=options, keep_images=False,
                     registry=registry)
    name = plugin.name
    samples = [f["stages"][name] for f in list(run.pipeline.metrics.frames)[warmup:] if name in f["stages"]]
    if not samples:
        raise RuntimeError(f"{name} never ran: {run.disabled.get(name, 'not active')}")
    return {"name": name, "size": list(size), **summarize_ms(samples)}
