"""Control commands: checked on the server thread, applied on the loop thread.

``check`` turns a request (a dict from HTTP or WebSocket) into an ``Event`` for the bus or
raises ``ControlError`` with the HTTP status to answer. Checking only reads the effects;
changes happen in ``apply``, which the control plugin calls from ``edgefx_event`` on the
loop's thread between frames, so no effect is changed in the middle of drawing a frame.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from edgefx.contract import Effect
from edgefx.errors import ConfigError
from edgefx.events import Event
from edgefx.options import Option, resolve_options

CONTROL_EVENT = "control"
EVENT_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_PATH = 1024
MAX_FILES = 500
"""At most this many media files are listed to the panel."""


class ControlError(Exception):
    """A refused command: ``status`` is the HTTP status (400 bad value, 404 unknown effect, 409 an
    effect isolation disabled)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def describe(effects: Mapping[str, Effect], folders: Sequence[Path] = (),
             disabled: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Every effect with its state and options: value, default, what is allowed, help, the value's
    ``type`` (Python type names) and how the panel shows it (``control``, see ``control_of``).
    ``disabled``: plugins the run's isolation switched off for failing, with why (then the effect
    is off and ``disabled`` says why; otherwise ``disabled`` is ``None``)."""
    disabled = disabled or {}
    files = media_files(folders)
    out = []
    for name, effect in effects.items():
        options = {key: {"value": effect.settings.get(key), "default": opt.default, "allowed": opt.allowed(),
                         "help": opt.help, "choices": list(opt.choices) if opt.choices else None,
                         "min": opt.min, "max": opt.max, "media": opt.media,
                         "type": [t.__name__ for t in opt.types()], **control_of(opt, files)}
                   | ({"selected": media_name(effect.settings.get(key), folders)} if opt.media else {})
                   for key, opt in effect.options.items()}
        out.append({"name": name, "enabled": effect.enabled and name not in disabled, "disabled": disabled.get(name),
                    "layer": effect.layer.name.lower(), "options": options})
    return out


def control_of(option: Option, files: Sequence[str] = ()) -> dict[str, Any]:
    """How the panel shows ``option``: ``{"control": ...}`` plus what that control needs.

    ``colour`` (a colour picker sending ``[B, G, R]``), ``media`` (a dropdown of ``names`` and
    ``files``; ``multiple`` for list options), ``select`` (``choices``), ``checkbox``, ``slider``
    (numbers bounded on both sides, with ``step``), ``number``, ``list`` (comma-separated) or ``text``.
    """
    types = option.types()
    if option.widget == "colour":
        return {"control": "colour"}
    if option.media:
        names = list(option.names()) if option.names is not None else []
        return {"control": "media", "multiple": isinstance(option.default, list), "names": names,
                "files": list(files)}
    if option.choices is not None:
        return {"control": "select"}
    if bool in types:
        return {"control": "checkbox"}
    if set(types) <= {int, float}:
        if option.min is None or option.max is None:
            return {"control": "number"}
        if float not in types:
            return {"control": "slider", "step": 1}
        return {"control": "slider", "step": 10.0 ** math.floor(math.log10((option.max - option.min) / 100))}
    if list in types and str not in types:
        return {"control": "list"}
    return {"control": "text"}


def media_name(value: Any, folders: Sequence[Path]) -> Any:
    """A media option's value as the panel lists it: a file inside a media folder by its path
    relative to that folder (lists item by item); anything else as it is."""
    if isinstance(value, list):
        return [media_name(v, folders) for v in value]
    if isinstance(value, str) and Path(value).is_absolute():
        for folder in folders:
            with contextlib.suppress(OSError, ValueError):
                return Path(value).relative_to(folder.resolve()).as_posix()
    return value


def media_files(folders: Sequence[Path], limit: int = MAX_FILES) -> list[str]:
    """The files inside the media ``folders`` (paths relative to their folder, as ``media_path``
    takes them; hidden files and links that lead outside are left out), sorted, at most ``limit``."""
    found: set[str] = set()
    for folder in folders:
        try:
            root = folder.resolve()
            for path in root.rglob("*"):
                rel = path.relative_to(root)
                if any(part.startswith(".") for part in rel.parts) or not path.is_file():
                    continue
                if path.resolve().is_relative_to(root):
                    found.add(rel.as_posix())
                if len(found) >= limit:
                    break
        except OSError:  # a folder that does not exist (yet) lists nothing
            continue
    return sorted(found)[:limit]


def media_path(path: Any, folders: Sequence[Path]) -> Path:
    """``path`` (relative to one of the media ``folders``) resolved, or ``ControlError``: no absolute
    paths, no ``..``, no URLs or pseudo-protocols (``pipe:``, ``data:``), no symlink escapes, and the
    file must exist."""
    if not isinstance(path, str) or not path:
        raise ControlError(400, "path must be a non-empty string relative to a media folder")
    if len(path) > MAX_PATH or not path.isprintable():
        raise ControlError(400, f"path is not allowed: at most {MAX_PATH} printable characters, "
                                "relative to a media folder")
    rel = Path(path)
    if rel.is_absolute() or path.startswith(("~", "\\")) or ".." in rel.parts or ":" in path:
        raise ControlError(400, f"path {path!r} is not allowed: give it relative to a media folder, "
                                "without '..' or a URL scheme")
    for folder in folders:
        try:
            root = folder.resolve()
            candidate = (root / rel).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return candidate
        except (OSError, ValueError):  # a name too long for the file system, a loop of links
            continue
    names = ", ".join(str(f) for f in folders) or "none configured ([control] media)"
    raise ControlError(400, f"path {path!r} is not a file inside the media folders ({names})")


def media_value(value: Any, option: Option, folders: Sequence[Path]) -> Any:
    """The value of a ``media`` option as the control API accepts it: each file name resolved
    inside the media folders (``media_path``), built-in ``names`` as they are; other types are
    left to the option's own check."""
    if isinstance(value, list):
        return [media_value(v, option, folders) for v in value]
    if not isinstance(value, str) or (option.names is not None and value in option.names()):
        return value
    return str(media_path(value, folders))


