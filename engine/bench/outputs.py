"""``edgefx bench --only outputs``: what a second output costs when it shares the encoder.

Three runs of ``edgefx run`` in their own processes, each a paced 1280x720 30 fps test pattern
with sound, received by Debian's ffmpeg over RTMP on 127.0.0.1: a recording alone, a stream alone
(its own encoder, in its sender process) and both at once (one encoder, see
``edgefx.io.outputs``). CPU seconds are those of the engine process and its sender processes
(``os.wait4``), not of the receiver. The second output costs ``both - recording``; encoding it
again would cost about what the stream alone costs.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from typing import Any

from edgefx.bench import Benchmark, BenchSettings


def _cpu_of_run(outputs: list[str], seconds: float, size: str) -> float:
    """CPU seconds (user + system) of one ``edgefx run`` to ``outputs``, its child processes included."""
    cmd = [sys.executable, "-m", "edgefx.cli", "run", "-i", f"testsrc:?size={size}&rate=30&duration={seconds}&audio=1",
           "--realtime", "--no-progress", "--overwrite"]
    for target in outputs:
        cmd += ["-o", target]
    run = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(run.pid, 0)
    run.returncode = os.waitstatus_to_exitcode(status)
    if run.returncode != 0:
        raise RuntimeError(f"edgefx run {' '.join(outputs)} failed with exit code {run.returncode}")
    return usage.ru_utime + usage.ru_stime


def _with_receiver(outputs: list[str], seconds: float, size: str) -> float:
    """``_cpu_of_run`` with Debian's ffmpeg listening for the stream (``RTMP`` in ``outputs``)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise RuntimeError("needs Debian's ffmpeg as the RTMP receiver: apt-get install -y ffmpeg")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"rtmp://127.0.0.1:{s.getsockname()[1]}/live/bench"
    server = None
    if "RTMP" in outputs:
        server = subprocess.Popen([ffmpeg, "-v", "error", "-listen", "1", "-i", url, "-c", "copy", "-f", "null", "-"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
    try:
        return _cpu_of_run([url if o == "RTMP" else o for o in outputs], seconds, size)
    finally:
        if server is not None:
            server.wait(timeout=20)


def bench_outputs(settings: BenchSettings) -> dict[str, Any]:
    seconds = 4.0 if settings.quick else 10.0
    size = f"{settings.width}x{settings.height}"
    rec = str(settings.out_dir / "outputs_rec.mkv")
    alone = _with_receiver([rec], seconds, size)
    stream = _with_receiver(["RTMP"], seconds, size)
    both = _with_receiver([rec, "RTMP"], seconds, size)
    second = both - alone
    return {"seconds_of_video": seconds, "size": size, "cpu_s_recording_alone": round(alone, 2),
            "cpu_s_stream_alone": round(stream, 2), "cpu_s_both_shared_encoder": round(both, 2),
            "cpu_s_second_output": round(second, 2),
            "second_output_vs_recording_pct": round(100 * second / alone, 1),
            "second_output_vs_stream_alone_pct": round(100 * second / stream, 1)}


def outputs_benchmarks() -> list[Benchmark]:
    return [Benchmark("outputs", bench_outputs,
                      "CPU of a second output (record + RTMP) sharing the encoder, against one output")]
