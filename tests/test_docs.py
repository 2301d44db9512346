"""The plugin docs keep up with the code: the hook reference is current, every hook has a
docstring (with an example) and a test, and the authors' guide covers the kit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import edgefx.testing
from edgefx import hookspecs

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import hookdocs  # noqa: E402

HOOKDOCS = str(ROOT / "tools" / "hookdocs.py")
HOOKS = [name for name in vars(hookspecs) if name.startswith("edgefx_")]
HOOK_TESTS = set(re.findall(r"^def (test_hook_\w+)\(", (ROOT / "tests" / "test_authoring_hooks.py").read_text(),
                            re.MULTILINE))
GUIDE = (ROOT / "docs" / "plugins.md").read_text()


def test_there_are_hooks_to_check():
    assert {"edgefx_effects", "edgefx_analyzers", "edgefx_startup", "edgefx_event"} <= set(HOOKS)


def test_hooks_md_is_current():
    expected = hookdocs.render()
    current = (ROOT / "docs" / "hooks.md").read_text()
    assert current == expected, "docs/hooks.md is stale: run `python tools/hookdocs.py`"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_docstring_with_an_example(hook):
    doc = getattr(hookspecs, hook).__doc__ or ""
    assert doc.strip(), f"{hook} has no docstring in engine/hookspecs.py"
    assert "Example::" in doc and "@edgefx.hookimpl" in doc, f"{hook}'s docstring needs an Example:: block"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_has_a_test(hook):
    assert f"test_hook_{hook}" in HOOK_TESTS, f"add test_hook_{hook} to tests/test_authoring_hooks.py"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_in_the_reference(hook):
    assert f"\n### {hook}\n" in (ROOT / "docs" / "hooks.md").read_text()


def test_check_mode_fails_on_a_stale_file(tmp_path):
    out = tmp_path / "hooks.md"
    check = [sys.executable, HOOKDOCS, "--out", str(out), "--check"]
    assert subprocess.run(check, capture_output=True).returncode == 1  # missing
    subprocess.run([sys.executable, HOOKDOCS, "--out", str(out)], check=True, capture_output=True)
    assert subprocess.run(check, capture_output=True).returncode == 0
    out.write_text(out.read_text().replace("Return the effect classes", "Return effects"))
    stale = subprocess.run(check, capture_output=True, text=True)
    assert stale.returncode == 1 and "python tools/hookdocs.py" in stale.stderr


def test_markdown_conversion_of_rest_bits():
    doc = "Uses ``name``.\n\nExample::\n\n    @edgefx.hookimpl\n    def f():\n        return 1\n\nAfter."
    assert hookdocs.to_markdown(doc) == ("Uses `name`.\n\nExample:\n\n```python\n@edgefx.hookimpl\ndef f():\n"
                                         "    return 1\n```\n\nAfter.")


@pytest.mark.parametrize("helper", ["photo", "sample_frames", "sample_clip", "FakeClock", "run_plugin",
                                    "measure_cost", "PluginRun"])
def test_guide_covers_every_testing_helper(helper):
    assert hasattr(edgefx.testing, helper)
    assert f"`{helper}" in GUIDE, f"docs/plugins.md does not mention edgefx.testing.{helper}"


@pytest.mark.parametrize("step", ["edgefx plugins new", "pip install", "[project.entry-points.edgefx]",
                                  "edgefx plugins show", "edgefx run", "pytest", "edgefx bench", "twine upload",
                                  "max_failures", "slow_plugins", "expected_ms", "hooks.md"])
def test_guide_walks_from_zero_to_published(step):
    assert step in GUIDE


ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` (``edgefx.x.y`` or ``edgefx.x.y.name``) is a module or a name in one."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_architecture_names_only_what_exists():
    named = set(re.findall(r"\bedgefx(?:\.[A-Za-z_]\w*)+", ARCHITECTURE))
    assert len(named) > 15
    assert [name for name in sorted(named) if not _resolves(name)] == []


def test_architecture_shows_every_module():
    """Each module of the engine (top-level and in its packages) and each plugin appears on the page."""
    words = set(re.findall(r"\w+", ARCHITECTURE))
    engine = ROOT / "engine"
    modules = {p.stem for p in engine.glob("*.py")} | {p.name for p in engine.iterdir() if (p / "__init__.py").exists()}
    for package in [p for p in engine.iterdir() if (p / "__init__.py").exists()]:
        modules |= {p.stem for p in package.glob("*.py")}
    plugins = {p.stem for p in (ROOT / "plugins").iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    missing = sorted((modules | plugins) - words - {"__init__", "__main__"})
    assert missing == [], f"docs/architecture.md does not show: {', '.join(missing)}"
