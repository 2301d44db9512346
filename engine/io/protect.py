"""Outputs never destroy the input, nor a file edgefx did not write. Checked before anything
is opened.

- A video output, ``--stats``, ``--contact-sheet`` or a file ``analyze --out`` writes that is
  the input file (the same path after symlinks and ``./`` are resolved, or a hard link to it),
  or that is another output of the same run, is refused.
- An existing file is replaced only when edgefx recognises it as an earlier output of the same
  kind: a video whose container ``comment`` edgefx wrote, a stats JSON (``summary`` + ``frames``),
  a PNG contact sheet with edgefx's ``Software`` text chunk, or an empty file (a run that never
  wrote a byte). Anything else needs ``--overwrite`` (``[output] overwrite = true``): unlike
  FFmpeg's ``-y`` question there is nobody to ask on an unattended device.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path

import av
import av.error

from edgefx.errors import ConfigError
from edgefx.io.recording import MARK
from edgefx.registry import scheme_of

KINDS = ("video", "stats", "image", "analysis")
"""What an output file holds: a recording, a stats JSON, a contact sheet, ``analyze`` results
(rewritten in their folder by every run, so only the input check applies)."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def local_file(url: str) -> Path | None:
    """The file an input or output URL names, or ``None`` (a camera, a stream, ``demo:``, ``null``)."""
    return Path(url.removeprefix("file://")) if scheme_of(url) == "file" else None


def check_outputs(input_url: str, outputs: Mapping[str, tuple[Path, str]], overwrite: bool = False) -> None:
    """Refuse (``ConfigError``) any output in ``outputs`` (label -> (path, kind)) that is the input
    file, another output, or an existing file that is not an earlier output of its kind."""
    source = local_file(input_url)
    seen: dict[str, Path] = {}
    for label, (path, kind) in outputs.items():
        if source is not None and same_file(path, source):
            raise ConfigError(f"{label} {path} is the input file {source}: writing it would destroy the input",
                              "write the output to another file name")
        for other, other_path in seen.items():
            if same_file(path, other_path):
                raise ConfigError(f"{label} and {other} are the same file {path}", "give each output its own name")
        seen[label] = path
        if kind == "analysis" or overwrite or not path.exists():
            continue
        if path.is_dir():
            raise ConfigError(f"{label} {path} is a folder", "give a file name")
        if not earlier_output(path, kind):
            raise ConfigError(f"{label} {path} already exists and is not an earlier edgefx {kind} output",
                              "pick another name, or add --overwrite to replace it")


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file (symlinks and ``..`` resolved, hard links included)."""
    try:
        if a.resolve() == b.resolve():
            return True
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def earlier_output(path: Path, kind: str) -> bool:
    """Whether the existing file ``path`` is one edgefx wrote as ``kind`` (or is empty)."""
    if path.stat().st_size == 0:
        return True
    if kind == "video":
        try:
            with av.open(str(path)) as c:
                tags = {key.lower(): value for key, value in c.metadata.items()}  # Matroska: COMMENT
                return tags.get("comment", "").startswith("edgefx")
        except (av.error.FFmpegError, OSError, UnicodeDecodeError):
            return False
    if kind == "stats":
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return False
        return isinstance(data, dict) and {"summary", "frames"} <= data.keys()
    if kind == "image":
        with path.open("rb") as f:
            head = f.read(256)
        return head.startswith(PNG_SIGNATURE) and b"tEXtSoftware\x00edgefx" in head
    return False


def mark_png(data: bytes) -> bytes:
    """``data`` (a PNG file) with a ``Software: edgefx`` text chunk after its header chunk, so a
    later run recognises the file as its own contact sheet."""
    if not data.startswith(PNG_SIGNATURE):
        return data
    body = b"tEXt" + b"Software\x00" + MARK.encode()
    chunk = struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))
    header_end = len(PNG_SIGNATURE) + 25  # the IHDR chunk: length, type, 13 bytes, CRC
    return data[:header_end] + chunk + data[header_end:]
