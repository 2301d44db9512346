"""The checks tools/arm64_check.sh runs inside the emulated aarch64 system.

    python arm64_verify.py wheels            # versions; fail unless every package came from an aarch64 or pure wheel
    python arm64_verify.py effects           # the built-in effects, comma-separated
    python arm64_verify.py compare OUT --effects a,b   # decode outputs, fail unless each effect changed its frame
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
from importlib.metadata import distributions
from pathlib import Path

import av
import cv2
import numpy as np

KEY_PACKAGES = ("edgefx", "av", "numpy", "opencv-python-headless", "ai-edge-litert", "scikit-image", "pluggy")
CHANGED_LEVEL = 30          # a pixel counts as drawn on when a channel moved by more than this (0..255)
MIN_CHANGED_SHARE = 0.0005  # and a frame counts as changed when at least this share of its pixels did
CORRECTIONS = {"touchup": (3, 0.01), "relight": (3, 0.01)}
"""Effects that correct the picture instead of drawing on it (skin smoothing, exposure): a few
levels over a larger area. Their level and share: on the demo's well-lit face, touchup moves 1.7%
of the pixels by more than 4 levels and relight 3.3%, and no pixel by 30."""
SAMPLE_INDEX = 20           # the frame compared (or the last one of a shorter clip)


def wheel_platforms(dist) -> set[str]:
    """The platform parts of the tags in a distribution's WHEEL file (``any``, ``manylinux_2_17_aarch64``...)."""
    text = dist.read_text("WHEEL") or ""
    return {line.split(":", 1)[1].strip().split("-")[-1] for line in text.splitlines() if line.startswith("Tag:")}


def is_aarch64_or_pure(tag_platform: str) -> bool:
    """True for ``any`` and for PyPI's aarch64 platform tags; a wheel built here would say ``linux_aarch64``."""
    if tag_platform == "any":
        return True
    return tag_platform.startswith(("manylinux", "musllinux")) and tag_platform.endswith("aarch64")


def cmd_wheels(_: argparse.Namespace) -> int:
    print(f"machine {platform.machine()}, python {platform.python_version()}, {platform.libc_ver()[0]} "
          f"{platform.libc_ver()[1]}")
    if platform.machine() != "aarch64":
        print("FAIL: not running on aarch64")
        return 1
    bad = []
    rows = []
    for dist in sorted(distributions(), key=lambda d: d.metadata["Name"].lower()):
        name = dist.metadata["Name"]
        tags = wheel_platforms(dist)
        rows.append((name, dist.version, ",".join(sorted(tags)) or "no WHEEL file"))
        if not tags or not all(is_aarch64_or_pure(t) for t in tags):
            bad.append(name)
    key = {n.lower() for n in KEY_PACKAGES}
    print("key packages:")
    for name, ver, tags in rows:
        if name.lower() in key:
            print(f"  {name:26} {ver:12} {tags}")
    print(f"all {len(rows)} installed distributions: " + ", ".join(f"{n}=={v}" for n, v, _ in rows))
    print(f"FFmpeg in av: libavcodec {'.'.join(map(str, av.library_versions['libavcodec']))}")
    if bad:
        print(f"FAIL: not from an aarch64 or pure wheel: {', '.join(bad)}")
        return 1
    print("OK: every installed package came from a pure or manylinux/musllinux aarch64 wheel")
    return 0


def cmd_effects(_: argparse.Namespace) -> int:
    listed = json.loads(subprocess.run(["edgefx", "plugins", "list", "--json"], check=True,
                                       capture_output=True, text=True).stdout)
    names = sorted({name for plugin in listed for name in plugin["provides"].get("effect", [])})
    print(",".join(names))
    return 0


def sample_frame(path: Path, index: int) -> tuple[np.ndarray, int]:
    """Decode ``path`` and return its frame ``index`` (or the last, if shorter) as BGR, and the frame count."""
    picked, count = None, 0
    with av.open(str(path)) as container:
        for count, frame in enumerate(container.decode(video=0), start=1):
            if count - 1 <= index:
                picked = frame.to_ndarray(format="bgr24")
    if picked is None:
        raise SystemExit(f"FAIL: {path} holds no video frame")
    return picked, count


def changed_share(before: np.ndarray, after: np.ndarray, level: int = CHANGED_LEVEL) -> float:
    """Share of pixels where any channel differs by more than ``level``; both HxWx3 uint8."""
    return float((cv2.absdiff(before, after).max(axis=2) > level).mean())


def frame_times(stats: Path) -> str:
    summary = json.loads(stats.read_text())["summary"]
    ms = summary["frame_ms"]
    return f"{summary['frames']:4d} frames, frame ms p50 {ms['p50']:8.1f}  p99 {ms['p99']:8.1f}"


def cmd_compare(args: argparse.Namespace) -> int:
    out = Path(args.out)
    effects = [e for e in args.effects.split(",") if e]
    print(f"reference   {frame_times(out / 'input.json')}")
    failed = []
    for label, clip in [("all", out / "all.mp4")] + [(e, out / f"effect-{e}.mp4") for e in effects]:
        result, count = sample_frame(clip, SAMPLE_INDEX)
        index = min(SAMPLE_INDEX, count - 1)
        own = out / f"ref-{label}.mp4"  # the same run without the effect, for effects that need a setup
        reference, _ = sample_frame(own if own.exists() else out / "input.mp4", index)
        level, least = CORRECTIONS.get(label, (CHANGED_LEVEL, MIN_CHANGED_SHARE))
        share = changed_share(reference, result, level)
        ok = share >= least
        failed += [] if ok else [label]
        cv2.imwrite(str(out / f"sample-{label}.png"), np.hstack([reference, result])[::2, ::2])
        stats = clip.with_suffix(".json")
        print(f"{label:11} {frame_times(stats)}  frame {index}: {share:7.2%} of pixels changed by > {level} "
              f"{'OK' if ok else 'FAIL'}")
    stages = json.loads((out / "all.json").read_text())["summary"]["stages_ms"]
    print("all-effects run, per stage ms p50 (emulated, relative only): "
          + ", ".join(f"{name} {p['p50']:.1f}" for name, p in stages.items() if p))
    if failed:
        print(f"FAIL: no visible change from {', '.join(failed)}")
        return 1
    print(f"OK: every effect visibly changed its sampled frame ({len(effects)} effects)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(required=True)
    sub.add_parser("wheels").set_defaults(func=cmd_wheels)
    sub.add_parser("effects").set_defaults(func=cmd_effects)
    compare = sub.add_parser("compare")
    compare.add_argument("out")
    compare.add_argument("--effects", default="")
    compare.set_defaults(func=cmd_compare)
    args = parser.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
