"""The judgements tools/arm64_verify.py makes inside the emulated aarch64 system, checked here on
this machine's real installed wheels and on clips made from a real photo. (The emulated run
itself is `make arm64-check`: minutes long, root only, not part of `make test`.)"""

import importlib.util
import platform
from importlib.metadata import distribution
from pathlib import Path

import cv2
from conftest import write_clip

TOOL = Path(__file__).resolve().parents[1] / "tools" / "arm64_verify.py"
spec = importlib.util.spec_from_file_location("arm64_verify", TOOL)
arm64_verify = importlib.util.module_from_spec(spec)
spec.loader.exec_module(arm64_verify)


def test_wheel_platform_tags_of_installed_packages():
    assert arm64_verify.wheel_platforms(distribution("pluggy")) == {"any"}
    numpy_platforms = arm64_verify.wheel_platforms(distribution("numpy"))
    assert numpy_platforms and all(platform.machine() in tag for tag in numpy_platforms)
    expected = platform.machine() == "aarch64"
    assert all(arm64_verify.is_aarch64_or_pure(tag) is expected for tag in numpy_platforms)


def test_only_pypi_aarch64_tags_pass():
    assert arm64_verify.is_aarch64_or_pure("manylinux_2_28_aarch64")
    assert arm64_verify.is_aarch64_or_pure("musllinux_1_2_aarch64")
    assert not arm64_verify.is_aarch64_or_pure("linux_aarch64")  # a wheel pip built from source on the board
    assert not arm64_verify.is_aarch64_or_pure("manylinux_2_17_x86_64")


def test_a_drawn_effect_is_seen_after_encoding_and_encoding_alone_is_not(tmp_path, astronaut_bgr):
    frames = [astronaut_bgr.copy() for _ in range(3)]
    drawn = [f.copy() for f in frames]
    for f in drawn:
        cv2.circle(f, (256, 200), 40, (0, 255, 255), -1)  # a small effect: ~1.9% of the frame
    plain, _ = arm64_verify.sample_frame(write_clip(tmp_path / "plain.mp4", frames), 1)
    again, _ = arm64_verify.sample_frame(write_clip(tmp_path / "again.mp4", frames), 1)
    effect, count = arm64_verify.sample_frame(write_clip(tmp_path / "drawn.mp4", drawn), 20)
    assert count == 3
    assert arm64_verify.changed_share(plain, again) < arm64_verify.MIN_CHANGED_SHARE
    assert arm64_verify.changed_share(plain, effect) > 0.015
