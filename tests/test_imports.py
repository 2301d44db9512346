"""The import graph, read from the source with ``ast``: the layout holds what docs/architecture.md
says. No import cycles among edgefx modules (counting imports inside functions too, leaving out
``if TYPE_CHECKING:`` blocks, which never run), and plugins use only edgefx's public modules,
never another plugin's."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_PACKAGES = ("edgefx.vision", "edgefx.inference", "edgefx.io")
"""Libraries plugins may use besides the top-level modules: pixel helpers, models, sources and sinks."""
FRONT_ENDS = {"control": ("edgefx.control",), "overlay": ("edgefx.runtime.metrics",)}
"""Built-in plugins that are the front of an engine part: ``control`` starts the panel, the ``stats``
overlay draws the run's metrics."""


def modules() -> dict[str, Path]:
    """Every module of the ``edgefx`` package by dotted name (``engine/`` is ``edgefx``)."""
    found = {}
    for base, prefix in ((ROOT / "engine", "edgefx"), (ROOT / "plugins", "edgefx.plugins")):
        for path in base.rglob("*.py"):
            parts = [prefix, *path.relative_to(base).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = modules()


def imported(name: str, path: Path) -> set[str]:
    """The edgefx modules ``name`` imports anywhere in its code except under ``if TYPE_CHECKING:``."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                out.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join([*package[:len(package) - child.level + 1], *filter(None, [child.module])])
                for alias in child.names:
                    out.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
            visit(child)

    visit(ast.parse(path.read_text()))
    return {m for m in out if m in MODULES}


GRAPH = {name: imported(name, path) for name, path in MODULES.items()}


def cycles() -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while not group or group[-1] != v:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(GRAPH):
        if v not in index:
            strong(v)
    return found


def allowed_for_plugin(plugin: str, target: str) -> bool:
    """Whether plugin ``plugin`` may import module ``target``."""
    if target.startswith("edgefx.plugins."):
        return target == f"edgefx.plugins.{plugin}" or target.startswith(f"edgefx.plugins.{plugin}.")
    top = target.count(".") <= 1 and MODULES[target].parent == ROOT / "engine"
    return (target == "edgefx" or top or target == "edgefx.bench"
            or any(target == p or target.startswith(p + ".") for p in (*PUBLIC_PACKAGES, *FRONT_ENDS.get(plugin, ()))))


def test_the_walk_sees_the_package():
    assert {"edgefx.contract", "edgefx.results", "edgefx.runtime.pipeline",
            "edgefx.plugins.faces.tracker"} <= set(GRAPH)
    assert "edgefx.results" in GRAPH["edgefx.plugins.faces.tracker"]
    assert "edgefx.plugins.faces.tracker" in GRAPH["edgefx.plugins.faces.analyzer"]


def test_no_import_cycles():
    assert cycles() == []


def test_the_cycle_finder_finds_one():
    GRAPH["edgefx.errors"].add("edgefx.contract")  # contract imports errors: now a loop
    try:
        assert any({"edgefx.contract", "edgefx.errors"} <= set(group) for group in cycles())
    finally:
        GRAPH["edgefx.errors"].discard("edgefx.contract")


def test_plugins_import_only_public_edgefx_modules():
    wrong = []
    for name, targets in GRAPH.items():
        if name.startswith("edgefx.plugins."):
            plugin = name.split(".")[2]
            wrong += [f"{name} imports {t}" for t in sorted(targets) if not allowed_for_plugin(plugin, t)]
    assert wrong == []


def test_config_reads_option_tables_not_machinery():
    """``edgefx.config`` validates with Option tables: from a package it imports only its ``options``."""
    deep = {t for t in GRAPH["edgefx.config"] if t.count(".") > 1}
    assert deep and all(t.endswith(".options") for t in deep), deep


def test_at_most_12_modules_at_the_top_of_engine():
    assert len(list((ROOT / "engine").glob("*.py"))) <= 12
