"""What keeps a recording safe: the muxer options that put every frame on disk within half a
second, a thread that hands the file to the disk each second (power loss), the rewrite of a
fragmented MP4/MOV into an ordinary one at a normal close, and counting what a broken file kept.

While recording, MP4 and MOV are *fragmented* (an empty index up front, then a self-contained
fragment at least every half second), Matroska closes a cluster at least every half second, and
every packet is handed to the OS as it is muxed. So SIGKILL, an OOM kill, a segfault or a full
disk lose at most the last half second. At a normal close a fragmented file is copied (not
re-encoded) into an ordinary MP4/MOV with one index, the form every player and editor knows.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import av
import av.error

log = logging.getLogger(__name__)

FRAGMENT_SECONDS = 0.5
"""Longest stretch of media a crash can lose: fragment (MP4/MOV) and cluster (Matroska) length."""
SYNC_SECONDS = 1.0
"""How often the file's written data is forced to the disk (``fsync``), for power loss."""
try:
    EDGEFX_VERSION = version("edgefx")
    """The installed edgefx version (``edgefx.__version__``), stamped into every recording."""
except PackageNotFoundError:  # running from a source tree that is not installed
    EDGEFX_VERSION = "0.0.0"
MARK = f"edgefx {EDGEFX_VERSION}"
"""Container ``comment`` that says edgefx wrote the file (an earlier output it may replace)."""
FRAGMENTED = ("mp4", "mov")


def muxer_options(fmt: str) -> dict[str, str]:
    """The FFmpeg muxer options for a crash-safe recording in container ``fmt``."""
    options = {"flush_packets": "1"}  # every packet reaches the OS (a SIGKILL loses nothing written)
    if fmt in FRAGMENTED:
        options["movflags"] = "frag_keyframe+empty_moov+delay_moov+default_base_moof"
        options["frag_duration"] = str(round(FRAGMENT_SECONDS * 1_000_000))  # also between keyframes
    elif fmt == "matroska":
        options["cluster_time_limit"] = str(round(FRAGMENT_SECONDS * 1000))
    return options


class DiskSync:
    """Forces ``path``'s written data to the disk every ``SYNC_SECONDS`` on its own thread, so a
    power cut loses at most that much more than a crash; the folder entry is synced once."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)
        self._stop = threading.Event()
        with contextlib.suppress(OSError):  # the new name itself must survive a power cut
            folder = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)
        self._thread = threading.Thread(target=self._run, name=f"fsync:{path.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(SYNC_SECONDS):
            with contextlib.suppress(OSError):  # a full disk is reported by the writer, not here
                os.fsync(self._fd)

    def close(self) -> None:
        """Stop syncing (the file's final sync is the caller's ``finish``)."""
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(OSError):
            os.fsync(self._fd)
        os.close(self._fd)


def defragment(path: Path, fmt: str) -> bool:
    """Copy the fragmented MP4/MOV ``path`` into an ordinary one with one index (packets copied,
    nothing re-encoded) and put it in its place. If that fails (e.g. no room for the copy), the
    fragmented file stays, which plays too; returns whether it was rewritten."""
    temp = path.with_name(f".{path.name}.edgefx-index")
    try:
        with av.open(str(path)) as src, av.open(str(temp), "w", format=fmt) as dst:
            dst.metadata["comment"] = MARK
            streams = {s.index: dst.add_stream_from_template(s) for s in src.streams if s.type in ("video", "audio")}
            for packet in src.demux(*(s for s in src.streams if s.index in streams)):
                if packet.dts is None:  # the demuxer's end-of-stream marker
                    continue
                packet.stream = streams[packet.stream.index]
                dst.mux(packet)
        os.replace(temp, path)
        return True
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        log.warning("%s stays a fragmented %s (it plays; only its index was not rewritten): %s",
                    path, fmt.upper(), exc)
        return False
    finally:  # also after a second Ctrl-C: the fragmented file is whole, the half copy goes
        temp.unlink(missing_ok=True)


@dataclass(frozen=True, slots=True)
class Kept:
    """The video frames a file holds completely, and the media time they span."""

    frames: int
    seconds: float


def kept_frames(path: Path) -> Kept:
    """Count the video frames whose data lies wholly inside ``path`` (reads packets, decodes
    nothing: quick even for hours of video), for the message after writing failed."""
    size = path.stat().st_size if path.exists() else 0
    frames, first, last = 0, None, None
    try:
        with av.open(str(path)) as c:
            video = c.streams.video[0]
            for packet in c.demux(video):
                if packet.size == 0 or packet.is_corrupt or (packet.pos is not None and packet.pos >= 0
                                                             and packet.pos + packet.size > size):
                    continue  # cut off by the end of the file
                frames += 1
                if packet.pts is not None and packet.time_base is not None:
                    t = float(packet.pts * packet.time_base)
                    first = t if first is None else min(first, t)
                    last = t if last is None else max(last, t)
    except (av.error.FFmpegError, OSError, IndexError):
        pass  # no header or index made it to the disk, or the rest is cut off: count what was read
    return Kept(frames, 0.0 if first is None else last - first)
