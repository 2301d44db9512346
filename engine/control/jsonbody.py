"""Strict JSON for control requests (HTTP bodies and WebSocket messages): UTF-8, standard JSON
only (no ``NaN``/``Infinity``, no lone surrogates), bounded size and nesting. Anything else is a ``ControlError``
with status 400 (or 413), never an exception from deep inside the server."""

from __future__ import annotations

import json
import math
from typing import Any

from edgefx.control.commands import ControlError

MAX_BYTES = 64 * 1024
MAX_DEPTH = 16


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed: numbers must be finite")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to infinity
        raise ValueError(f"{text} is not allowed: numbers must be finite")
    return value


def parse(raw: bytes | str) -> Any:
    """The JSON value in ``raw``, or ``ControlError`` saying what is wrong with it."""
    if len(raw) > MAX_BYTES:
        raise ControlError(413, f"body too large: at most {MAX_BYTES} bytes")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ControlError(400, f"body is not UTF-8 (byte {exc.start}): send UTF-8 JSON") from None
    if _depth(raw) > MAX_DEPTH:
        raise ControlError(400, f"JSON nested too deep: at most {MAX_DEPTH} levels")
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float)
    except ValueError as exc:  # JSONDecodeError, a NaN/Infinity refused above, an int of 4300+ digits
        raise ControlError(400, f"body is not valid JSON: {exc}") from None
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": an escaped lone surrogate is no text
        raise ControlError(400, "body holds an invalid Unicode escape (a lone surrogate)") from None
    return value


def _depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` outside strings (checked before parsing, so a 100,000-deep
    array never reaches the recursive decoder)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest
