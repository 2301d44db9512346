"""The audio path: 16 kHz resampling with media times, the worker's drop-oldest queue, and speech
turning itself off with one clear message (no track, silent track, microphone that cannot open)
while the video runs to the end."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.io.audio import RATE, AudioWorker, Resampler, mic_format
from edgefx.plugins.speech.samples import GOFORWARD, load_raw, mux_clip, to_frames
from edgefx.registry import Registry
from edgefx.runtime.runner import execute
from edgefx.testing import sample_frames


def test_resampler_keeps_media_time_and_signal() -> None:
    """48 kHz frames of the real recording -> 16 kHz chunks that line up with the original."""
    if not GOFORWARD.is_file():
        pytest.skip("apt-get install pocketsphinx-testdata")
    raw = load_raw()
    resample = Resampler()
    out, stamps = [], []
    for i, frame in enumerate(to_frames(raw)):
        samples, t0 = resample(frame, 10.0 + i * 0.02)
        out.append(samples)
        stamps.append((t0, samples.size))
    assert stamps[0][0] == 10.0
    for (t_a, n_a), (t_b, _) in itertools.pairwise(stamps):
        assert t_b == pytest.approx(t_a + n_a / RATE)
    got = np.concatenate(out).astype(np.float32)
    n = min(got.size, raw.size) - 400
    lags = range(-40, 41)
    corr = [float(np.dot(got[200 + k:200 + k + n - 200], raw[200:n].astype(np.float32))) for k in lags]
    lag = lags[int(np.argmax(corr))]
    assert abs(lag) <= 16  # the resampler's filter delay is under 1 ms
    assert np.corrcoef(got[200 + lag:n + lag], raw[200:n])[0, 1] > 0.98


def test_resampler_restarts_its_clock_after_a_gap() -> None:
    resample = Resampler()
    frame = av.AudioFrame.from_ndarray(np.zeros((1, 960), np.int16), format="s16", layout="mono")
    frame.sample_rate = 48000
    resample(frame, 0.0)
    _, t0 = resample(frame, 5.0)
    assert t0 == 5.0


def test_live_worker_drops_oldest_and_never_blocks() -> None:
    release = threading.Event()
    seen: list[float] = []

    def slow(samples: np.ndarray, t0: float) -> None:
        release.wait()
        seen.append(t0)

    worker = AudioWorker(slow, live=True, max_chunks=4)
    frames = to_frames(np.zeros(RATE, np.int16))  # 50 chunks of 20 ms
    t_start = time.perf_counter()
    for i, frame in enumerate(frames):
        worker.submit(frame, i * 0.02)
    assert time.perf_counter() - t_start < 0.5
    release.set()
    assert worker.drain()
    worker.close()
    # four stayed queued (plus the one the worker may have taken before the queue filled)
    assert worker.dropped in (len(frames) - 5, len(frames) - 4)
    assert len(seen) == len(frames) - worker.dropped
    assert seen[-1] == pytest.approx(0.98, abs=0.002)  # the newest audio survived (resampler delay < 2 ms)


def run_speech(clip: Path, out: Path, caplog: pytest.LogCaptureFixture, **speech: object) -> dict:
    settings = load_settings(None, {"input.url": str(clip), "output.url": str(out), "run.effects": ["particles"],
                                    "run.analyzers": ["speech"], "analyzers.speech.keywords": ["forward"],
                                    **{f"analyzers.speech.{k}": v for k, v in speech.items()}})
    settings.triggers = [{"keyword": "forward", "effect": "particles", "action": "on"}]
    with caplog.at_level(logging.WARNING):
        return execute(settings, Registry()).summary


def speech_off_messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "speech is off" in r.getMessage()]


def test_no_audio_track(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = mux_clip(tmp_path / "mute.mp4", None, sample_frames(30, (160, 120)))
    summary = run_speech(clip, tmp_path / "out.mp4", caplog)
    assert summary["frames"] == 30
    (message,) = speech_off_messages(caplog)
    assert "has no audio track" in message and "mic" in message


def test_silent_track(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = mux_clip(tmp_path / "silent.mp4", np.zeros(5 * RATE, np.int16), sample_frames(150, (160, 120)))
    summary = run_speech(clip, tmp_path / "out.mp4", caplog)
    assert summary["frames"] == 150
    (message,) = speech_off_messages(caplog)
    assert "silent" in message


def test_microphone_that_cannot_open(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clip = mux_clip(tmp_path / "mute.mp4", None, sample_frames(30, (160, 120)))
    summary = run_speech(clip, tmp_path / "out.mp4", caplog, mic="alsa:hw:97,0")
    assert summary["frames"] == 30
    (message,) = speech_off_messages(caplog)
    assert "microphone could not be opened" in message and "alsa:hw:97,0" in message


def test_microphone_path_hears_real_speech_while_live_video_runs(tmp_path: Path) -> None:
    """The mic is opened with PyAV like a device; lavfi plays the real recording at real time."""
    if not GOFORWARD.is_file():
        pytest.skip("apt-get install pocketsphinx-testdata")
    wav = tmp_path / "goforward.wav"
    with av.open(str(wav), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(load_raw()[None, :], format="s16", layout="mono")
        frame.sample_rate, frame.pts, frame.time_base = RATE, 0, Fraction(1, RATE)
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    settings = load_settings(None, {
        "input.url": "testsrc:?size=160x120&live=1", "output.url": str(tmp_path / "out.mp4"),
        "run.effects": ["particles"], "run.analyzers": ["speech"], "analyzers.speech.keywords": ["forward"],
        "analyzers.speech.mic": f"lavfi:amovie={wav},arealtime"})
    settings.triggers = [{"keyword": "forward", "effect": "particles", "action": "on"}]
    events, on = [], []
    holder: list = []
    start = time.monotonic()
    execute(settings, Registry(), on_event=lambda e: events.append((e, time.monotonic() - start)),
            on_frame=lambda f, c: on.append(holder[0].effects["particles"].enabled), on_open=holder.append,
            max_frames=105)
    ((event, heard_after),) = events
    assert event.t is None and event.data["word"] == "forward"  # live: as soon as heard
    assert 1.17 < heard_after < 3.0
    assert not on[0] and on[-1]


def test_mic_spec() -> None:
    assert mic_format("alsa:default") == ("alsa", "default")
    assert mic_format("pulse:default") == ("pulse", "default")
    assert mic_format("avfoundation::0") == ("avfoundation", ":0")
    assert mic_format("dshow:audio=USB Mic") == ("dshow", "audio=USB Mic")


def test_copy_keeps_frame_for_the_sink() -> None:
    """The worker gets a copy: the loop's frame (going to the encoder) is untouched."""
    from edgefx.io.audio import copy_frame

    data = (np.arange(2048, dtype=np.float32).reshape(2, 1024) / 4096.0)
    frame = av.AudioFrame.from_ndarray(data, format="fltp", layout="stereo")
    frame.sample_rate, frame.pts, frame.time_base = 44100, 7, Fraction(1, 44100)
    copy = copy_frame(frame)
    assert copy is not frame and copy.sample_rate == 44100
    assert np.array_equal(copy.to_ndarray(), frame.to_ndarray())
