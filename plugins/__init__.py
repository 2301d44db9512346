"""Built-in plugins. Each is registered through the ``edgefx`` entry-point group in
pyproject.toml, exactly like a third-party plugin, and knows nothing of the others."""
