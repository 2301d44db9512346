"""Which analyzers a run needs, and in which order: the one place analyzer ``requires`` is read."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from edgefx.errors import ConfigError


def resolve_analyzers(wanted: Iterable[str], requires: Callable[[str], Iterable[str]]) -> list[str]:
    """``wanted`` and every analyzer they require, transitively, each after its requirements
    (the order the loop runs them in). ``requires(name)`` gives one analyzer's ``requires``; it may
    raise (``Registry.analyzer`` raises ``ConfigError`` for an unknown name). Analyzers that
    require each other in a cycle are a ``ConfigError`` that names the cycle."""
    order: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in order:
            return
        if name in path:
            cycle = " -> ".join((*path[path.index(name):], name))
            raise ConfigError(f"analyzers require each other in a cycle: {cycle}",
                              "remove one of these names from the other's `requires`")
        for dep in requires(name):
            visit(dep, (*path, name))
        order.append(name)

    for name in wanted:
        visit(name, ())
    return order
