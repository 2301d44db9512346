"""Declared options: plugins and the engine say which settings they take, and values are checked once."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

from edgefx.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its default, a help line, and what values are allowed.

    The type is the default's type (an ``int`` default also accepts nothing but ints;
    a ``float`` default accepts ints too). ``choices`` limits to a set; ``min``/``max``
    bound numbers. ``type`` overrides the inferred type, e.g. ``str | None`` defaults.
    Numbers must be finite: NaN and infinities are refused everywhere (presets, ``--set``, the
    control API), also inside lists.

    ``media=True`` declares that the value names a file (a list of files for list options).
    A preset may give any path; the control API accepts only files inside the ``[control] media``
    folders (resolved through symlinks), or one of the built-in ``names`` (e.g. the shipped masks).
    Every option that opens a file must say so: only these options take a path over the API.

    ``widget="colour"`` marks a ``[B, G, R]`` colour, so the control panel shows a colour picker.

    ``validate`` checks what the table cannot say (e.g. that a named asset exists): it gets a value
    that passed the other checks and raises ``ValueError`` saying what is wrong (the message follows
    ``KEY = VALUE:``), or ``ConfigError`` when its own hint says better what to do.

    >>> Option(0.5, "mask threshold", min=0.0, max=1.0).check("threshold", 0.7)
    0.7
    """

    default: Any
    help: str
    choices: tuple[Any, ...] | None = None
    min: float | None = None
    max: float | None = None
    type: type | tuple[type, ...] | None = None
    validate: Callable[[Any], None] | None = None
    media: bool = False
    names: Callable[[], Iterable[str]] | None = None
    """For ``media`` options: the built-in values that are not files (e.g. shipped asset names)."""
    widget: str | None = None
    """How the control panel shows the option when its type alone does not say: ``"colour"`` for
    a ``[B, G, R]`` colour (0-255 each; a colour picker)."""

    def allowed(self) -> str:
        """A short phrase describing the allowed values, for error messages and docs."""
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        kind = self.types()
        names = " or ".join(t.__name__ for t in kind)
        if self.min is not None and self.max is not None:
            return f"{names} from {self.min} to {self.max}"
        if self.min is not None:
            return f"{names} >= {self.min}"
        if self.max is not None:
            return f"{names} <= {self.max}"
        return names

    def types(self) -> tuple[type, ...]:
        """The Python types a value may have (from ``type``, else from the default)."""
        if self.type is not None:
            return self.type if isinstance(self.type, tuple) else (self.type,)
        if isinstance(self.default, bool):
            return (bool,)
        if isinstance(self.default, float):
            return (float, int)
        if isinstance(self.default, tuple | list):
            return (list, tuple)
        return (type(self.default),)

    def check(self, key: str, value: Any) -> Any:
        """Return ``value`` (floats for float options) or raise ``ValueError`` saying what is allowed."""
        types = self.types()
        ok_type = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
        if not ok_type or (self.choices is not None and value not in self.choices):
            raise ValueError(f"{key} = {value!r} is not allowed; expected {self.allowed()}")
        if not finite(value):
            raise ValueError(f"{key} = {value!r} is not allowed: numbers must be finite (no NaN or infinity); "
                             f"expected {self.allowed()}")
        if isinstance(value, int | float) and not isinstance(value, bool):
            if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
                raise ValueError(f"{key} = {value!r} is out of range; expected {self.allowed()}")
            if float in types and isinstance(value, int):
                if abs(value) > 2**1023:
                    raise ValueError(f"{key} = {value!r} is too large; expected {self.allowed()}")
                value = float(value)
        if self.validate is not None:
            try:
                self.validate(value)
            except ConfigError as exc:
                raise ConfigError(f"{key} = {value!r}: {exc.message}", exc.hint) from None
            except ValueError as exc:
                raise ValueError(f"{key} = {value!r}: {exc}") from None
        return value


def finite(value: Any) -> bool:
    """Whether every float in ``value`` (a number, or lists/tuples/dicts of them) is finite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list | tuple):
        return all(finite(v) for v in value)
    if isinstance(value, Mapping):
        return all(finite(v) for v in value.values())
    return True


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'background'? "`` for the closest of ``known`` to a mistyped ``name`` (difflib),
    or ``""`` when none is close."""
    close = get_close_matches(name, list(known), n=1)
    return f"did you mean {close[0]!r}? " if close else ""


def resolve_options(owner: str, declared: Mapping[str, Option], given: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``given`` over the declared defaults, validating each value.

    Raises ``ConfigError`` naming ``owner``, the key and what is allowed.
    """
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        guess = did_you_mean(unknown[0], declared)
        raise ConfigError(
            f"{owner}: unknown option {unknown[0]!r}",
            f"{guess}options of {owner} are: {known} (see `edgefx plugins show {owner.strip('[]')}`)",
        )
    values = {key: opt.default for key, opt in declared.items()}
    for key, value in given.items():
        try:
            values[key] = declared[key].check(key, value)
        except ConfigError as exc:
            raise ConfigError(f"{owner}: {exc.message}", exc.hint) from None
        except ValueError as exc:
            raise ConfigError(f"{owner}: {exc}", f"set {key} to {declared[key].allowed()}") from None
    return values
