"""Models: the pinned manifest, fetching into the cache, and running TFLite models with LiteRT.

- ``models``: ``load_manifest``, ``fetch_models``, ``models_dir``, ``TFLiteModel``;
- ``rewrite``: rewrites a model the LiteRT runtime cannot run as shipped.
"""
