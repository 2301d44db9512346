"""Real recorded speech for tests and benchmarks: Debian's ``pocketsphinx-testdata``, muxed into video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from edgefx.audio import RATE

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
GOFORWARD = TESTDATA / "goforward.raw"
"""16 kHz mono s16 raw: "go forward ten meters" (2.79 s)."""
GOFORWARD_ENDS = {"go": 0.64, "forward": 1.17, "ten": 1.53, "meters": 2.12}
"""Word end times (s) in goforward.raw from PocketSphinx forced alignment of the known text
(``Decoder.set_align_text("go forward ten meters")``: end frame + 1, 10 ms frames)."""


def load_raw(path: Path = GOFORWARD) -> np.ndarray:
    """The recording as int16 samples; a clear error when the Debian package is missing."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: apt-get install pocketsphinx-testdata")
    return np.fromfile(path, np.int16)


def mux_clip(path: Path, samples: np.ndarray | None, images: list[np.ndarray], fps: int = 30,
             lead_s: float = 0.0) -> Path:
    """Write ``images`` as H.264 at ``fps`` with ``samples`` (16 kHz mono, starting ``lead_s`` into
    the video) as an AAC track; ``samples=None`` writes no audio track."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.height, video.width = images[0].shape[:2]
        video.pix_fmt = "yuv420p"
        audio = None
        if samples is not None:
            audio = out.add_stream("aac", rate=RATE, layout="mono")
        for i, image in enumerate(images):
            vf = av.VideoFrame.from_ndarray(image, format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(video.encode(vf))
        out.mux(video.encode(None))
        if audio is not None:
            track = np.concatenate([np.zeros(round(lead_s * RATE), np.int16), samples])
            for start in range(0, track.size, 1024):
                af = av.AudioFrame.from_ndarray(track[None, start:start + 1024], format="s16", layout="mono")
                af.sample_rate, af.pts, af.time_base = RATE, start, Fraction(1, RATE)
                out.mux(audio.encode(af))
            out.mux(audio.encode(None))
    return path
