"""The model manifest (manifest.toml) ships inside the package as edgefx.model_manifest."""
