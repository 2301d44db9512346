"""The encoder as a unit with speed levels (issue 27): under a budget that encoding does not fit,
a file output steps x264 down veryfast -> superfast -> ultrafast between frames, and the file
stays one valid stream that FFmpeg decodes without a complaint."""

from __future__ import annotations

import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.io.encoder_levels import UP_WINDOW, WINDOW, X264_LEVELS, AdaptiveEncoder, EncoderGovernor
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

FFMPEG = shutil.which("ffmpeg")


def run(out: Path, *sets: str) -> dict:
    settings = load_settings(None, {"input.url": "demo:?seconds=6", "output.url": str(out)}, list(sets))
    return execute(settings, Registry()).summary["output_stats"]


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="gray") for f in c.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(255**2 / max(mse, 1e-9))


@pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg")
@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_a_budget_encoding_does_not_fit_steps_the_preset_down_and_the_file_stays_valid(tmp_path: Path, suffix: str):
    fixed = run(tmp_path / f"fixed{suffix}", "output.adapt_preset=false", "scheduler.budget_ms=4")
    adapted = run(tmp_path / f"adapted{suffix}", "scheduler.budget_ms=4")
    assert fixed["encoder"]["changes"] == 0 and fixed["encoder"]["levels"] == ["veryfast"]
    encoder = adapted["encoder"]
    print(encoder)
    assert encoder["level"] == "ultrafast" and encoder["changes"] == 2, encoder
    assert encoder["frames"]["veryfast"] == encoder["frames"]["superfast"] == WINDOW
    check = subprocess.run([FFMPEG, "-v", "error", "-i", str(tmp_path / f"adapted{suffix}"), "-f", "null", "-"],
                           capture_output=True, text=True, timeout=60)
    assert check.returncode == 0 and check.stderr == "", check.stderr  # one valid stream across the switches
    ours, reference = decoded(tmp_path / f"adapted{suffix}"), decoded(tmp_path / f"fixed{suffix}")
    assert len(ours) == len(reference) == adapted["frames_written"] == 180
    worst = min(psnr(a, b) for a, b in zip(ours, reference, strict=True))
    assert worst > 30, worst  # the same pictures, at another speed level


def test_without_a_budget_the_preset_stays(tmp_path: Path):
    stats = run(tmp_path / "plain.mp4")
    assert stats["encoder"] == {"level": "veryfast", "levels": ["veryfast"], "changes": 0, "frames": {"veryfast": 180}}


def test_the_governor_steps_down_over_the_limit_and_back_up_well_under_it():
    one_core, spare = EncoderGovernor(20.0, cores=1), EncoderGovernor(20.0, cores=4)
    assert one_core.limit_ms == 10.0 and spare.limit_ms == 18.0
    steps = [one_core.step(12.0, True, False) for _ in range(WINDOW)]
    assert steps == [0] * (WINDOW - 1) + [1]  # half the budget on one core: faster
    assert [spare.step(12.0, True, False) for _ in range(WINDOW)] == [0] * WINDOW  # cores to spare: it fits
    steps = [one_core.step(3.0, True, True) for _ in range(UP_WINDOW)]
    assert steps == [0] * (UP_WINDOW - 1) + [-1]  # under a third of the limit for long: slower again
    assert [one_core.step(5.0, True, True) for _ in range(2 * UP_WINDOW)] == [0] * (2 * UP_WINDOW)  # in between


def x264(options: dict[str, str]) -> av.VideoCodecContext:
    context = av.CodecContext.create("libx264", "w")
    context.flags |= av.codec.context.Flags.global_header  # parameter sets in extradata, as MP4 wants
    context.width, context.height, context.pix_fmt = 320, 240, "yuv420p"
    context.time_base = Fraction(1, 30)
    context.options = {"tune": "zerolatency", "crf": "23", **options}
    context.open()
    return context


def test_a_level_whose_parameter_sets_differ_is_refused():
    """Plain ultrafast drops CABAC and the 8x8 transform, which changes the PPS an MP4 header holds.
    (Without global headers, as in MPEG-TS, the parameter sets travel with each keyframe and any
    level may follow.)"""
    with av.open("null", mode="w", format="null") as holder:
        stream = holder.add_stream("libx264", rate=30)
        stream.codec_context.width, stream.codec_context.height = 320, 240
        stream.codec_context.flags |= av.codec.context.Flags.global_header
        stream.codec_context.options = {"preset": "superfast", "tune": "zerolatency", "crf": "23"}
        stream.codec_context.open()
        encoder = AdaptiveEncoder(stream, "libx264", "superfast", {}, 1.0,
                                  lambda options: x264({"preset": options["preset"]}))
        assert encoder.levels == ["superfast", "ultrafast"]
        assert encoder._switch("ultrafast") == [] and encoder.level == "superfast" and encoder.levels == ["superfast"]
        kept = AdaptiveEncoder(stream, "libx264", "superfast", {}, 1.0, x264)
        kept._switch("ultrafast")
        assert kept.level == "ultrafast" and X264_LEVELS["ultrafast"]["x264-params"] == "cabac=1:8x8dct=1:weightp=1"
