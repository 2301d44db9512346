"""Plugin hooks of ``face_mask``: the effect, the ``masks`` command and the benchmark."""

from __future__ import annotations

from edgefx import hookimpl


@hookimpl
def edgefx_effects():
    from edgefx.plugins.face_mask.effect import FaceMask
    return [FaceMask]


@hookimpl
def edgefx_add_commands(subparsers):
    from edgefx.plugins.face_mask.make import add_commands
    add_commands(subparsers)


@hookimpl
def edgefx_benchmarks():
    from edgefx.plugins.face_mask.bench import face_mask_benchmarks
    return face_mask_benchmarks()
