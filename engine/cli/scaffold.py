"""``edgefx plugins new NAME``: write a ready-to-install plugin package from the templates.

The package (``edgefx-NAME/``) has a pyproject with the ``edgefx`` entry point, an analyzer
(``NAME_activity``: brightness and motion energy at reduced size), an effect (``NAME``: a
border driven by that motion), a benchmark, and tests that use ``edgefx.testing`` and pass
as generated. Template files live in ``edgefx/cli/templates/plugin``; ``__module__`` in a path
becomes the module name and ``${...}`` placeholders are filled with ``string.Template``.
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from string import Template

from edgefx import __version__
from edgefx.errors import ConfigError

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def template_values(name: str) -> dict[str, str]:
    """The placeholders for plugin ``name``: distribution, module, plugin and class names."""
    if not _NAME.match(name):
        raise ConfigError(f"plugin name {name!r} is not a lowercase identifier",
                          "use letters, digits and underscores, starting with a letter, e.g. sparkle or film_look")
    camel = "".join(part.capitalize() for part in name.split("_"))
    major_minor = ".".join(__version__.split(".")[:2])
    return {"name": name, "dist": f"edgefx-{name.replace('_', '-')}", "module": f"edgefx_{name}",
            "analyzer": f"{name}_activity", "analyzer_class": f"{camel}Activity",
            "effect": name, "effect_class": f"{camel}Border", "edgefx_version": major_minor}


def _files(folder: Traversable, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Traversable]]:
    """Every ``.tmpl`` file under ``folder`` with its relative path parts."""
    out = []
    for item in sorted(folder.iterdir(), key=lambda t: t.name):
        if item.is_dir():
            out.extend(_files(item, (*prefix, item.name)))
        elif item.name.endswith(".tmpl"):
            out.append(((*prefix, item.name.removesuffix(".tmpl")), item))
    return out


def new_plugin(name: str, parent: str | Path = ".") -> Path:
    """Create ``parent/edgefx-NAME`` from the templates and return its path.

    Raises ``ConfigError`` for a bad name or when the folder already exists.
    """
    values = template_values(name)
    root = Path(parent) / values["dist"]
    if root.exists():
        raise ConfigError(f"{root} already exists", "choose another name or --dir, or remove the folder")
    for parts, template in _files(resources.files("edgefx.cli.templates") / "plugin"):
        target = root.joinpath(*(p.replace("__module__", values["module"]) for p in parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(Template(template.read_text()).substitute(values))
    return root
