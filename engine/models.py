"""Deprecated path: ``edgefx.models`` is now ``edgefx.inference.models`` (see CHANGELOG.md).

Kept because docs/plugins.md used to tell plugin authors to load models with
``edgefx.models.TFLiteModel``; it will go in a later release.
"""

import warnings

from edgefx.inference.models import (
    FETCH_HINT,
    ModelSpec,
    TFLiteModel,
    fetch_models,
    load_manifest,
    model_path,
    model_status,
    models_dir,
)

warnings.warn("edgefx.models is deprecated: import edgefx.inference.models", DeprecationWarning, stacklevel=2)

__all__ = ["FETCH_HINT", "ModelSpec", "TFLiteModel", "fetch_models", "load_manifest", "model_path", "model_status",
           "models_dir"]
