"""Presets shipped inside the package as edgefx.presets; `--config NAME` finds them."""