def check(request: Mapping[str, Any], effects: Mapping[str, Effect], folders: Sequence[Path],
          words: Sequence[str] | None = None, disabled: Mapping[str, str] | None = None) -> Event:
    """Validate one command and return the bus event that carries it (with a reply ``Future``).
    ``words``: the keywords of the run's ``[[triggers]]`` rules; a trigger of another word is
    refused (``None``: any word). ``disabled``: plugins isolation switched off, with why; switching
    one on is refused (409), as it would not run again."""
    cmd = request.get("cmd")
    if cmd in ("event", "hotkey", "trigger"):
        return _plain_event(cmd, request, words)
    name = request.get("effect")
    if not isinstance(name, str) or name not in effects:
        raise ControlError(404, f"unknown effect {name!r}; enabled in this run: {', '.join(effects) or 'none'}")
    effect = effects[name]
    if cmd == "toggle":
        enabled = request.get("enabled", not effect.enabled)
        if not isinstance(enabled, bool):
            raise ControlError(400, "enabled must be true or false")
        if enabled and disabled and name in disabled:
            raise ControlError(409, f"{name} was disabled for the rest of the run: {disabled[name]}; fix it "
                                    "and restart the run to use it again (the log has the traceback)")
        action: dict[str, Any] = {"action": "enable", "effect": name, "value": enabled}
    elif cmd in ("set", "media"):
        key = request.get("option")
        if not isinstance(key, str) or key not in effect.options:
            raise ControlError(400, f"{name} has no option {key!r}; options: {', '.join(effect.options) or 'none'}")
        option = effect.options[key]
        if cmd == "media" and not option.media:
            files = ", ".join(k for k, o in effect.options.items() if o.media) or "none"
            raise ControlError(400, f"{name}.{key} does not take a file; options of {name} that do: {files}")
        value: Any = request.get("path") if cmd == "media" else request.get("value")
        if option.media:
            value = media_value([value] if cmd == "media" and isinstance(option.default, list) else value,
                                option, folders)
        try:
            resolve_options(name, effect.options, {**effect.settings, key: value})
        except ConfigError as exc:
            raise ControlError(400, f"{exc.message} ({exc.hint})") from None
        action = {"action": "option", "effect": name, "key": key, "value": value}
    else:
        raise ControlError(400, f"unknown command {cmd!r}; commands: toggle, set, media, trigger, event, hotkey")
    return Event(CONTROL_EVENT, source="control", data={**action, "reply": Future()})


def _plain_event(cmd: str, request: Mapping[str, Any], words: Sequence[str] | None = None) -> Event:
    """A trigger word (as if spoken: the ``[[triggers]]`` keyword rules fire), a hotkey, or any
    other event name plugins listen to."""
    data = request.get("data") or {}
    if not isinstance(data, dict):
        raise ControlError(400, "data must be an object")
    if cmd == "trigger":
        word = request.get("word")
        if not isinstance(word, str) or not EVENT_NAME.match(word):
            raise ControlError(400, f"trigger word {word!r} is not allowed: letters, digits, _.:-")
        if words is not None and word.strip().lower() not in words:
            known = ", ".join(words) if words else "none: this run has no [[triggers]] keyword rules"
            raise ControlError(400, f"no trigger fires on {word!r}; the configured trigger words are: {known}")
        return Event("trigger", source="control", data={**data, "word": word})
    if cmd == "hotkey":
        key = request.get("key")
        if not isinstance(key, str) or not 0 < len(key) <= 16:
            raise ControlError(400, "key must be a short string such as 'b' or 'F1'")
        return Event("hotkey", source="control", data={**data, "key": key})
    name = request.get("name")
    if not isinstance(name, str) or not EVENT_NAME.match(name) or name == CONTROL_EVENT:
        raise ControlError(400, f"event name {name!r} is not allowed: letters, digits, _.:- (not 'control')")
    return Event(name, source="control", data=data)


def apply(event: Event, effects: Mapping[str, Effect]) -> None:
    """Carry out a checked command on the loop thread and settle its reply with the effect's state."""
    data = event.data
    reply: Future = data["reply"]
    try:
        effect = effects[data["effect"]]
        if data["action"] == "enable":
            effect.set_enabled(data["value"])
        else:
            effect.set_option(data["key"], data["value"])
        reply.set_result({"effect": effect.name, "enabled": effect.enabled, "settings": dict(effect.settings)})
    except Exception as exc:  # the reply must always settle; the loop goes on
        reply.set_exception(exc)
