"""Real PyAV round trips through the engine: pixels, timing, audio sync, live dropping."""

from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import write_clip

from edgefx import Effect, Frame, FrameContext, Layer
from edgefx.config import load_settings
from edgefx.io import inputs
from edgefx.io.sink import NullSink, SinkRequest
from edgefx.io.source import SourceRequest, frame_size
from edgefx.registry import load_registry
from edgefx.runtime.pipeline import Pipeline
from edgefx.runtime.runner import execute


def decode_all(path: Path) -> tuple[list[np.ndarray], list[float], list[tuple[float, float]]]:
    """Every video frame (BGR), its time, and every audio frame's (start, end) time."""
    images, times, audio = [], [], []
    with av.open(str(path)) as c:
        for frame in c.decode(*c.streams):
            if isinstance(frame, av.VideoFrame):
                images.append(frame.to_ndarray(format="bgr24"))
                times.append(float(frame.time))
            else:
                audio.append((float(frame.time), float(frame.time) + frame.samples / frame.sample_rate))
    return images, times, audio


@pytest.fixture(scope="module")
def photo_clip(tmp_path_factory, astronaut_bgr) -> Path:
    """3 s of the astronaut photo sliding sideways at 640x360, with a 440 Hz tone."""
    frames = []
    for i in range(90):
        canvas = np.zeros((360, 640, 3), np.uint8)
        x = 40 + i * 2
        canvas[:, x:x + 360] = cv2_resize(astronaut_bgr, 360)
        frames.append(canvas)
    return write_clip(tmp_path_factory.mktemp("clip") / "photo.mp4", frames, fps=30, audio_hz=440)


def cv2_resize(image: np.ndarray, side: int) -> np.ndarray:
    import cv2
    return cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA)


def run_passthrough(src: Path, dst: Path) -> dict:
    settings = load_settings(None, {"input.url": str(src), "output.url": str(dst)})
    return execute(settings, load_registry()).summary


@pytest.mark.parametrize("suffix", [".mp4", ".mkv", ".mov"])
def test_passthrough_keeps_every_frame_pixels_and_timing(photo_clip, tmp_path, suffix):
    out = tmp_path / f"out{suffix}"
    summary = run_passthrough(photo_clip, out)
    src_images, src_times, _ = decode_all(photo_clip)
    out_images, out_times, _ = decode_all(out)
    assert summary["frames"] == len(src_images) == len(out_images) == 90
    assert out_times == pytest.approx(src_times, abs=1e-3)
    for a, b in zip(src_images[::15], out_images[::15], strict=True):
        mse = np.mean((a.astype(np.float32) - b.astype(np.float32)) ** 2)
        assert 10 * np.log10(255**2 / mse) > 30  # re-encoding at crf 23 only


def test_audio_is_carried_and_stays_in_sync(photo_clip, tmp_path):
    out = tmp_path / "out.mp4"
    run_passthrough(photo_clip, out)
    _, src_v, src_a = decode_all(photo_clip)
    _, out_v, out_a = decode_all(out)
    one_audio_frame = 1024 / 48000
    assert out_a, "audio track missing in output"
    # the audio covers the same media time span relative to the video, within one audio frame
    assert out_a[0][0] - out_v[0] == pytest.approx(src_a[0][0] - src_v[0], abs=one_audio_frame)
    assert out_a[-1][1] - out_v[-1] == pytest.approx(src_a[-1][1] - src_v[-1], abs=one_audio_frame)
    # and the tone is still a 440 Hz tone
    with av.open(str(out)) as c:
        samples = np.concatenate([f.to_ndarray().reshape(-1) for f in c.decode(audio=0)])
    spectrum = np.abs(np.fft.rfft(samples[:48000]))
    assert np.argmax(spectrum) == pytest.approx(440, abs=2)


class SlowEffect(Effect):
    """Takes 80 ms a frame: the loop falls behind a 30 fps live input."""

    name = "slow"
    layer = Layer.OVERLAY

    def apply(self, frame: Frame, ctx: FrameContext) -> None:
        time.sleep(0.08)


def test_live_input_drops_stale_frames_and_never_queues():
    source = inputs.TestPatternSource.open("testsrc:?size=320x240&rate=30&duration=3&live=1", SourceRequest())
    sink = NullSink()
    taken: list[tuple[float, float]] = []
    pipeline = Pipeline(source, sink, {}, {"slow": SlowEffect()})
    pipeline.start()
    started = time.monotonic()
    pipeline.run(threading.Event(), lambda f, ctx: taken.append((f.time, time.monotonic() - started)))
    source.close()
    summary = pipeline.summary()
    assert summary["dropped"] > 30  # about 2 of every 3 frames at 12 fps of 30
    assert 20 <= summary["frames"] <= 45
    # the frame taken is always the newest: its media time stays close to the wall clock
    lags = [wall - t for t, wall in taken[5:]]
    assert max(lags) - min(lags) < 0.2


def test_encoding_sink_restamps_repeated_timestamps_and_keeps_the_frame(tmp_path):
    from edgefx.io.info import StreamInfo
    from edgefx.io.sink import FileSink

    info = StreamInfo(64, 48, Fraction(30), Fraction(1, 30), False)
    sink = FileSink.open(str(tmp_path / "x.mkv"), info, SinkRequest())
    image = np.full((48, 64, 3), 128, np.uint8)
    for pts in (0, 1, 1, 2):
        sink.write(Frame(image.copy(), pts, Fraction(1, 30), pts))
    sink.close()
    assert sink.frames_written == 4 and sink.restamped == 2  # 0 1 1 2 -> 0 1 2 3
    assert len(decode_all(tmp_path / "x.mkv")[0]) == 4


