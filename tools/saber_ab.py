"""A/B speed of the saber analyzer and blade render: a base commit's ``plugins/saber`` against the
working tree's, at 1280x720 on one thread, each measured in its own process, alternating.

    flock /tmp/edgefx-bench.lock .venv/bin/python tools/saber_ab.py BASE [ROUNDS] [NEW_SETTINGS]

The base commit's ``plugins/saber/*.py`` are copied (``git show``) into a temporary package
``base_saber`` (its imports of ``edgefx.plugins.saber`` renamed), so both run on the same engine,
OpenCV and frames: the swinging stick with a fist over the bikes clip (``groundtruth``, 90 frames,
3 passes). Rounds alternate base and new processes; prints each process's medians (ms) and the
ratio of the medians over all rounds, new / base. ``NEW_SETTINGS``: analyzer options (JSON) for the
working tree's run only, e.g. ``'{"detector": "net"}'`` to time an option the base does not have.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import importlib, json, sys, time
from fractions import Fraction
import cv2, numpy as np
cv2.setNumThreads(1)
from edgefx.frame import Frame, FrameContext
package, frames_file, colour, extra = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
analyzer_mod = importlib.import_module(package + ".analyzer")
effect_mod = importlib.import_module(package + ".effect")
tracker_mod = importlib.import_module(package + ".tracker")
images = np.load(frames_file)
frames = [Frame(img, i, Fraction(1, 30), i) for i, img in enumerate(images)]
analyzer = analyzer_mod.SaberAnalyzer({**extra, "color": colour})
analyzer.start()
samples = []
for _ in range(3):
    for frame in frames:
        t0 = time.perf_counter()
        analyzer.analyze(frame, FrameContext(frame))
        samples.append((time.perf_counter() - t0) * 1000.0)
h, w = images.shape[1:3]
effect = effect_mod.SaberEffect({"ignite_s": 0.0})
fields = tracker_mod.Saber.__dataclass_fields__
extra = {"width": 0.032 * h} if "width" in fields else {}
frame = Frame(images[0].copy(), 0, Fraction(1, 30), 0)
render = []
for k, a in enumerate(np.tile(np.radians(np.linspace(-40, 40, 16)), 13)):
    base = (0.5 * w, 0.85 * h)
    ctx = FrameContext(frame)
    ctx.results["saber"] = tracker_mod.Saber(base, (base[0] + 0.5 * h * np.sin(a), base[1] - 0.5 * h * np.cos(a)),
                                             1.0, **extra)
    ctx.age["saber"] = 0
    t0 = time.perf_counter()
    effect.apply(frame, ctx)
    render.append((time.perf_counter() - t0) * 1000.0)
print(json.dumps({"analyzer": float(np.median(samples)), "render": float(np.median(render))}))
"""


def main() -> int:
    base, rounds = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
    new_settings = sys.argv[3] if len(sys.argv) > 3 else "{}"
    import numpy as np

    from edgefx.plugins.saber.evaluate import calibrated_color
    from edgefx.plugins.saber.groundtruth import render_sequence

    with tempfile.TemporaryDirectory() as tmp:
        package = Path(tmp) / "base_saber"
        package.mkdir()
        names = subprocess.run(["git", "ls-tree", "--name-only", f"{base}:plugins/saber"], capture_output=True,
                               text=True, check=True).stdout.split()
        for name in names:
            if name.endswith(".py"):
                text = subprocess.run(["git", "show", f"{base}:plugins/saber/{name}"], capture_output=True,
                                      text=True, check=True).stdout
                (package / name).write_text(text.replace("edgefx.plugins.saber", "base_saber"))
        frames_file = Path(tmp) / "frames.npy"
        seq = render_sequence("circle", 90, size=(1280, 720), background="bikes", seed=21)
        np.save(frames_file, np.stack([t.image for t in seq]))
        colour = json.dumps(calibrated_color())
        results: dict[str, list[dict[str, float]]] = {"base": [], "new": []}
        for _ in range(rounds):
            for variant, module, extra in (("base", "base_saber", "{}"), ("new", "edgefx.plugins.saber", new_settings)):
                done = subprocess.run([sys.executable, "-c", CHILD, module, str(frames_file), colour, extra],
                                      capture_output=True, text=True, check=True, cwd=tmp)
                results[variant].append(json.loads(done.stdout.strip().splitlines()[-1]))
                print(variant, results[variant][-1], flush=True)
    summary = {}
    for part in ("analyzer", "render"):
        b = statistics.median(r[part] for r in results["base"])
        n = statistics.median(r[part] for r in results["new"])
        summary[part] = {"base_ms": round(b, 3), "new_ms": round(n, 3), "ratio": round(n / b, 3)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
