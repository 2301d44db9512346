"""edgefx.doctor.hardware: the hardware section of `edgefx doctor`, read from this machine's real /proc and /sys,
plus the ARM and Raspberry Pi formats it must also understand."""

import os
import platform
from pathlib import Path

from edgefx.cli.main import main
from edgefx.doctor.hardware import (
    KNOWN_DELEGATES,
    delegate_rows,
    doctor_rows,
    parse_cpuinfo,
    parse_throttled,
    simd_row,
    thermal_rows,
)

# /proc/cpuinfo of a Raspberry Pi 4 Model B (64-bit Raspberry Pi OS): four identical core blocks, then the board.
PI4_CPUINFO = "".join(f"""processor\t: {n}
BogoMIPS\t: 108.00
Features\t: fp asimd evtstrm crc32 cpuid
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd08
CPU revision\t: 3

""" for n in range(4)) + """Revision\t: c03114
Serial\t\t: 100000002f1a5b3c
Model\t\t: Raspberry Pi 4 Model B Rev 1.4
"""

PI5_FEATURES = "fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp"


def test_this_machines_cpuinfo_is_read():
    text = Path("/proc/cpuinfo").read_text()
    cpu = parse_cpuinfo(text)
    assert cpu.cores == text.count("\nprocessor") + text.startswith("processor") == os.cpu_count()
    assert cpu.model and cpu.features
    status, _ = simd_row(platform.machine(), cpu.features)
    assert status in ("OK", "WARN")


def test_raspberry_pi_4_cpuinfo():
    cpu = parse_cpuinfo(PI4_CPUINFO)
    assert (cpu.cores, cpu.model, cpu.board) == (4, "Cortex-A72", "Raspberry Pi 4 Model B Rev 1.4")
    assert simd_row("aarch64", cpu.features) == ("OK", "NEON (asimd) present")


def test_neon_extras_and_missing_neon():
    pi5 = parse_cpuinfo(f"processor\t: 0\nFeatures\t: {PI5_FEATURES}\nCPU part\t: 0xd0b\n")
    assert pi5.model == "Cortex-A76"
    assert simd_row("aarch64", pi5.features) == ("OK", "NEON (asimd) present, also asimddp asimdhp")
    assert simd_row("aarch64", {"fp", "cpuid"})[0] == "FAIL"
    assert simd_row("armv7l", {"half", "thumb", "vfp", "neon"})[0] == "OK"


def test_throttled_bits_from_vcgencmd():
    assert parse_throttled("throttled=0x0\n")[0][0] == "OK"
    rows = parse_throttled("throttled=0x50005\n")
    texts = [text for _, text in rows]
    assert [s for s, _ in rows][:2] == ["WARN", "WARN"]
    assert texts[0].startswith("under-voltage now") and texts[1].startswith("throttled now")
    assert any(t.startswith("under-voltage has occurred") for t in texts)
    assert any(t.startswith("throttling has occurred") for t in texts)
    assert any("power supply" in t for t in texts)


def test_thermal_zones(tmp_path):
    for n, (kind, milli) in enumerate([("cpu-thermal", "52100"), ("gpu-thermal", "83500")]):
        zone = tmp_path / "class" / "thermal" / f"thermal_zone{n}"
        zone.mkdir(parents=True)
        (zone / "type").write_text(kind + "\n")
        (zone / "temp").write_text(milli + "\n")
    rows = thermal_rows(str(tmp_path))
    assert rows[0] == ("OK", "cpu-thermal 52.1 C")
    assert rows[1][0] == "WARN" and rows[1][1].startswith("gpu-thermal 83.5 C")
    assert thermal_rows(str(tmp_path / "nothing"))[0][0] == "INFO"


def test_delegates_on_this_machine():
    rows = delegate_rows()
    assert rows[0][0] == "OK" and "XNNPACK" in rows[0][1]
    for label, library in KNOWN_DELEGATES:
        assert any(label in text and library in text for _, text in rows)


def test_doctor_shows_the_hardware_section(capsys):
    rows = doctor_rows()
    assert any(f"{os.cpu_count()} cores" in text and platform.machine() in text for _, text in rows)
    main(["doctor"])
    out = capsys.readouterr().out
    assert "\nhardware\n" in out and "delegate XNNPACK" in out


def test_board_name_from_the_device_tree(tmp_path):
    from edgefx.doctor.hardware import _device_tree_model

    model = tmp_path / "model"
    model.write_bytes(b"Raspberry Pi 5 Model B Rev 1.0\0")
    assert _device_tree_model(str(model)) == "Raspberry Pi 5 Model B Rev 1.0"
    assert _device_tree_model(str(tmp_path / "absent")) == ""


def test_camera_modules_row_without_picamera2():
    import importlib.util

    from edgefx.doctor.hardware import camera_module_rows

    rows = camera_module_rows()
    if importlib.util.find_spec("picamera2") is None:
        assert rows == [("INFO", rows[0][1])] and "v4l2://" in rows[0][1]
    else:
        assert all(status in ("OK", "WARN") for status, _ in rows)


def test_doctor_says_which_stream_protocols_this_ffmpeg_has(capsys):
    """PyAV's FFmpeg here has RTMP and UDP but no libsrt: the doctor says so before a stream fails."""
    from edgefx.io.stream import output_protocols

    main(["doctor"])
    out = capsys.readouterr().out
    protocols = output_protocols()
    assert protocols is not None and {"rtmp", "udp"} <= protocols
    for proto in ("rtmp", "srt", "udp"):
        state = "available" if proto in protocols else "missing"
        assert f"protocol {proto} {state}" in out
