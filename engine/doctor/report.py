"""``edgefx doctor``: what will and will not work on this machine, and why."""

from __future__ import annotations

import glob
import platform
import shutil
from importlib.metadata import PackageNotFoundError, version
from typing import Any

Row = tuple[str, str]  # (OK | WARN | FAIL | INFO, text)


def _version(dist: str) -> str | None:
    try:
        return version(dist)
    except PackageNotFoundError:
        return None


def software() -> list[Row]:
    """Python and the libraries the engine needs or can use."""
    import av

    rows: list[Row] = [("INFO", f"python {platform.python_version()} on {platform.system()} {platform.machine()}")]
    libs = av.library_versions
    rows.append(("OK", f"av {av.__version__} (FFmpeg libavcodec {'.'.join(map(str, libs['libavcodec']))})"))
    for dist, need in (("numpy", True), ("opencv-python-headless", True), ("pluggy", True),
                       ("ai-edge-litert", False), ("tflite-runtime", False), ("scikit-image", False),
                       ("vosk", False), ("pocketsphinx", False), ("pyvirtualcam", False)):
        got = _version(dist)
        if got:
            rows.append(("OK", f"{dist} {got}"))
        else:
            rows.append(("FAIL" if need else "INFO", f"{dist} not installed"))
    from edgefx.errors import ModelError
    from edgefx.inference.models import interpreter_backend
    try:
        name, _ = interpreter_backend()
        rows.append(("OK", f"TFLite interpreter: {name} (XNNPACK CPU)"))
    except ModelError as exc:
        rows.append(("FAIL", f"{exc.message}: {exc.hint}"))
    return rows


def codecs() -> list[Row]:
    """Encoders and formats the sinks need."""
    import av

    rows: list[Row] = []
    for codec, why in (("libx264", "H.264 files and streams"), ("aac", "audio in files and RTMP")):
        try:
            av.codec.Codec(codec, "w")
            rows.append(("OK", f"encoder {codec} ({why})"))
        except Exception:
            rows.append(("FAIL", f"encoder {codec} missing: no {why}"))
    names = {alias for entry in av.formats_available for alias in entry.split(",")}
    for fmt, why in (("v4l2", "cameras and virtual cameras"), ("alsa", "microphones"), ("flv", "RTMP"),
                     ("mpegts", "SRT/UDP streams")):
        ok = fmt in names
        rows.append(("OK" if ok else "WARN", f"format {fmt} {'available' if ok else 'missing'} ({why})"))
    from edgefx.io.stream import output_protocols

    protocols = output_protocols()
    for proto, why in (("rtmp", "RTMP streams"), ("srt", "SRT streams (else send udp:// and relay)"),
                       ("udp", "UDP streams")):
        if protocols is not None:
            ok = proto in protocols
            rows.append(("OK" if ok else "WARN", f"protocol {proto} {'available' if ok else 'missing'} ({why})"))
    return rows


def models() -> list[Row]:
    """Model files: present, missing or corrupt."""
    from edgefx.inference.models import FETCH_HINT, load_manifest, model_status, models_dir

    specs, _ = load_manifest()
    where = models_dir()
    rows: list[Row] = [("INFO", f"model cache {where}")]
    for name, spec in specs.items():
        status = model_status(spec, where)
        rows.append(("OK" if status == "present" else "FAIL",
                     f"{name}: {status}" + ("" if status == "present" else f" -> {FETCH_HINT}")))
    return rows


def devices() -> list[Row]:
    """Cameras and virtual-camera devices on this machine."""
    rows: list[Row] = []
    cams = sorted(glob.glob("/dev/video*"))
    rows.append(("OK" if cams else "WARN",
                 f"video devices: {', '.join(cams)}" if cams else
                 "no /dev/video* devices: no camera (use a file, URL, testsrc: or demo:) and no v4l2loopback"))
    if platform.system() == "Linux":
        from edgefx.io.vcam import loopback_devices

        loaded = _loopback_loaded()
        rows.append(("OK" if loaded else "WARN", "v4l2loopback module loaded" if loaded else
                     "v4l2loopback not loaded: virtual camera off -> sudo modprobe v4l2loopback video_nr=10 "
                     "card_label=edgefx exclusive_caps=1"))
        if loaded:
            found = loopback_devices()
            rows.append(("OK" if found else "WARN", f"virtual cameras: {', '.join(found)}" if found else
                         "v4l2loopback loaded but no loopback device found in /sys/class/video4linux"))
    rows.append(("OK" if shutil.which("ffprobe") else "INFO",
                 "ffprobe found (handy to inspect inputs)" if shutil.which("ffprobe") else "ffprobe not installed"))
    return rows


def _loopback_loaded() -> bool:
    try:
        with open("/proc/modules") as fh:
            return any(line.startswith("v4l2loopback ") for line in fh)
    except OSError:
        return False


def plugins(registry: Any) -> list[Row]:
    """Loaded plugins and the ones that were skipped, with the reason."""
    rows: list[Row] = []
    for rec in registry.records.values():
        provided = sum(len(v) for v in rec.provides.values())
        status = "OK" if rec.loaded and not rec.problems else ("WARN" if rec.loaded else "FAIL")
        rows.append((status, f"plugin {rec.name} ({rec.package} {rec.version}): {provided} provided"))
        rows.extend(("WARN", f"  {problem}") for problem in rec.problems)
    return rows


def report(registry: Any) -> dict[str, list[Row]]:
    """All sections of the doctor's report."""
    sections = {"software": software(), "codecs and formats": codecs(), "models": models(),
                "devices": devices(), "plugins": plugins(registry)}
    try:
        from edgefx.doctor.hardware import doctor_rows
    except ImportError:
        return sections
    sections["hardware"] = doctor_rows()
    return sections
