"""Recipes: shipped with the package, overridable by a project, rendered in a sandbox; every
shipped recipe scaffolds a project that renders offline."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
import tomllib
import yaml
from helpers import REPO, run_cli

from personaforge.commands.init import init_project
from personaforge.core import recipes
from personaforge.core.specs import Persona, VideoSpec
from personaforge.errors import PersonaForgeError

SHIPPED = ["explainer", "lesson", "product-demo", "short"]
ROOT = REPO


def test_the_shipped_recipes_are_listed_with_their_settings() -> None:
    proc = run_cli("recipes", "--json", cwd=ROOT)  # a clone's recipes/ is the shipped folder
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert sorted(data) == SHIPPED
    assert data["short"]["format"] == "shorts"
    assert data["short"]["target_length"] == {"min_s": 30, "max_s": 60}
    assert all(d["source"] == "shipped" for d in data.values())
    assert all({"script.md", "video.yaml"} <= set(d["files"]) for d in data.values())


def test_recipes_are_installed_into_the_wheel() -> None:
    # The wheel maps the top-level folder into the package, where shipped_folder() looks first.
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    force = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force == {"recipes": "personaforge/_recipes"}
    assert recipes.shipped_folder() == ROOT / "recipes"  # a clone: no _recipes in the package


@pytest.mark.parametrize("name", SHIPPED)
def test_every_recipe_renders_its_prompts(name: str) -> None:
    recipe = recipes.load(name)
    persona = recipes.persona_context(Persona(name="Ada", archetype="teacher"))
    director = recipe.render(
        recipes.DIRECTOR_TEMPLATE,
        {"persona": persona, "title": 'A "quoted": title', "kinds": ["talking", "title"],
         "emotions": ["neutral"], "cameras": ["static"]},
    )  # fmt: skip
    assert "Ada" in director and recipe.spec.shot_rules[0] in director
    writer = recipe.render(
        recipes.WRITER_TEMPLATE,
        {"persona": persona, "title": "T", "topic": "space", "length_s": 45, "words": 112,
         "format": recipe.spec.format},
    )  # fmt: skip
    assert "112 words" in writer and "Ada" in writer


@pytest.mark.parametrize("name", SHIPPED)
def test_init_with_a_recipe_renders_offline(name: str, tmp_path: Path) -> None:
    folder = tmp_path / f"my-{name}"
    proc = run_cli("init", str(folder), "--recipe", name, "--title", "Why: the sky")
    assert proc.returncode == 0, proc.stderr
    video = yaml.safe_load((folder / "video.yaml").read_text(encoding="utf-8"))
    spec = recipes.load(name).spec
    assert video["recipe"] == name and video["format"] == spec.format
    assert video["title"] == "Why: the sky"
    assert video["captions"]["max_chars_per_line"] == spec.captions.max_chars_per_line
    VideoSpec.model_validate(video)
    assert (folder / "script.md").read_text(encoding="utf-8").startswith("# Why: the sky")
    # Tiny frames keep the render fast; the recipe's format still decides the orientation.
    size = "72x128" if spec.format == "shorts" else "128x72"
    with (folder / "video.yaml").open("a", encoding="utf-8") as fh:
        fh.write(f"resolution: '{size}'\n")
    proc = run_cli("-q", "make-video", str(folder), "--no-publish", "--json")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    with av.open(out["video"]) as container:
        stream = container.streams.video[0]
        assert f"{stream.codec_context.width}x{stream.codec_context.height}" == size
        assert container.streams.audio
    assert out["duration_s"] > 3


def test_init_with_a_recipe_keeps_a_script_and_takes_a_format(tmp_path: Path) -> None:
    source = tmp_path / "talk.md"
    source.write_text("# My own\n\nMy own words, spoken as written.\n", encoding="utf-8")
    project = init_project(tmp_path / "p", recipe="short", script=source, fmt="square")
    video = project.load_video()
    assert (video.format, video.recipe, video.title) == ("square", "short", "My own")
    assert (project.root / "script.md").read_text() == source.read_text()


def test_a_project_recipe_overrides_by_name_and_is_listed(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    own = folder / "recipes" / "short" / "files"
    own.mkdir(parents=True)
    (own.parent / "recipe.yaml").write_text(
        "schema_version: 1\ndescription: our house short\nformat: square\n"
        "target_length: {min_s: 20, max_s: 30}\n",
        encoding="utf-8",
    )
    (own / "video.yaml.j2").write_text(
        "schema_version: 1\ntitle: {{ title | yaml }}\nscript: script.md\n"
        "format: {{ format }}\nrecipe: {{ recipe.name }}\n",
        encoding="utf-8",
    )
    (own / "script.md.j2").write_text("# {{ title }}\n\nHello from {{ persona.name }}.\n")
    (own / "notes.txt.j2").write_text("Notes for {{ recipe.description }}.\n")
    project = init_project(folder, recipe="short")
    assert project.load_video().format == "square"
    assert (folder / "notes.txt").read_text() == "Notes for our house short.\n"
    # The starter persona is Max (the offline voice is a man's), named by the template.
    assert "Hello from Max." in (folder / "script.md").read_text()
    proc = run_cli("recipes", str(folder))
    assert proc.returncode == 0, proc.stderr
    line = next(row for row in proc.stdout.splitlines() if row.startswith("short"))
    assert "our house short (project)" in line


@pytest.mark.parametrize(
    ("template", "where", "words"),
    [
        ("# {{ title }}\n\n{{ persona.nmae }}\n", ":3: ", "nmae"),
        ("# ok\n{% if %}\n", ":2: ", "template error"),
        ("{{ ''.__class__.__mro__[1].__subclasses__() }}\n", ":1: ", "unsafe"),
    ],
    ids=["undefined", "syntax", "sandbox"],
)
def test_a_template_error_is_one_line_with_its_file_and_line(
    template: str, where: str, words: str, tmp_path: Path
) -> None:
    folder = tmp_path / "p"
    own = folder / "recipes" / "explainer" / "files"
    own.mkdir(parents=True)
    (own.parent / "recipe.yaml").write_text(
        "schema_version: 1\ndescription: d\ntarget_length: {min_s: 20, max_s: 30}\n"
    )
    (own / "video.yaml.j2").write_text("schema_version: 1\ntitle: t\nscript: script.md\n")
    (own / "script.md.j2").write_text(template, encoding="utf-8")
    proc = run_cli("init", str(folder), "--recipe", "explainer")
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert f"script.md.j2{where}" in line and words in line, line
    assert not (folder / "video.yaml").exists()


def test_a_scaffold_that_renders_a_bad_video_yaml_writes_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    own = folder / "recipes" / "explainer" / "files"
    own.mkdir(parents=True)
    (own.parent / "recipe.yaml").write_text(
        "schema_version: 1\ndescription: d\ntarget_length: {min_s: 20, max_s: 30}\n"
    )
    (own / "video.yaml.j2").write_text(
        "schema_version: 1\ntitle: t\nscript: script.md\nfromat: x\n"
    )
    (own / "script.md.j2").write_text("# t\n\nWords.\n")
    with pytest.raises(PersonaForgeError) as info:
        init_project(folder, recipe="explainer")
    assert "video.yaml.j2" in str(info.value) and "did you mean 'format'" in str(info.value)
    assert not (folder / "script.md").exists()


def test_an_unknown_recipe_suggests_the_closest() -> None:
    with pytest.raises(PersonaForgeError) as info:
        recipes.load("shrot")
    assert "did you mean 'short'" in str(info.value)
    with pytest.raises(PersonaForgeError):
        recipes.load("../etc")
