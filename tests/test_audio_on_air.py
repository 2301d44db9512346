"""Audio on air: a second audio input (a real recording from alsa-utils standing in for the
microphone) goes out with the video, in sync. Measured clap-and-flash style from what Debian's
ffmpeg received over RTMP: white frames at known times in the video, clicks at the same times
in the sound, and the time between each flash and its click in the received stream."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
import pytest

from edgefx.config import load_settings
from edgefx.errors import SourceError
from edgefx.registry import Registry
from edgefx.runtime.runner import execute

FFMPEG = shutil.which("ffmpeg")
VOICE = Path("/usr/share/sounds/alsa/Front_Center.wav")  # Debian's alsa-utils (.ci/run installs it)
pytestmark = [pytest.mark.skipif(FFMPEG is None, reason="needs Debian's ffmpeg: apt-get install -y ffmpeg"),
              pytest.mark.skipif(not VOICE.is_file(), reason="needs Debian's alsa-utils sounds")]
SECONDS = 6
CLAPS = list(range(1, SECONDS))
"""Seconds at which the picture flashes white and the sound clicks."""
TOLERANCE_MS = 45


def make(cmd: str, out: Path) -> Path:
    subprocess.run([FFMPEG, "-hide_banner", "-v", "error", "-y", *cmd.split(), str(out)], check=True, timeout=60)
    return out


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A silent video with one white frame each second, and the "microphone": the voice recording
    with a 4 ms 3 kHz click each second (clicks louder than the voice)."""
    folder = tmp_path_factory.mktemp("clap")
    video = make(f"-f lavfi -i color=black:s=640x360:r=30:d={SECONDS},drawbox=t=fill:c=white:"
                 "enable='eq(mod(n\\,30)\\,0)*gte(n\\,30)' -c:v libx264 -pix_fmt yuv420p", folder / "flash.mkv")
    mic = make(f"-i {VOICE} -f lavfi -i aevalsrc='if(lt(mod(t\\,1)\\,0.004)*gte(t\\,1)\\,0.9*sin(2*PI*3000*t)\\,0)'"
               f":s=48000:d={SECONDS} -filter_complex [0]aresample=48000,apad[v];[v][1]amix=inputs=2:"
               "duration=shortest:normalize=0:weights=0.3|1", folder / "mic.wav")
    return video, mic


def flashes(path: Path) -> list[float]:
    """Media times (s) of the frames where the picture turns white."""
    out, before = [], False
    with av.open(str(path)) as c:
        for frame in c.decode(video=0):
            white = frame.to_ndarray(format="gray").mean() > 128
            if white and not before:
                out.append(float(frame.pts * frame.time_base))
            before = white
    return out


def clicks(path: Path) -> list[float]:
    """Media times (s) where a click starts: the sharpest sample-to-sample jumps, 0.3 s apart at least."""
    chunks, start, rate = [], None, 0
    with av.open(str(path)) as c:
        rate = c.streams.audio[0].rate
        for frame in c.decode(audio=0):
            start = float(frame.pts * frame.time_base) if start is None else start
            samples = frame.to_ndarray()  # planar (channels, n) or packed (1, n * channels)
            channels = len(frame.layout.channels)
            mono = samples.mean(axis=0) if frame.format.is_planar else samples.reshape(-1, channels).mean(axis=1)
            chunks.append(mono)
    jumps = np.abs(np.diff(np.concatenate(chunks).astype(np.float64)))
    loud = np.flatnonzero(jumps > 0.5 * jumps.max())
    onsets = loud[np.insert(np.diff(loud) > 0.3 * rate, 0, True)]
    return [start + i / rate for i in onsets]


def offsets_ms(path: Path) -> list[float]:
    """For each clap: its click's time minus its flash's time, in ms (> 0: the sound is late)."""
    seen, heard = flashes(path), clicks(path)
    assert len(seen) == len(heard) == len(CLAPS), (seen, heard)
    return [round(float(a - v) * 1000, 1) for v, a in zip(seen, heard, strict=True)]


def on_air(tmp_path: Path, media: tuple[Path, Path], *extra: str, record: bool = False) -> tuple[Path, str]:
    """``edgefx run`` with the mic file as the audio input, streaming to Debian's ffmpeg over RTMP."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"rtmp://127.0.0.1:{s.getsockname()[1]}/live/key"
    received = tmp_path / "received.mkv"
    server = subprocess.Popen([FFMPEG, "-hide_banner", "-loglevel", "error", "-y", "-listen", "1", "-i", url,
                               "-c", "copy", str(received)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.5)
    video, mic = media
    outputs = ["-o", str(tmp_path / "rec.mkv")] if record else []
    run = subprocess.run([sys.executable, "-m", "edgefx.cli", "run", "-i", str(video), *outputs, "-o", url,
                          "--set", f"input.audio_url={mic}", *extra, "--no-progress"],
                         capture_output=True, text=True, timeout=60)
    server.wait(timeout=20)
    assert run.returncode == 0, run.stdout + run.stderr
    return received, run.stdout


@pytest.mark.parametrize("record", [False, True], ids=["stream", "record-and-stream"])
def test_the_microphone_goes_on_air_within_45_ms_of_the_picture(tmp_path: Path, media, record: bool) -> None:
    received, out = on_air(tmp_path, media, record=record)
    offsets = offsets_ms(received)
    print(f"flash -> click offsets received over RTMP: {offsets} ms")
    assert max(map(abs, offsets)) <= TOLERANCE_MS, offsets
    if record:  # the recording is the same packets: in sync too
        assert max(map(abs, offsets_ms(tmp_path / "rec.mkv"))) <= TOLERANCE_MS
        assert re.search(r"encoded once for 2 outputs", out), out


def test_audio_delay_ms_moves_the_sound_by_that_much(tmp_path: Path, media) -> None:
    received, _ = on_air(tmp_path, media, "--set", "input.audio_delay_ms=120")
    offsets = offsets_ms(received)
    assert all(abs(o - 120) <= 10 for o in offsets), offsets


def test_an_audio_input_that_is_neither_file_nor_device_is_refused(tmp_path: Path) -> None:
    settings = load_settings(None, {"input.url": "testsrc:?duration=1", "output.url": str(tmp_path / "o.mkv"),
                                    "input.audio_url": str(tmp_path / "nope.wav")})
    with pytest.raises(SourceError, match="neither a file nor a capture device") as caught:
        execute(settings, Registry())
    assert "arecord -L" in caught.value.hint


def loudest(path: Path) -> tuple[int, float]:
    """Audio frames in ``path`` and the loudest sample in them."""
    with av.open(str(path)) as c:
        frames = [f.to_ndarray() for f in c.decode(audio=0)]
    return len(frames), float(max(np.abs(f).max() for f in frames))


def test_gain_and_mute_change_the_sound_on_air(tmp_path: Path, media) -> None:
    video, mic = media
    peaks = {}
    for name, sets in (("plain", []), ("soft", ["input.audio_gain_db=-6"]), ("muted", ["input.audio_mute=true"])):
        out = tmp_path / f"{name}.mkv"
        settings = load_settings(None, {"input.url": str(video), "output.url": str(out),
                                        "input.audio_url": str(mic)}, sets)
        execute(settings, Registry())
        peaks[name] = loudest(out)
    assert peaks["plain"][0] == peaks["soft"][0] == peaks["muted"][0] > 0  # the track stays, muted too
    assert 0.4 < peaks["soft"][1] / peaks["plain"][1] < 0.6, peaks  # -6 dB: half the amplitude
    assert peaks["muted"][1] < 1e-3, peaks
