"""Reference hand landmarks from MediaPipe's own hand graph, for tests/test_hands_accuracy.py.

MediaPipe (``mediapipe==0.10.21``, the wheel the models come from) runs in a separate venv, made by
this script on first use (``MP_VENV``, default ``.mp-venv``), because its pins (NumPy 1, OpenCV
contrib, protobuf, JAX) do not fit edgefx's venv. The photos are Debian's ``opencv-doc`` (real hands,
mostly open palms) and npm ``fingerpose``'s (a fist, pointing, a half-curled index; fetched by
``tools/registry_media.py``, halved to 240x320 so every placement keeps the whole hand), placed on
a 1280x720 canvas at known scales and turns; the landmarks of each
placement (static-image mode: from the palm detection; and tracked over a few frames: from the
previous landmarks, ``*_tracked``) are written to ``tests/data/hands/reference.json``, so the test
needs neither the venv nor MediaPipe (CI stays fast), and re-running this script shows whether a
MediaPipe update changes them.

    python3 tools/hand_reference.py            # (re)writes tests/data/hands/reference.json
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from registry_media import media_dir

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "hands" / "reference.json"
HTML = "/usr/share/doc/opencv-doc/opencv4/html/"
PHOTOS = {
    # name: (file, split) -- "tune" photos were looked at while writing the analyzer, "held_out" never
    "back_projection_source": (HTML + "Back_Projection1_Source_Image.jpg", "tune"),
    "back_projection_theory0": (HTML + "Back_Projection_Theory0.jpg", "tune"),
    "back_projection_theory2": (HTML + "Back_Projection_Theory2.jpg", "tune"),
    "histogram_source0": (HTML + "Histogram_Comparison_Source_0.jpg", "tune"),
    "histogram_source1": (HTML + "Histogram_Comparison_Source_1.jpg", "held_out"),
    "histogram_source2": (HTML + "Histogram_Comparison_Source_2.jpg", "held_out"),
    "hull_original": (HTML + "Hull_Original_Image.jpg", "held_out"),
    "hand_src": (HTML + "handSrc.jpg", "held_out"),
    "hand_dst": (HTML + "handDst.jpg", "held_out"),
    "gb_occlusion": (HTML + "gbocclusion.png", "held_out"),
    "cascade_result": (HTML + "Cascade_Classifier_Tutorial_Result_Haar.jpg", "held_out"),
    "charuco_screen": (HTML + "screen_charuco.jpg", "held_out"),
    "fingerpose_fist": (str(media_dir() / "fingerpose_fullcurl.jpg"), "held_out"),
    "fingerpose_pointing": (str(media_dir() / "fingerpose_nocurl.jpg"), "held_out"),
    "fingerpose_half_curl": (str(media_dir() / "fingerpose_halfcurl.jpg"), "held_out"),
}
PLACEMENTS = [(1.0, 0.0), (2.0, 0.0), (1.5, 35.0), (1.8, -60.0), (1.2, 150.0)]
"""(scale, degrees) of each photo about its centre, on a 1280x720 grey canvas."""
CANVAS = (1280, 720)
TRACKED_FRAMES = 4
"""Frames of the same still MediaPipe tracks for the ``*_tracked`` landmarks (video mode; its legacy
hand graph does not smooth)."""


MAX_HEIGHT = 600
"""Taller photos (fingerpose's, 640 high) are halved (area resize) before placing."""


def load(path: str):
    """The photo as BGR pixels (halved if taller than ``MAX_HEIGHT``), or None if it is missing."""
    import cv2

    image = cv2.imread(path)
    if image is not None and image.shape[0] > MAX_HEIGHT:
        image = cv2.resize(image, (image.shape[1] // 2, image.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return image


def placed(image, scale: float, degrees: float):
    """The photo scaled and turned about its centre, centred on the canvas (the tests do the same)."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, scale)
    m[:, 2] += (CANVAS[0] / 2 - w / 2, CANVAS[1] / 2 - h / 2)
    return cv2.warpAffine(image, m, CANVAS, flags=cv2.INTER_LINEAR, borderValue=(90, 90, 90))


def venv_python() -> Path:
    venv = Path(os.environ.get("MP_VENV", ROOT / ".mp-venv"))
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "mediapipe==0.10.21"], check=True)
    return python


def main() -> None:
    import cv2
    import mediapipe as mp

    def graph(complexity: int, static: bool):
        return mp.solutions.hands.Hands(static_image_mode=static, max_num_hands=2, model_complexity=complexity,
                                        min_detection_confidence=0.5)

    hands = {(c, s): graph(c, s) for c in (0, 1) for s in (True, False)}
    cases = []
    for name, (path, split) in PHOTOS.items():
        photo = load(path)
        if photo is None:
            raise SystemExit(f"{path} is missing: apt-get install opencv-doc; python3 tools/registry_media.py")
        for scale, degrees in PLACEMENTS:
            image = placed(photo, scale, degrees)
            case = {"photo": name, "file": path, "split": split, "scale": scale, "degrees": degrees}
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            for complexity, static, key in ((0, True, "lite"), (1, True, "full"), (0, False, "lite_tracked"),
                                            (1, False, "full_tracked")):
                if not static:  # a new "video" each time: TRACKED_FRAMES of the still, regions from landmarks
                    hands[complexity, static].close()
                    hands[complexity, static] = graph(complexity, static)
                    for _ in range(TRACKED_FRAMES - 1):
                        hands[complexity, static].process(rgb)
                result = hands[complexity, static].process(rgb)
                found = []
                for marks, side in zip(result.multi_hand_landmarks or [], result.multi_handedness or [],
                                       strict=True):
                    found.append({"handedness": side.classification[0].label,
                                  "score": round(side.classification[0].score, 4),
                                  "landmarks": [[round(p.x * CANVAS[0], 3), round(p.y * CANVAS[1], 3),
                                                 round(p.z * CANVAS[0], 3)] for p in marks.landmark]})
                case[key] = found
            cases.append(case)
            print(name, scale, degrees, *(len(case[k]) for k in ("lite", "full", "lite_tracked", "full_tracked")),
                  flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"mediapipe": mp.__version__, "canvas": CANVAS, "cases": cases}, indent=1) + "\n")


if __name__ == "__main__":
    try:
        import mediapipe  # noqa: F401
    except ImportError:
        os.execv(str(venv_python()), [str(venv_python()), __file__, *sys.argv[1:]])
    main()
