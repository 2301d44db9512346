"""Facial expressions (mouth open, smile, eyebrows raised, wink, blink, nod, shake) from the face mesh.

Result (``ctx.results["expressions"]``): a list of ``Expressions`` (face id, active names), one per face.
"""

from edgefx.plugins.expressions.hooks import edgefx_analyzers, edgefx_benchmarks

__all__ = ["edgefx_analyzers", "edgefx_benchmarks"]
