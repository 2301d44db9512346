"""What this board offers the engine: CPU and SIMD, cores, thermal throttling, LiteRT delegates.

``edgefx doctor`` shows ``doctor_rows()`` as its "hardware" section. Every reader takes the
file or command output as text, so the parsing is the same on a Raspberry Pi and in tests.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

Row = tuple[str, str]  # (OK | WARN | FAIL | INFO, text), as in edgefx.doctor

# ARM's "CPU part" numbers (CPU implementer 0x41) of the cores found in Pis and phone-class boards.
ARM_CORES = {
    "0xd03": "Cortex-A53", "0xd04": "Cortex-A35", "0xd05": "Cortex-A55", "0xd07": "Cortex-A57",
    "0xd08": "Cortex-A72", "0xd09": "Cortex-A73", "0xd0a": "Cortex-A75", "0xd0b": "Cortex-A76",
    "0xd0d": "Cortex-A77", "0xd41": "Cortex-A78", "0xd46": "Cortex-A510", "0xd47": "Cortex-A710",
}

# Bits of `vcgencmd get_throttled` (Raspberry Pi firmware): now (0-3) and since boot (16-19).
THROTTLE_BITS = {
    0: "under-voltage now", 1: "ARM frequency capped now", 2: "throttled now", 3: "soft temperature limit now",
    16: "under-voltage has occurred", 17: "ARM frequency capping has occurred", 18: "throttling has occurred",
    19: "soft temperature limit has occurred",
}

# TFLite delegate libraries that exist for Linux boards; load_delegate() tells whether one is usable.
KNOWN_DELEGATES = (
    ("Coral Edge TPU", "libedgetpu.so.1"),
    ("Arm NN (NEON / Mali OpenCL)", "libarmnnDelegate.so"),
    ("TFLite GPU (OpenCL)", "libtensorflowlite_gpu_delegate.so"),
)

HOT_CELSIUS = 80.0  # a Pi starts soft throttling at 80 C and hard at 85 C


@dataclass
class CpuInfo:
    """The useful parts of /proc/cpuinfo."""

    model: str = ""
    cores: int = 0
    features: set[str] = field(default_factory=set)
    board: str = ""  # "Model" line of Raspberry Pi kernels, e.g. "Raspberry Pi 5 Model B Rev 1.0"


def parse_cpuinfo(text: str) -> CpuInfo:
    """Read /proc/cpuinfo text of an ARM (Features, CPU part, Model) or x86 (model name, flags) Linux."""
    info = CpuInfo()
    parts: list[str] = []
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "processor":
            info.cores += 1
        elif key in ("Features", "flags") and not info.features:
            info.features = set(value.split())
        elif key == "model name" and not info.model:
            info.model = value
        elif key == "CPU part":
            parts.append(value.lower())
        elif key == "Model":
            info.board = value
    if not info.model and parts:
        names = sorted({ARM_CORES.get(p, f"ARM part {p}") for p in parts})
        info.model = " + ".join(names)
    return info


def simd_row(arch: str, features: set[str]) -> Row:
    """Whether the vector instructions XNNPACK and OpenCV rely on are there."""
    if arch in ("aarch64", "arm64"):
        if "asimd" in features:
            extra = [f for f in ("asimddp", "asimdhp", "i8mm", "sve") if f in features]
            return "OK", "NEON (asimd) present" + (f", also {' '.join(extra)}" if extra else "")
        return "FAIL", "no asimd flag in /proc/cpuinfo: NEON missing, models will run on slow scalar kernels"
    if arch.startswith("arm"):
        if "neon" in features:
            return "OK", "NEON present (32-bit ARM)"
        return "FAIL", "no neon flag in /proc/cpuinfo: models will run on slow scalar kernels"
    if arch in ("x86_64", "amd64"):
        found = [f for f in ("sse4_1", "avx2", "fma", "avx512f") if f in features]
        return "OK" if "avx2" in features else "WARN", f"x86 SIMD: {' '.join(found) or 'no SSE4.1/AVX2'}"
    return "INFO", f"SIMD features of {arch} not checked"


def parse_throttled(output: str) -> list[Row]:
    """``vcgencmd get_throttled`` output (``throttled=0x50005``) -> one row per set bit, or one OK row."""
    value = int(output.strip().partition("=")[2], 16)
    if value == 0:
        return [("OK", "no under-voltage or throttling since boot (vcgencmd get_throttled=0x0)")]
    rows: list[Row] = []
    for bit, text in THROTTLE_BITS.items():
        if value & (1 << bit):
            rows.append(("WARN" if bit < 16 else "INFO", f"{text} (vcgencmd get_throttled={value:#x})"))
    if any(bit in (0, 16) and value & (1 << bit) for bit in THROTTLE_BITS):
        rows.append(("INFO", "under-voltage: use the official power supply (5 V 3 A on a Pi 4, 5 V 5 A on a Pi 5)"))
    return rows


def thermal_rows(sys_root: str = "/sys") -> list[Row]:
    """Throttling from ``vcgencmd`` when it exists (Raspberry Pi OS), else the kernel's thermal zones."""
    if shutil.which("vcgencmd"):
        done = subprocess.run(["vcgencmd", "get_throttled"], capture_output=True, text=True, timeout=5)
        if done.returncode == 0 and "=" in done.stdout:
            return parse_throttled(done.stdout)
    rows: list[Row] = []
    for zone in sorted(glob.glob(f"{sys_root}/class/thermal/thermal_zone*")):
        try:
            kind = Path(zone, "type").read_text().strip()
            celsius = int(Path(zone, "temp").read_text()) / 1000
        except (OSError, ValueError):
            continue
        hot = celsius >= HOT_CELSIUS
        rows.append(("WARN" if hot else "OK", f"{kind} {celsius:.1f} C" + (
            " (at the throttling limit: add a heatsink or fan)" if hot else "")))
    return rows or [("INFO", "temperature and throttling not readable here (no vcgencmd, no thermal zones)")]


