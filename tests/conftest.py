"""Shared fixtures: real models, real photos, real media made with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from edgefx.inference.models import fetch_models


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The model cache, fetched (from the pinned mediapipe wheel) once per session if needed."""
    status = fetch_models(log=lambda *_: None)
    assert all(s == "present" for s in status.values()), status
    from edgefx.inference.models import models_dir as where
    return where()


@pytest.fixture(scope="session")
def astronaut_bgr() -> np.ndarray:
    """scikit-image's astronaut photo (a real face and person), 512x512 BGR uint8."""
    from skimage import data
    return cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)


def write_clip(path: Path, frames: list[np.ndarray] | np.ndarray, fps: int = 30, audio_hz: float | None = None,
               sample_rate: int = 48000) -> Path:
    """Encode BGR frames to ``path`` with PyAV (H.264), optionally with a sine tone of ``audio_hz``."""
    with av.open(str(path), "w") as out:
        h, w = frames[0].shape[:2]
        vs = out.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        aus = out.add_stream("aac", rate=sample_rate, layout="mono") if audio_hz else None
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
        if aus is not None:
            n = round(len(frames) / fps * sample_rate)
            t = np.arange(n) / sample_rate
            tone = (0.3 * np.sin(2 * np.pi * audio_hz * t)).astype(np.float32)[None, :]
            for start in range(0, n, 1024):
                af = av.AudioFrame.from_ndarray(tone[:, start:start + 1024].copy(), format="flt", layout="mono")
                af.sample_rate, af.pts, af.time_base = sample_rate, start, Fraction(1, sample_rate)
                out.mux(aus.encode(af))
            out.mux(aus.encode(None))
    return path


CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")
"""Debian's chromium and its driver, started headless with no network chatter (this machine has none)."""


@pytest.fixture()
def browser(tmp_path):
    """A headless Debian chromium under selenium, with a fresh profile; skips where it is not installed."""
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.skip("needs Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(DRIVER)))
    yield driver
    driver.quit()
