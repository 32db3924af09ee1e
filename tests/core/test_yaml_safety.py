"""YAML that cannot hurt: alias bombs, deep nesting, huge files and non-text keys are one line
each, fast, before anything walks them; the tool's own records are sealed with their hash."""

from __future__ import annotations

import resource
import time
from pathlib import Path

import pytest

from personaforge.core.specs import Persona, VideoSpec
from personaforge.core.yamlio import MAX_USER_BYTES, dump_model, line_of, load_model
from personaforge.errors import PersonaForgeError


def _laughs(levels: int, width: int) -> str:
    lines = ["name: A", 'l0: &l0 ["lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*l{i - 1}"] * width)
        lines.append(f"l{i}: &l{i} [{refs}]")
    return "\n".join(lines) + "\n"


BOMBS = {
    # The classic: nine levels of ten (10^9 leaves); a validation error follows (unknown key).
    "billion-laughs": _laughs(9, 10),
    # Fewer, wider levels.
    "wide": _laughs(4, 200),
    # Deep and narrow: 2^60.
    "deep-binary": _laughs(60, 2),
    # Aliases to mappings, merged.
    "mapping-merge": "a: &a {x: 1, y: 2}\nb: &b {<<: *a, z: *a}\nname: A\nc: [*b, *b, *b]\n",
    # An anchor alone (no alias) is refused too: it only exists to be aliased.
    "anchor-only": "name: &n A\n",
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_alias_bombs_are_one_line_at_once(tmp_path: Path, name: str) -> None:
    path = tmp_path / "persona.yaml"
    path.write_text(BOMBS[name])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(PersonaForgeError) as info:
        load_model(Persona, path)
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB
    assert "anchors and aliases" in info.value.message
    assert info.value.file == str(path) and info.value.line is not None
    assert line_of(path, ("name",)) is None  # the line finder refuses it too, at once


def test_the_line_names_the_first_anchor(tmp_path: Path) -> None:
    path = tmp_path / "video.yaml"
    path.write_text("title: T\nscript_text: hi\nx: &x [1]\ny: *x\n")
    with pytest.raises(PersonaForgeError) as info:
        load_model(VideoSpec, path)
    assert str(info.value).startswith(f"{path}:3: invalid YAML: anchors and aliases")


@pytest.mark.parametrize("depth", [200, 100_000])
def test_deep_nesting_is_refused(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "persona.yaml"
    path.write_text("name: A\nx: " + "[" * depth + "]" * depth + "\n")
    with pytest.raises(PersonaForgeError) as info:
        load_model(Persona, path)
    assert "nest" in info.value.message  # ours (with the line) or libyaml's own limit
    if depth < 1000:
        assert "nested more than 64 levels" in info.value.message and info.value.line == 2


def test_a_huge_file_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    path = tmp_path / "persona.yaml"
    with open(path, "wb") as fh:
        fh.write(b"name: A\n")
        fh.truncate(MAX_USER_BYTES * 50)  # sparse: costs no disk
    with pytest.raises(PersonaForgeError) as info:
        load_model(Persona, path)
    assert "file is too large" in info.value.message and info.value.file == str(path)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("name: A\n? [a, b]\n: c\n", "list"),
        ("name: A\n? {a: 1}\n: c\n", "mapping"),
        ("name: A\npronunciations: {1: one}\n", "1"),
        ("name: A\nnull: x\n", "None"),
    ],
)
def test_mapping_keys_must_be_text(tmp_path: Path, text: str, kind: str) -> None:
    path = tmp_path / "persona.yaml"
    path.write_text(text)
    with pytest.raises(PersonaForgeError) as info:
        load_model(Persona, path)
    assert "a mapping key must be text" in info.value.message and kind in info.value.message
    assert info.value.line == 2


def test_sealed_records_refuse_a_hand_edit(tmp_path: Path) -> None:
    path = tmp_path / "rec.yaml"
    dump_model(Persona(name="A"), path, seal=True)
    assert load_model(Persona, path, sealed=True).name == "A"
    path.write_text(path.read_text().replace("name: A", "name: B"))
    with pytest.raises(PersonaForgeError) as info:
        load_model(Persona, path, sealed=True)
    assert "no longer matches its hash" in info.value.message
    # What the user writes is never sealed, and loads as before.
    assert load_model(Persona, path).name == "B"