def delegate_rows() -> list[Row]:
    """Which LiteRT delegates can be used: XNNPACK is built into the CPU path; the rest are libraries."""
    try:
        from ai_edge_litert.interpreter import load_delegate
        backend = "ai-edge-litert"
    except ImportError:
        try:
            from tflite_runtime.interpreter import load_delegate
            backend = "tflite-runtime"
        except ImportError:
            return [("FAIL", "no TFLite interpreter: pip install ai-edge-litert")]
    rows: list[Row] = [("OK", f"delegate XNNPACK: built into {backend}'s CPU path (used by default)")]
    for label, library in KNOWN_DELEGATES:
        try:
            ctypes.CDLL(library)  # load_delegate would print a traceback from its destructor when missing
        except OSError:
            rows.append(("INFO", f"delegate {label}: {library} not installed"))
            continue
        try:
            load_delegate(library)
        except (ValueError, RuntimeError) as exc:
            rows.append(("WARN", f"delegate {label}: {library} is installed but does not load: {exc}"))
        else:
            rows.append(("OK", f"delegate {label}: {library} loads"))
    rows.append(("INFO", "NNAPI is Android-only; the Pi's VideoCore GPU has no OpenCL driver for a GPU delegate"))
    return rows


def camera_module_rows() -> list[Row]:
    """Raspberry Pi camera modules libcamera sees (through picamera2), for the ``picamera:`` input."""
    try:
        from picamera2 import Picamera2
    except (ImportError, ValueError):
        return [("INFO", "picamera2 not importable: no camera-module input (picamera:); "
                         "USB webcams work through v4l2:// (docs/raspberry-pi.md)")]
    found = Picamera2.global_camera_info()
    if not found:
        return [("WARN", "picamera2 sees no camera module: check the ribbon cable and `rpicam-hello --list-cameras`")]
    return [("OK", f"camera module picamera:{n}: {cam.get('Model', 'unknown')}") for n, cam in enumerate(found)]


def _device_tree_model(path: str = "/proc/device-tree/model") -> str:
    """The board name ARM boards publish in their device tree (NUL-terminated), or ""."""
    try:
        return Path(path).read_bytes().rstrip(b"\0").decode(errors="replace").strip()
    except OSError:
        return ""


def doctor_rows(cpuinfo_path: str = "/proc/cpuinfo") -> list[Row]:
    """The "hardware" section of ``edgefx doctor``."""
    arch = platform.machine()
    try:
        cpu = parse_cpuinfo(Path(cpuinfo_path).read_text())
    except OSError:
        cpu = CpuInfo()
    rows: list[Row] = []
    board = cpu.board or _device_tree_model()
    if board:
        rows.append(("INFO", f"board: {board}"))
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    rows.append(("INFO", f"CPU: {cpu.model or 'unknown model'} ({arch}), {cpu.cores or os.cpu_count()} cores, "
                         f"{usable} usable by this process"))
    rows.append(simd_row(arch, cpu.features))
    rows.extend(thermal_rows())
    rows.extend(delegate_rows())
    rows.extend(camera_module_rows())
    return rows
