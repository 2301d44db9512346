"""TOML presets -> validated settings. Every key is checked; errors name file, line, key and
what is allowed. A preset may ``extends = "other"`` another preset; CLI flags override last.

Layout of a preset::

    extends = "default"          # optional
    [input]   url, width, height, fps, pixel_format, audio, threads
    [output]  url, codec, preset, crf, bitrate, gop_seconds, threads
    [run]     effects = [...], analyzers = [...], max_failures, stats
    [scheduler] budget_ms, fps_target, priority, cap, ... (see docs/scheduler.md)
    [control] enabled, host, port, token, media, preview_fps (see docs/streaming.md)
    [effects.NAME]    options of effect NAME (`edgefx plugins show NAME`)
    [analyzers.NAME]  options of analyzer NAME
    [[triggers]]      keyword/event -> effect action (see docs/speech.md); with ``extends``
                      they add to the parent's (``extend_triggers``)
"""

from __future__ import annotations

import copy
import logging
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from edgefx.control.options import CONTROL_OPTIONS, check_token
from edgefx.errors import ConfigError
from edgefx.options import Option, did_you_mean, resolve_options
from edgefx.scheduling.options import SCHEDULER_OPTIONS

log = logging.getLogger(__name__)


def _names(value: list) -> None:
    """``[run] effects`` / ``analyzers``: a list of plugin names."""
    bad = [item for item in value if not isinstance(item, str)]
    if bad:
        raise ValueError(f"must list plugin names as strings, not {bad[0]!r}")


def _targets(value: list) -> None:
    """``[output] also``: a list of files and stream URLs."""
    bad = [item for item in value if not isinstance(item, str) or not item]
    if bad:
        raise ValueError(f"must list output files or stream URLs as strings, not {bad[0]!r}")


def _frame_rate(value: float) -> None:
    """``[input] fps``: 0 (the input's own) or a real frame rate."""
    if 0 < value < 1:
        raise ValueError("too low: use 0 (the input's own rate) or a rate from 1 to 240")