def test_odd_sized_input_and_one_asked_side_give_an_even_picture_with_its_aspect(astronaut_bgr, tmp_path):
    """A phone clip can be 361 pixels high, and H.264 needs even sizes; a user who asks for a width
    only means the height that keeps the picture's shape."""
    odd = tmp_path / "odd.mkv"
    with av.open(str(odd), "w") as out:  # FFV1 stores odd sizes (x264 cannot)
        stream = out.add_stream("ffv1", rate=30)
        stream.width, stream.height, stream.pix_fmt = 641, 361, "yuv444p"
        for i in range(10):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(astronaut_bgr[:361, i:i + 641]), format="bgr24")
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    for width, expected in ((0, (640, 360)), (320, (320, 180))):
        dst = tmp_path / f"out{width}.mp4"
        settings = load_settings(None, {"input.url": str(odd), "output.url": str(dst), "input.width": width})
        assert execute(settings, load_registry()).summary["frames"] == 10
        images, _, _ = decode_all(dst)
        assert len(images) == 10 and images[0].shape[1::-1] == expected


def test_frame_size_fills_the_missing_side_from_the_aspect_ratio():
    assert frame_size(0, 0, (1280, 720)) == (1280, 720)
    assert frame_size(640, 0, (1280, 720)) == (640, 360)
    assert frame_size(0, 361, (1280, 720)) == (642, 360)
    assert frame_size(641, 481, (1280, 720)) == (640, 480)  # both asked: as asked, rounded down to even


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_phone_clips_rotation_is_applied_so_effects_see_it_upright(astronaut_bgr, tmp_path, degrees):
    """Phones store portrait clips as landscape pictures plus a display rotation; players (and
    FFmpeg) turn them. The engine turns them once on conversion, so analyzers see an upright face."""
    import cv2

    coded = cv2.resize(astronaut_bgr, (320, 240), interpolation=cv2.INTER_AREA)
    clip = tmp_path / "phone.mp4"
    with av.open(str(clip), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        stream.set_display_rotation(degrees)  # stored as the phone does: counterclockwise degrees
        for i in range(5):
            vf = av.VideoFrame.from_ndarray(coded, format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, 30)
            out.mux(stream.encode(vf))
        out.mux(stream.encode(None))
    dst = tmp_path / "out.mp4"
    execute(load_settings(None, {"input.url": str(clip), "output.url": str(dst)}), load_registry())
    images, _, _ = decode_all(dst)
    upright = np.rot90(coded, degrees // 90)  # what FFmpeg's player shows (checked against `ffmpeg -i`)
    assert images[0].shape == upright.shape
    error = np.abs(images[0].astype(np.int16) - upright).mean()
    upside_down = np.abs(images[0].astype(np.int16) - np.rot90(upright, 2)).mean()
    assert error < 8 and upside_down > 4 * error, (error, upside_down)  # encoded twice, but upright


def test_the_source_measures_each_pictures_change_on_its_own_thread(astronaut_bgr, tmp_path):
    """``Frame.change`` (the similarity gate's input) comes from the decode thread: small on a
    still picture, large while it moves, and in step with the same measure taken on the BGR frame."""
    from edgefx.vision.change import ChangeMeter, thumbnail

    still = [cv2_resize(astronaut_bgr, 352)] * 20
    moving = [np.roll(still[0], 8 * i, axis=1) for i in range(1, 11)]
    clip = write_clip(tmp_path / "still_then_moving.mp4", still + moving)
    source = inputs.FileSource.open(str(clip), SourceRequest())
    frames = [item for item in source if isinstance(item, Frame)]
    source.close()
    changes = [f.change for f in frames]
    assert changes[0] == float("inf") and all(c is not None for c in changes)
    assert max(changes[2:20]) < 1.0 <= min(changes[20:])  # under the default gate when still, over it moving
    meter = ChangeMeter()
    on_bgr = [meter.update(thumbnail(f.image)) for f in frames]
    assert np.corrcoef(changes[1:], on_bgr[1:])[0, 1] > 0.9


def test_a_file_decoded_on_the_loop_thread_gives_the_same_items(astronaut_bgr, tmp_path):
    """``[input] threads = 1`` (a batch worker) decodes a file on the consumer's thread with a
    single-threaded decoder, starts no decode thread, and gives exactly what the decode thread gives:
    the same pictures, timestamps, change figures and audio."""
    frames = [np.roll(cv2_resize(astronaut_bgr, 320), 6 * i, axis=1) for i in range(24)]
    clip = write_clip(tmp_path / "clip.mp4", frames, audio_hz=440.0)

    def items(threads: int) -> tuple[list, list, set[str]]:
        before = {t.name for t in threading.enumerate()}
        source = inputs.FileSource.open(str(clip), SourceRequest(threads=threads))
        got = list(source)
        started = {t.name for t in threading.enumerate()} - before
        source.close()
        pictures = [(f.pts, f.index, f.change, f.image) for f in got if isinstance(f, Frame)]
        audio = [a.pts for a in got if isinstance(a, av.AudioFrame)]
        return pictures, audio, started

    threaded, inline = items(0), items(1)
    assert any(name.startswith("decode:") for name in threaded[2]) and not inline[2]
    assert len(inline[0]) == len(threaded[0]) == 24 and inline[1] == threaded[1] and inline[1]
    for (pts_a, i_a, c_a, img_a), (pts_b, i_b, c_b, img_b) in zip(threaded[0], inline[0], strict=True):
        assert (pts_a, i_a, c_a) == (pts_b, i_b, c_b) and np.array_equal(img_a, img_b)
