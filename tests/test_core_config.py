"""Presets: every key validated, errors name file, line, key and what is allowed."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from edgefx.cli.main import main
from edgefx.config import load_settings, parse_override, validate_plugin_tables
from edgefx.errors import ConfigError
from edgefx.options import Option, resolve_options
from edgefx.registry import load_registry
from edgefx.runtime.runner import create_plugins, create_triggers


def write(tmp_path, text: str, name: str = "p.toml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_defaults_and_shipped_preset_load():
    settings = load_settings("default")
    assert settings.input["url"].startswith("demo:")
    assert settings.output["crf"] == 23


def test_unknown_key_names_file_line_key_and_allowed(tmp_path):
    path = write(tmp_path, '[input]\nurl = "demo:"\n\n[output]\nurl = "x.mp4"\ncfr = 20\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    text = str(err.value)
    assert f"{path}:6" in text and "'cfr'" in text and "crf" in text  # lists the known keys


@pytest.mark.parametrize(("table", "typo", "meant"), [("scheduler", "budgett_ms", "budget_ms"),
                                                    ("effects.background", "strenght", "strength")])
def test_unknown_key_hint_guesses_the_key_and_names_a_command_that_lists_them(tmp_path, capsys, table, typo, meant):
    registry = load_registry()
    with pytest.raises(ConfigError) as err:
        settings = load_settings(write(tmp_path, f"[{table}]\n{typo} = 3\n"))
        validate_plugin_tables(settings, registry.effects, registry.analyzers)
    assert f"did you mean {meant!r}?" in err.value.hint
    command = re.search(r"`edgefx (plugins show \w+)`", err.value.hint).group(1).split()
    assert main(command) == 0
    assert f"  {meant}: " in capsys.readouterr().out


def test_bad_value_says_what_is_allowed(tmp_path):
    path = write(tmp_path, '[output]\npreset = "slowest"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path)
    assert f"{path}:2" in str(err.value) and "'veryfast'" in str(err.value)
    path = write(tmp_path, "[output]\ncrf = 99\n", "b.toml")
    with pytest.raises(ConfigError, match="out of range; expected int from 0 to 51"):
        load_settings(path)


def test_unknown_section_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="unknown section or key 'efects'"):
        load_settings(write(tmp_path, "[efects]\n"))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[input\n", "c.toml"))


def test_extends_merges_and_cli_overrides_win(tmp_path):
    write(tmp_path, '[output]\ncrf = 30\npreset = "fast"\n', "base.toml")
    child = write(tmp_path, f'extends = "{tmp_path / "base.toml"}"\n[output]\ncrf = 18\n', "child.toml")
    settings = load_settings(child, {"output.preset": "ultrafast"}, ["input.width=640"])
    assert settings.output["crf"] == 18 and settings.output["preset"] == "ultrafast"
    assert settings.input["width"] == 640


def test_extends_cycle_is_an_error(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text(f'extends = "{b}"\n')
    b.write_text(f'extends = "{a}"\n')
    with pytest.raises(ConfigError, match="loops back"):
        load_settings(str(a))


def test_missing_preset_lists_shipped_ones():
    with pytest.raises(ConfigError) as err:
        load_settings("no-such-preset")
    assert "default" in err.value.hint


def test_parse_override_types():
    assert parse_override("run.max_failures=3") == (["run", "max_failures"], 3)
    assert parse_override("effects.x.on=true") == (["effects", "x", "on"], True)
    assert parse_override("output.url=out/a.mp4") == (["output", "url"], "out/a.mp4")
    with pytest.raises(ConfigError):
        parse_override("novalue")


def test_plugin_tables_are_checked_against_plugins(tmp_path):
    registry = load_registry()
    settings = load_settings(write(tmp_path, "[effects.nosuch]\nx = 1\n"))
    with pytest.raises(ConfigError, match=r"\[effects.nosuch\]: no such effect"):
        validate_plugin_tables(settings, registry.effects, registry.analyzers)


def test_option_checks():
    declared = {"n": Option(3, "count", min=1, max=9), "f": Option(0.5, "ratio"), "b": Option(True, "flag"),
                "mode": Option("a", "mode", choices=("a", "b"))}
    assert resolve_options("p", declared, {"f": 1}) == {"n": 3, "f": 1.0, "b": True, "mode": "a"}
    for bad in ({"n": 0}, {"n": 2.5}, {"b": 1}, {"n": True}, {"mode": "c"}, {"zz": 1}):
        with pytest.raises(ConfigError):
            resolve_options("p", declared, bad)


SHIPPED = sorted(p.name.removesuffix(".toml") for p in resources.files("edgefx.presets").iterdir()
                 if p.name.endswith(".toml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_preset_builds_its_plugins_and_triggers(name):
    """What users run with `-c NAME` must start: every effect, analyzer, option and trigger exists."""
    settings = load_settings(name)
    analyzers, effects = create_plugins(settings, load_registry())
    assert list(effects) == list(settings.run["effects"])
    assert set(settings.run["analyzers"]) <= set(analyzers)
    assert (create_triggers(settings, effects) is None) == (not settings.triggers)


def test_triggers_of_an_extended_preset_are_kept_and_the_log_says_so(tmp_path, caplog) -> None:
    """``extends`` appends a preset's [[triggers]] to its parent's; a rule for the same word (or
    key, gesture, expression) and effect replaces the parent's; ``triggers = []`` drops them all."""
    import logging

    caplog.set_level(logging.INFO, logger="edgefx.config")
    parent = tmp_path / "parent.toml"
    parent.write_text('[[triggers]]\nkeyword = "snow"\neffect = "particles"\naction = "pulse"\n\n'
                      '[[triggers]]\nhotkey = "s"\neffect = "particles"\naction = "toggle"\n')
    child = tmp_path / "child.toml"
    child.write_text('extends = "parent.toml"\n\n[[triggers]]\nkeyword = "Snow"\neffect = "particles"\n'
                     'action = "on"\n\n[[triggers]]\nkeyword = "fire"\neffect = "particles"\naction = "set"\n'
                     'option = "kind"\nvalue = "sparks"\n')
    rules = load_settings(str(child)).triggers
    assert [(r.get("keyword") or r.get("hotkey"), r["action"]) for r in rules] == [
        ("s", "toggle"), ("Snow", "on"), ("fire", "set")]
    assert f"{child}: [[triggers]] extend the 2 of {parent}" in caplog.text
    assert "1 replaced by a rule for the same keyword 'snow' and effect" in caplog.text
    caplog.clear()
    child.write_text('extends = "parent.toml"\ntriggers = []\n')
    assert load_settings(str(child)).triggers == []
    assert f"{child}: triggers = [] drops the 2 [[triggers]] of {parent}" in caplog.text
