"""The output stage on its own thread (``edgefx.io.output_stage``): the one-slot handoff, frames
that change owner without a copy, the same output with the stage on and off, failures raised on
the loop thread, and a live input whose newest frame wins when the output falls behind."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import ClassVar

import av
import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.errors import SinkError
from edgefx.frame import Frame
from edgefx.io.demo import DemoSource
from edgefx.io.output_stage import Handoff, OutputStage
from edgefx.io.sink import NullSink, Sink
from edgefx.io.source import SourceRequest
from edgefx.registry import Registry
from edgefx.runtime.pipeline import Pipeline
from edgefx.runtime.runner import execute


def frame(index: int) -> Frame:
    return Frame(np.full((8, 8, 3), index, np.uint8), index, Fraction(1, 30), index)


def audio() -> av.AudioFrame:
    return av.AudioFrame(format="s16", layout="mono", samples=160)


class KeepingSink(Sink):
    """Keeps every array it is handed (to check identity), optionally slow, optionally failing."""

    name = "keeping"
    schemes: ClassVar[tuple[str, ...]] = ()
    output_thread = True

    def __init__(self, delay: float = 0.0, fail_at: int = -1) -> None:
        self.images: list[np.ndarray] = []
        self.threads: set[str] = set()
        self.delay, self.fail_at = delay, fail_at
        self.closed = False

    def write(self, frame: Frame) -> None:
        self.threads.add(threading.current_thread().name)
        if len(self.images) == self.fail_at:
            raise SinkError("writing keeping failed: No space left on device", "check free disk space")
        time.sleep(self.delay)
        self.images.append(frame.image)
        self.frames_written += 1

    def close(self) -> None:
        self.closed = True


def test_a_live_handoff_keeps_the_newest_frame_and_every_audio_frame() -> None:
    handoff = Handoff(live=True)
    first_audio = audio()
    handoff.put(frame(1))
    handoff.put(first_audio)
    handoff.put(frame(2))  # frame 1 was not taken yet: dropped, its audio stays
    handoff.close()
    taken = []
    while (item := handoff.get()) is not None:
        taken.append(item)
    assert taken[0] is first_audio and isinstance(taken[1], Frame) and taken[1].index == 2
    assert len(taken) == 2 and handoff.dropped == 1


def test_a_file_handoff_waits_for_the_slot_and_loses_nothing() -> None:
    handoff = Handoff(live=False)
    handoff.put(frame(1))
    second_in = threading.Event()

    def producer() -> None:
        handoff.put(frame(2))
        second_in.set()

    threading.Thread(target=producer, daemon=True).start()
    assert not second_in.wait(0.2)  # the slot is full: the loop waits
    assert handoff.get().index == 1
    assert second_in.wait(5.0)
    assert handoff.get().index == 2 and handoff.dropped == 0


def test_the_frame_array_changes_owner_without_a_copy_and_is_encoded_off_the_loop() -> None:
    source = DemoSource(SourceRequest(160, 120, 30.0), 1.0, live=False)
    inner = KeepingSink()
    pipeline = Pipeline(source, OutputStage(inner, live=False), {}, {})
    rendered: list[np.ndarray] = []
    pipeline.run(on_frame=lambda f, ctx: rendered.append(f.image))
    pipeline.sink.close()
    assert len(inner.images) == len(rendered) == 30
    assert all(a is b for a, b in zip(inner.images, rendered, strict=True))
    assert inner.threads == {"output:keeping"} and inner.closed


def test_a_write_that_fails_on_the_output_thread_is_raised_once_on_the_loop_thread() -> None:
    source = DemoSource(SourceRequest(160, 120, 30.0), 2.0, live=False)
    inner = KeepingSink(fail_at=5)
    pipeline = Pipeline(source, OutputStage(inner, live=False), {}, {})
    with pytest.raises(SinkError, match="No space left"):
        pipeline.run()
    pipeline.sink.close()  # already reported: the close that finishes the output does not raise it again
    assert inner.closed and len(inner.images) == 5


def test_a_failure_on_the_last_frame_is_raised_by_close() -> None:
    stage = OutputStage(KeepingSink(fail_at=0), live=False)
    stage.write(frame(0))
    with pytest.raises(SinkError):
        stage.close()


def test_a_live_input_drops_at_the_handoff_when_the_output_is_slow_and_counts_it() -> None:
    source = DemoSource(SourceRequest(160, 120, 30.0), 1.0, live=True)
    inner = KeepingSink(delay=0.1)  # 10 fps output behind a 30 fps camera
    stage = OutputStage(inner, live=True)
    pipeline = Pipeline(source, stage, {}, {})
    pipeline.run()
    stage.close()
    dropped = stage.stats()["handoff_dropped"]
    assert pipeline.metrics.count == 30 and dropped >= 10
    assert inner.frames_written + dropped == 30
    assert stage.stats()["output_stage"]["encode_ms"]["p50"] >= 100


def test_overlap_on_and_off_write_the_same_frames(tmp_path: Path) -> None:
    outputs = {}
    for overlap in (True, False):
        out = tmp_path / f"{overlap}.mp4"
        settings = load_settings(None, {"input.url": "demo:?seconds=1", "input.width": 320, "input.height": 240,
                                        "output.url": str(out), "output.threads": 1, "run.overlap": overlap})
        summary = execute(settings, Registry()).summary
        assert summary["frames_written"] == 30 and summary["frames_dropped"] == {}
        assert ("output_stage" in summary["output_stats"]) is overlap
        stages = summary["stages"]  # the stage picture of the run summary (edgefx.runtime.stages)
        assert {"input_wait", "analyze", "render", "output_wait", "end_to_end"} <= set(stages)
        assert ("encode" in stages) is overlap and stages["slowest"]["stage"] == "encode"  # no plugins
        assert 0 < summary["start_to_first_frame_s"] < summary["time_to_first_frame_s"]
        with av.open(str(out)) as c:
            outputs[overlap] = [f.to_ndarray(format="yuv420p") for f in c.decode(video=0)]
    assert len(outputs[True]) == 30
    assert all(np.array_equal(a, b) for a, b in zip(outputs[True], outputs[False], strict=True))


def test_a_null_output_gets_no_thread() -> None:
    settings = load_settings(None, {"input.url": "demo:?seconds=0.2", "output.url": "null"})
    summary = execute(settings, Registry()).summary
    assert "output_stage" not in summary["output_stats"] and not NullSink.output_thread
