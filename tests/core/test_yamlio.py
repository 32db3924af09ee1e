"""Manifest loading: line numbers, fields, unknown keys, duplicate keys, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from personaforge.core.specs import Persona, VideoSpec
from personaforge.core.yamlio import dump_model, load_model
from personaforge.errors import PersonaForgeError


def _err(model: type, tmp_path: Path, text: str) -> PersonaForgeError:
    path = tmp_path / "f.yaml"
    path.write_text(text)
    with pytest.raises(PersonaForgeError) as info:
        load_model(model, path)
    return info.value


def test_unknown_nested_key_has_line_and_suggestion(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "name: A\nlook:\n  skin: '#ffffff'\n  shrit: '#000000'\n")
    assert (e.line, e.field) == (4, "look.shrit")
    assert "did you mean 'shirt'" in e.message


def test_wrong_type_in_list_position(tmp_path: Path) -> None:
    e = _err(VideoSpec, tmp_path, "title: T\nscript_text: hi\ncaptions:\n  max_lines: 7\n")
    assert (e.line, e.field) == (4, "captions.max_lines")


def test_missing_required_field(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "archetype: host\n")
    assert e.field == "name" and "required" in e.message


def test_duplicate_keys_are_refused(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "name: A\nname: B\n")
    assert e.line == 2 and "duplicate key" in e.message


def test_yaml_syntax_error_has_line(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "name: A\nlook: {skin: \n")
    assert e.line is not None and "invalid YAML" in e.message


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "- a\n- b\n")
    assert "mapping" in e.message


def test_script_and_script_text_are_exclusive(tmp_path: Path) -> None:
    e = _err(VideoSpec, tmp_path, "title: T\nscript: a.md\nscript_text: hi\n")
    assert "exactly one" in e.message


def test_python_tags_are_not_executed(tmp_path: Path) -> None:
    e = _err(Persona, tmp_path, "name: !!python/object/apply:os.system ['echo hi']\n")
    assert "invalid YAML" in e.message


def test_dump_then_load_round_trips_and_leaves_no_temp(tmp_path: Path) -> None:
    persona = Persona(name='Zoë: "quoted" & <b>')
    path = tmp_path / "persona.yaml"
    dump_model(persona, path)
    assert load_model(Persona, path) == persona
    assert [p.name for p in tmp_path.iterdir()] == ["persona.yaml"]


@pytest.mark.parametrize("bad", ["../outside.md", "/etc/passwd", "a/../../b.md", "a\\\\b.md"])
def test_paths_that_escape_the_project_are_refused(tmp_path: Path, bad: str) -> None:
    e = _err(VideoSpec, tmp_path, f"title: T\nscript: '{bad}'\n")
    assert (e.line, e.field) == (2, "script") and "inside the project" in e.message
