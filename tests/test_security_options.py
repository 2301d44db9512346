"""Issue 26, the parts without a server: finite numbers only (one validator for presets, ``--set``
and the control API), strict JSON bodies, and files only through options typed ``media``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgefx.config import load_settings, validate_plugin_tables
from edgefx.control.commands import ControlError, check
from edgefx.control.jsonbody import MAX_DEPTH, parse
from edgefx.errors import ConfigError
from edgefx.options import Option
from edgefx.registry import Registry
from edgefx.runtime.runner import create_plugins, create_triggers

NON_FINITE = (float("nan"), float("inf"), float("-inf"))


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry()


@pytest.mark.parametrize("value", NON_FINITE)
def test_option_check_refuses_nan_and_infinity_even_without_bounds(value: float) -> None:
    for option in (Option(1.0, "bounded", min=0.0, max=4.0), Option(1.0, "unbounded"),
                   Option([1.0, 2.0], "a list of numbers")):
        given = [1.0, value] if isinstance(option.default, list) else value
        with pytest.raises(ValueError, match="finite"):
            option.check("x", given)


@pytest.mark.parametrize(("toml", "key"), [
    ("[scheduler]\nbudget_ms = nan\n", "budget_ms"),
    ("[output]\ngop_seconds = inf\n", "gop_seconds"),
    ("[output]\ngop_seconds = nan\n", "gop_seconds"),  # issue 25, item 9
    ("[input]\nfps = -inf\n", "fps"),
])
def test_presets_refuse_nan_and_infinity_in_engine_sections(tmp_path: Path, toml: str, key: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match="finite") as err:
        load_settings(str(path))
    assert f"{path}:2" in str(err.value) and key in str(err.value)


def test_presets_refuse_nan_in_plugin_options_and_set_overrides(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[run]\neffects = ["face_mask"]\n\n[effects.face_mask]\nopacity = nan\n')
    settings = load_settings(str(path))
    with pytest.raises(ConfigError, match="finite") as err:
        validate_plugin_tables(settings, registry.effects, registry.analyzers)
    assert f"{path}:5" in str(err.value)
    with pytest.raises(ConfigError, match="finite"):
        load_settings(None, sets=["scheduler.budget_ms=inf"])


@pytest.mark.parametrize("key", ["seconds", "debounce"])
def test_trigger_times_refuse_nan_and_infinity(tmp_path: Path, registry: Registry, key: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(f'[run]\neffects = ["stats"]\n\n[[triggers]]\nkeyword = "go"\neffect = "stats"\n'
                    f'action = "pulse"\n{key} = nan\n')
    settings = load_settings(str(path))
    _, effects = create_plugins(settings, registry)
    with pytest.raises(ConfigError, match=f"{key} = nan must be a finite number"):
        create_triggers(settings, effects)


@pytest.mark.parametrize("raw", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b'{"value": [1, -1e400]}'])
def test_json_bodies_refuse_nan_and_infinity(raw: bytes) -> None:
    with pytest.raises(ControlError, match="finite") as err:
        parse(raw)
    assert err.value.status == 400


def test_json_bodies_refuse_bad_encodings_deep_nesting_and_huge_bodies() -> None:
    for raw, status, words in ((b"\xff\xfe{}", 400, "UTF-8"), (b"[" * 100_000 + b"]" * 100_000, 413, "too large"),
                               (b"[" * 5000 + b"]" * 5000, 400, "too deep"), (b'{"a": 1', 400, "not valid JSON"),
                               (b'"' + b"x" * 70_000 + b'"', 413, "too large")):
        with pytest.raises(ControlError, match=words) as err:
            parse(raw)
        assert err.value.status == status
    assert parse(b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[["}') == {"a": "[" * 24}  # brackets inside strings do not count
    assert parse(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()) is not None


def test_an_api_nan_is_refused_before_it_reaches_the_effect(registry: Registry) -> None:
    stats = registry.effect("stats")()
    for value in NON_FINITE:
        with pytest.raises(ControlError, match="finite") as err:
            check({"cmd": "set", "effect": "stats", "option": "scale", "value": value}, {"stats": stats}, [])
        assert err.value.status == 400
    assert stats.settings["scale"] == 0.0


@pytest.fixture()
def media(tmp_path: Path) -> Path:
    """A media folder with a picture, a link to a file outside it, and a secret next to it."""
    folder = tmp_path / "media"
    folder.mkdir()
    (folder / "beach.png").write_bytes(b"png")
    (tmp_path / "cwdsecret").write_text("secret")
    os.symlink(tmp_path / "cwdsecret", folder / "link.png")
    return folder


@pytest.mark.parametrize("value", ["cwdsecret", "Makefile", "pyproject.toml", "pipe:0", "data:,abc",
                                   "http://127.0.0.1:8000/x.png", "file:///etc/passwd", "/etc/passwd",
                                   "../cwdsecret", "link.png", "~/x.png", "a\x00b.png", "x" * 5000])
def test_a_media_option_takes_only_files_inside_the_media_folders(media: Path, registry: Registry,
                                                                   value: str) -> None:
    background = registry.effect("background")()
    for request in ({"cmd": "set", "option": "path", "value": value},
                    {"cmd": "media", "option": "path", "path": value}):
        with pytest.raises(ControlError, match="media folder") as err:
            check({**request, "effect": "background"}, {"background": background}, [media])
        assert err.value.status == 400


def test_media_files_resolve_inside_the_folder_and_only_media_options_take_them(media: Path,
                                                                                registry: Registry) -> None:
    effects = {"background": registry.effect("background")(), "face_mask": registry.effect("face_mask")()}
    event = check({"cmd": "set", "effect": "background", "option": "path", "value": "beach.png"}, effects, [media])
    assert event.data["value"] == str((media / "beach.png").resolve())
    with pytest.raises(ControlError, match="does not take a file; options of background that do: path"):
        check({"cmd": "media", "effect": "background", "option": "mode", "path": "beach.png"}, effects, [media])
    # shipped names are not files: accepted as they are; anything else must be inside the folders
    event = check({"cmd": "set", "effect": "face_mask", "option": "accessories", "value": ["glasses"]}, effects, [])
    assert event.data["value"] == ["glasses"]
    with pytest.raises(ControlError, match="media folder"):
        check({"cmd": "set", "effect": "face_mask", "option": "mask", "value": "../../x.json"}, effects, [media])
    described = {k: o.media for k, o in effects["background"].options.items()}
    assert described == {"mode": False, "strength": False, "path": True, "fit": False, "colour": False}


def test_a_user_chosen_token_has_at_least_16_characters(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[control]\nenabled = true\nhost = "0.0.0.0"\ntoken = "a"\n')
    with pytest.raises(ConfigError, match="token is 1 characters: at least 16") as err:
        load_settings(str(path))  # refused with the preset, before any input or output is opened
    assert f"{path}:4" in str(err.value)
    with pytest.raises(ConfigError, match="at least 16"):
        load_settings(None, sets=["control.token=fifteen-chars-x"])
    assert load_settings(None, sets=["control.token=sixteen-chars-xy"]).extra["control"]["token"] == "sixteen-chars-xy"
    assert load_settings(None).extra["control"]["token"] == ""