SECTIONS: dict[str, dict[str, Option]] = {
    "input": {
        "url": Option("demo:", "input: file path, URL, v4l2:///dev/video0, testsrc:, demo:"),
        "width": Option(0, "frame width to ask for / scale to (0 = as the input)", min=0, max=7680),
        "height": Option(0, "frame height (0 = as the input)", min=0, max=4320),
        "fps": Option(0.0, "frame rate to ask a camera for (0 = its default)", min=0, max=240, validate=_frame_rate),
        "pixel_format": Option("", "camera pixel format, e.g. mjpeg or yuyv422 (empty = default)"),
        "audio": Option(True, "carry the input's audio through"),
        "audio_url": Option("", "sound from a second input that goes on air instead of the input's own: a "
                            "microphone (alsa:default, pulse:default, avfoundation::0, dshow:audio=NAME) or an "
                            "audio file (empty = none)"),
        "audio_delay_ms": Option(0.0, "play audio_url's sound this much later (< 0: earlier) to line it up "
                                 "with the picture", min=-2000, max=2000),
        "audio_gain_db": Option(0.0, "make audio_url's sound louder (> 0) or softer (< 0), in dB", min=-60, max=30),
        "audio_mute": Option(False, "silence audio_url's sound (the track stays on air, silent)"),
        "threads": Option(0, "decode threads: 0 = a decode thread beside the loop; 1 = a file decoded on "
                          "the loop's own thread, single-threaded (what a batch worker uses)", min=0, max=1),
    },
    "output": {
        "url": Option("out/edgefx.mp4", "output: .mp4/.mkv/.mov path, null, preview[:PORT], or a stream URL"),
        "also": Option([], "more outputs fed by the same encoder, e.g. [\"rtmp://host/live/key\"] to record "
                       "and stream at once (files and stream URLs; -o given again)", type=list, validate=_targets),
        "codec": Option("libx264", "video encoder"),
        "preset": Option("veryfast", "x264 speed preset",
                         choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium")),
        "crf": Option(23, "x264 quality (lower is better) when bitrate is 0", min=0, max=51),
        "bitrate": Option(0, "video bitrate in kbit/s (0 = quality-based)", min=0, max=100000),
        "gop_seconds": Option(2.0, "keyframe interval in seconds", min=0.1, max=20),
        "threads": Option(0, "encoder threads (0 = the encoder's own choice)", min=0, max=64),
        "adapt_preset": Option(True, "with a [scheduler] budget, a file output steps the x264 preset down "
                               "(veryfast -> superfast -> ultrafast) while encoding takes the time the frame "
                               "needs, and back up when there is room (docs/pipeline.md)"),
        "overwrite": Option(False, "replace an existing file edgefx did not write (--overwrite)"),
    },
    "run": {
        "effects": Option([], "effects to enable, by name", type=list, validate=_names),
        "analyzers": Option([], "analyzers to run even when no effect needs them", type=list, validate=_names),
        "max_failures": Option(5, "consecutive failures after which a plugin is disabled", min=1, max=1000),
        "stats": Option("", "write per-frame stats JSON here (empty = off)"),
        "realtime": Option("auto", "pace a file or demo input at its frame rate (--realtime / --no-realtime); "
                           "auto = when the output is watched live (stream, camera, preview)",
                           choices=("auto", "on", "off")),
        "overlap": Option(True, "overlap the stages: a file or stream output converts, encodes and writes on "
                          "its own thread while the loop renders the next frame (false = all on the loop thread)"),
    },
    "scheduler": SCHEDULER_OPTIONS,
    "control": CONTROL_OPTIONS,
}
PLUGIN_TABLES = ("effects", "analyzers")


@dataclass(slots=True)
class Settings:
    """A validated preset: engine sections, per-plugin option tables and trigger tables."""

    input: dict[str, Any]
    output: dict[str, Any]
    run: dict[str, Any]
    effects: dict[str, dict[str, Any]] = field(default_factory=dict)
    analyzers: dict[str, dict[str, Any]] = field(default_factory=dict)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Engine sections beyond input/output/run (e.g. ``scheduler``), validated like them."""
    origins: dict[str, str] = field(default_factory=dict)


def preset_path(name_or_path: str) -> Path:
    """A preset given by name (``streamer``) or path (``my.toml``)."""
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return path
    shipped = resources.files("edgefx.presets").joinpath(f"{name_or_path}.toml")
    if shipped.is_file():
        return Path(str(shipped))
    names = sorted(p.name.removesuffix(".toml") for p in resources.files("edgefx.presets").iterdir()
                   if p.name.endswith(".toml"))
    raise ConfigError(f"config {name_or_path!r} not found",
                      f"{did_you_mean(name_or_path, names)}give a .toml path or one of: {', '.join(names)}")


def read_preset(name_or_path: str, _seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """Load a preset and whatever it ``extends``; returns the merged data and, per top-level
    section, the file that last set it (for error messages)."""
    path = preset_path(name_or_path)
    if str(path) in _seen:
        raise ConfigError(f"{path}: 'extends' loops back to itself", "remove the cycle")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}", "fix the syntax at that line") from None
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte {exc.object[exc.start]:#04x})",
                          "TOML presets are UTF-8: save the file as UTF-8") from None
    base: dict[str, Any] = {}
    origins: dict[str, str] = {}
    parent = data.pop("extends", None)
    if parent is not None:
        if not isinstance(parent, str) or not parent.strip():
            raise ConfigError(f"{_where({'extends': str(path)}, 'extends', None, 'extends')}: extends = {parent!r} "
                              "must be a preset name or a .toml path", 'e.g. extends = "default"')
        sibling = path.parent / parent  # a relative .toml path is relative to this preset's folder
        base, origins = read_preset(str(sibling) if parent.endswith(".toml") and sibling.is_file() else parent,
                                    (*_seen, str(path)))
    merged = deep_merge(base, data)
    if isinstance(base.get("triggers"), list) and isinstance(data.get("triggers"), list):
        merged["triggers"] = extend_triggers(base["triggers"], data["triggers"], origins["triggers"], str(path))
        origins["triggers"] = f"{origins['triggers']} + {path}" if merged["triggers"] else str(path)
    for key in data:
        if key != "triggers" or "triggers" not in base:
            origins[key] = str(path)
    return merged, origins


def extend_triggers(parent: list[Any], child: list[Any], parent_file: str, child_file: str) -> list[Any]:
    """The ``[[triggers]]`` of a preset that ``extends`` another: the parent's rules, then the
    child's. A child rule for the same source (keyword, hotkey, gesture or expression, any case)
    and effect replaces the parent's rule; ``triggers = []`` in the child drops all the parent's.
    The log says what happened, naming both files."""
    if not child:
        log.info("%s: triggers = [] drops the %d [[triggers]] of %s", child_file, len(parent), parent_file)
        return []
    taken = {rule_key(rule) for rule in child} - {None}
    kept = [rule for rule in parent if rule_key(rule) not in taken]
    replaced = [rule_key(rule) for rule in parent if rule_key(rule) in taken]
    why = "".join(f"; 1 replaced by a rule for the same {source} {value!r} and effect {effect!r}"
                  for source, value, effect in replaced)
    log.info("%s: [[triggers]] extend the %d of %s (parent's first, then this preset's %d)%s", child_file,
             len(parent), parent_file, len(child), why)
    return [*kept, *child]


def rule_key(rule: Any) -> tuple[str, str, str] | None:
    """``(source, value, effect)`` of a ``[[triggers]]`` table, e.g. ``("keyword", "snow", "particles")``
    (``None`` for a table too malformed to say; ``parse_triggers`` reports it later)."""
    if not isinstance(rule, Mapping):
        return None
    for source in ("keyword", "hotkey", "gesture", "expression"):
        if isinstance(rule.get(source), str):
            return source, rule[source].strip().lower(), str(rule.get("effect"))
    return None


def deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` merged into a copy of ``base``; tables merge key by key, other values replace."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def parse_override(text: str) -> tuple[list[str], Any]:
    """``"effects.background.mode=blur"`` -> ``(["effects", "background", "mode"], "blur")``.
    Values are TOML literals when they parse as one (``3``, ``true``, ``[1, 2]``), else strings."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"--set {text!r} is not KEY=VALUE", "example: --set effects.background.mode=blur")
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def load_settings(config: str | None = None, overrides: Mapping[str, Any] | None = None,
                  sets: list[str] | None = None) -> Settings:
    """Read ``config`` (name or path; ``None`` = defaults), apply ``overrides`` (``{"input.url": ...}``)
    and ``--set`` strings, and validate the engine sections. Plugin option tables are validated
    later against the plugins' declared options by ``validate_plugin_tables``."""
    data, origins = read_preset(config) if config else ({}, {})
    for dotted, value in (overrides or {}).items():
        _assign(data, dotted.split("."), value)
        origins.setdefault(dotted.split(".")[0], "command line")
        origins[dotted] = "command line"
    for text in sets or []:
        keys, value = parse_override(text)
        _assign(data, keys, value)
        origins.setdefault(keys[0], "command line")
        origins[".".join(keys)] = f"command line: --set {text}"
    sections = SECTIONS
    allowed = set(sections) | set(PLUGIN_TABLES) | {"triggers"}
    for key in data:
        if key not in allowed:
            raise ConfigError(f"{_where(origins, key, None, key)}: unknown section or key {key!r}",
                              f"allowed: {', '.join(sorted(allowed))}")
    values: dict[str, dict[str, Any]] = {}
    for name, declared in sections.items():
        table = data.get(name, {})
        if not isinstance(table, Mapping):
            raise ConfigError(f"{_where(origins, name, None, name)}: {name} must be a table", f"write [{name}]")
        try:
            values[name] = resolve_options(f"[{name}]", declared, table)
        except ConfigError as exc:
            bad = _first_bad_key(declared, table)
            raise ConfigError(f"{_where(origins, name, name, bad)}: {exc.message}", exc.hint) from None
    check_token(values["control"]["token"], _where(origins, "control", "control", "token"))
    plugin_tables = {}
    for kind in PLUGIN_TABLES:
        tables = data.get(kind, {})
        if not isinstance(tables, Mapping) or not all(isinstance(v, Mapping) for v in tables.values()):
            raise ConfigError(f"{_where(origins, kind, None, kind)}: [{kind}.NAME] tables expected",
                              f"write [{kind}.NAME] with that plugin's options")
        plugin_tables[kind] = {k: dict(v) for k, v in tables.items()}
    triggers = data.get("triggers", [])
    if not isinstance(triggers, list):
        raise ConfigError(f"{origins.get('triggers', '?')}: triggers must be [[triggers]] tables", "see docs/speech.md")
    return Settings(values["input"], values["output"], values["run"], plugin_tables["effects"],
                    plugin_tables["analyzers"], triggers,
                    {k: v for k, v in values.items() if k not in ("input", "output", "run")}, origins)


def validate_plugin_tables(settings: Settings, effect_classes: Mapping[str, type],
                           analyzer_classes: Mapping[str, type]) -> None:
    """Check every ``[effects.NAME]`` / ``[analyzers.NAME]`` table against the plugin's options."""
    for kind, classes in (("effects", effect_classes), ("analyzers", analyzer_classes)):
        for name, table in getattr(settings, kind).items():
            where = _where(settings.origins, kind, None, f"{kind}.{name}")
            if name not in classes:
                raise ConfigError(f"{where}: [{kind}.{name}]: no such {kind[:-1]}", f"{did_you_mean(name, classes)}"
                                  f"available: {', '.join(sorted(classes))} (see `edgefx plugins list`)")
            try:
                resolve_options(name, classes[name].options, table)
            except ConfigError as exc:
                bad = _first_bad_key(classes[name].options, table)
                where = _where(settings.origins, kind, f"{kind}.{name}", bad)
                raise ConfigError(f"{where}: [{kind}.{name}] {exc.message}", exc.hint) from None


def _assign(data: dict[str, Any], keys: list[str], value: Any) -> None:
    node = data
    for key in keys[:-1]:
        node = node.setdefault(key, {})
        if not isinstance(node, dict):
            raise ConfigError(f"cannot set {'.'.join(keys)}: {key} is not a table", "check the key path")
    node[keys[-1]] = value


def _first_bad_key(declared: Mapping[str, Option], table: Mapping[str, Any]) -> str | None:
    for key, value in table.items():
        if key not in declared:
            return key
        try:
            declared[key].check(key, value)
        except (ValueError, ConfigError):
            return key
    return None


def _where(origins: Mapping[str, str], top: str, section: str | None, key: str | None) -> str:
    """``file:line`` of ``key`` inside ``[section]`` (or at top level), as precisely as can be found; the
    command line when a flag or ``--set`` gave that key."""
    dotted = f"{section}.{key}" if section is not None else key
    if dotted is not None and dotted in origins:
        return origins[dotted]
    origin = origins.get(top, "(defaults)")
    path = Path(origin)
    if not path.is_file() or key is None:
        return origin
    in_section = section is None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        header = re.match(r"^\s*\[([^\]]+)\]", line)
        if header:
            in_section = header.group(1).strip() == section
            if section is None and header.group(1).strip() == key:
                return f"{origin}:{number}"
        elif in_section and re.match(rf"^\s*{re.escape(key)}\s*=", line):
            return f"{origin}:{number}"
    return origin
