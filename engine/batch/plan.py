"""What a batch is made of: the input files (given as files, folders or globs) and, for each, the
output under ``--out`` with the input's name, mirroring the folders below the given folder or the
glob's fixed part."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from edgefx.errors import ConfigError
from edgefx.io.sink import FileSink

VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".ts", ".mts", ".m2ts", ".flv",
                            ".wmv", ".mpg", ".mpeg", ".3gp", ".ogv"})
"""What a folder walk takes as a recording (files and globs given by the user are taken as they are)."""
OUTPUT_SUFFIX = ".mp4"
"""The output container of an input whose own container edgefx does not write (e.g. .avi, .webm)."""


@dataclass(frozen=True, slots=True)
class Job:
    """One file of a batch: the input and its final output, both absolute."""

    input: Path
    output: Path

    @property
    def temp(self) -> Path:
        """Where the output is written until it is complete: hidden, beside the final name, with its
        suffix (the container follows it), so a killed batch never leaves a file that looks finished."""
        return self.output.with_name(f".{self.output.stem}.part{self.output.suffix}")


def plan_jobs(inputs: Iterable[str], out_dir: Path) -> list[Job]:
    """The jobs for ``inputs`` (files, folders walked recursively, globs) with outputs under ``out_dir``.

    Raises ``ConfigError`` for an input that does not exist, a batch with no recordings, or two
    inputs that would write the same output.
    """
    out_dir = out_dir.resolve()
    jobs: dict[Path, Job] = {}
    for arg in inputs:
        for path, base in _expand(arg, out_dir):
            path = path.resolve()
            output = out_dir / path.relative_to(base)
            if output.suffix.lower() not in FileSink.extensions:
                output = output.with_suffix(OUTPUT_SUFFIX)
            job = Job(path, output)
            other = jobs.get(output)
            if other is not None and other.input != path:
                raise ConfigError(f"{other.input} and {path} would both be written to {output}",
                                  "give their folder instead of the two files, or run them as two batches")
            jobs[output] = job
    if not jobs:
        raise ConfigError(f"no recordings found in {', '.join(inputs)}",
                          f"give video files, folders holding {', '.join(sorted(VIDEO_SUFFIXES)[:4])}... "
                          "files, or quoted globs such as 'lectures/**/*.mp4'")
    return list(jobs.values())


def _expand(arg: str, out_dir: Path) -> list[tuple[Path, Path]]:
    """``(file, folder its output name is relative to)`` for one command-line input."""
    path = Path(arg)
    if path.is_file():
        return [(path, path.resolve().parent)]
    if path.is_dir():
        base = path.resolve()
        return [(f, base) for f in sorted(path.rglob("*"))
                if f.is_file() and f.suffix.lower() in VIDEO_SUFFIXES and _wanted(f, out_dir)]
    if glob.has_magic(arg):
        base = _glob_base(path).resolve()
        return [(Path(f), base) for f in sorted(glob.glob(arg, recursive=True))
                if Path(f).is_file() and _wanted(Path(f), out_dir)]
    raise ConfigError(f"input {arg} does not exist", "give video files, folders or quoted globs ('clips/*.mp4')")


def _glob_base(pattern: Path) -> Path:
    """The fixed folders a glob starts with (``lectures/2024/*/a.mp4`` -> ``lectures/2024``)."""
    fixed = []
    for part in pattern.parent.parts:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


def _wanted(path: Path, out_dir: Path) -> bool:
    """Not a hidden file (a batch's temporary output) and not inside the output folder."""
    return not path.name.startswith(".") and not path.resolve().is_relative_to(out_dir)
