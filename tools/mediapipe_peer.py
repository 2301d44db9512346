"""edgefx against the same job as a plain MediaPipe-solutions pipeline, on one core, whole processes.

The job: background blur (person segmentation) and a face effect (the face mesh), a 1280x720 clip
decoded and encoded with PyAV (libx264 veryfast, one encoder thread). The peer is what a developer
writes with ``mediapipe.solutions`` (``SelfieSegmentation`` landscape model, ``FaceMesh``, the
solutions' own mesh drawing) and PyAV; its blur is the same kind as edgefx's (a box blur at a
quarter of the size, scaled back) so that the comparison is of the pipelines, not of blur kernels.

Run from edgefx's venv (``.venv/bin/python tools/mediapipe_peer.py``). MediaPipe runs in its own venv
(``MP_VENV``, default ``.mp-venv``, made on first use: its pins do not fit edgefx's). Both sides run
under ``taskset -c 0`` as alternating whole processes (start-up included, as a user waits for it);
the figure is the ratio of the median wall times, from one run of this script.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BLUR_SCALE, BLUR_KSIZE = 4, 9


def venv_python() -> Path:
    """The MediaPipe venv's python, made with ``mediapipe==0.10.21`` and PyAV on first use."""
    venv = Path(os.environ.get("MP_VENV", ROOT / ".mp-venv"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "mediapipe==0.10.21", "av"], check=True)
    return python


def peer(src: str, dst: str) -> None:
    """The MediaPipe-solutions pipeline (runs inside the MediaPipe venv)."""
    import av
    import cv2
    import mediapipe as mp
    import numpy as np

    seg = mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=1)
    mesh = mp.solutions.face_mesh.FaceMesh(max_num_faces=1)
    draw, styles = mp.solutions.drawing_utils, mp.solutions.drawing_styles
    with av.open(src) as inp, av.open(dst, "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream("libx264", rate=vin.average_rate or 30)
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        vout.options = {"preset": "veryfast"}
        vout.codec_context.thread_count = 1
        for frame in inp.decode(vin):
            rgb = frame.to_ndarray(format="rgb24")
            rgb.flags.writeable = False
            mask = seg.process(rgb).segmentation_mask
            faces = mesh.process(rgb)
            h, w = rgb.shape[:2]
            small = cv2.resize(rgb, (w // BLUR_SCALE, h // BLUR_SCALE), interpolation=cv2.INTER_AREA)
            blurred = cv2.resize(cv2.blur(small, (BLUR_KSIZE, BLUR_KSIZE)), (w, h), interpolation=cv2.INTER_LINEAR)
            alpha = mask[:, :, None]
            image = (rgb * alpha + blurred * (1.0 - alpha)).astype(np.uint8)
            for landmarks in faces.multi_face_landmarks or ():
                draw.draw_landmarks(image, landmarks, mp.solutions.face_mesh.FACEMESH_TESSELATION, None,
                                    styles.get_default_face_mesh_tesselation_style())
            out.mux(vout.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(vout.encode(None))


def make_input(path: Path, seconds: float) -> None:
    """A 1280x720 clip of edgefx's demo input (scikit-image's astronaut, moving), no effects."""
    subprocess.run([str(ROOT / ".venv" / "bin" / "edgefx"), "run", "-i", f"demo:?seconds={seconds:g}",
                    "--width", "1280", "--height", "720", "-o", str(path), "--effects", "", "--overwrite"],
                   check=True, capture_output=True)


def timed(cmd: list[str]) -> float:
    """Wall seconds of one whole process on core 0."""
    start = time.perf_counter()
    done = subprocess.run(["taskset", "-c", "0", *cmd], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({done.returncode}): {done.stderr[-800:]}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", nargs=2, metavar=("IN", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--input", type=Path, help="a 1280x720 clip (default: the demo, 8 s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "out" / "mediapipe_peer")
    args = parser.parse_args()
    if args.peer:
        peer(*args.peer)
        return
    args.out.mkdir(parents=True, exist_ok=True)
    clip = args.input or args.out / "input.mp4"
    if args.input is None and not clip.exists():
        make_input(clip, 8.0)
    mp_cmd = [str(venv_python()), __file__, "--peer", str(clip), str(args.out / "peer.mp4")]
    edgefx_cmd = [str(ROOT / ".venv" / "bin" / "edgefx"), "run", "-i", str(clip), "-o", str(args.out / "edgefx.mp4"),
                  "--effects", "background,face_mask", "--set", "output.threads=1", "--overwrite"]
    timed(mp_cmd)  # warm the page cache and MediaPipe's first-run set-up; not counted
    results: dict[str, list[float]] = {"mediapipe": [], "edgefx": []}
    for _ in range(args.rounds):
        results["mediapipe"].append(timed(mp_cmd))
        results["edgefx"].append(timed(edgefx_cmd))
    a, b = statistics.median(results["mediapipe"]), statistics.median(results["edgefx"])
    for name, times in results.items():
        print(f"{name:10s} wall s: {', '.join(f'{t:.2f}' for t in times)}  (median {statistics.median(times):.2f})")
    print(f"edgefx is {a / b:.2f}x as fast as the MediaPipe-solutions pipeline (one core, whole processes)")


if __name__ == "__main__":
    main()
