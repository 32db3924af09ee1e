"""Recipes: a kind of video (explainer, short, ...) as settings plus Jinja2 templates for the
director's and writer's prompts and the project files ``init`` scaffolds.

The recipes PersonaForge ships live in the repository's top-level ``recipes/`` folder (installed
into the wheel as ``personaforge/_recipes``); a project's own ``recipes/<name>/`` replaces the
shipped recipe of that name.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field

from personaforge.core.specs import Captions, Format, Persona, Publish, Strict
from personaforge.core.yamlio import load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_file

DEFAULT_RECIPE: Final = "explainer"
RECIPE_FILE: Final = "recipe.yaml"
DIRECTOR_TEMPLATE: Final = "prompts/director.j2"
WRITER_TEMPLATE: Final = "prompts/writer.j2"
FILES_DIR: Final = "files"  # files/<name>.j2 is scaffolded into the project as <name>
# Speech runs at about 150 words a minute: a target length becomes a word budget.
WORDS_PER_SECOND: Final = 2.5


class TargetLength(Strict):
    min_s: int = Field(ge=5, le=3600)
    max_s: int = Field(ge=5, le=3600)


class RecipeMusic(Strict):
    mood: str = Field(default="", description="What music suits it (no music ships with it).")
    volume: float = Field(default=0.2, ge=0.0, le=1.0)
    duck: bool = True


class RecipeSpec(Strict):
    """recipe.yaml: the settings of one kind of video."""

    schema_version: Literal[1] = 1
    description: str = Field(min_length=1, max_length=200)
    format: Format = "youtube"
    target_length: TargetLength
    captions: Captions = Field(default_factory=Captions)
    shot_rules: list[str] = Field(default_factory=list, description="Told to the director.")
    music: RecipeMusic | None = None
    publish: Publish = Field(default_factory=Publish)


@dataclass(frozen=True)
class Recipe:
    name: str
    folder: Path
    spec: RecipeSpec
    source: Literal["shipped", "project"]

    def digest(self) -> str:
        """A hash of every file of the recipe: part of the cache key of what it shapes."""
        files = sorted(p for p in self.folder.rglob("*") if p.is_file())
        return canonical_hash(
            {p.relative_to(self.folder).as_posix(): sha256_file(p) for p in files}
        )

    def scaffold_files(self) -> list[str]:
        """Project-relative names of the files ``init`` renders, from ``files/*.j2``."""
        folder = self.folder / FILES_DIR
        if not folder.is_dir():
            return []
        return sorted(
            p.relative_to(folder).as_posix().removesuffix(".j2")
            for p in folder.rglob("*.j2")
            if p.is_file()
        )

    def target_words(self, length_s: float | None = None) -> int:
        seconds = length_s or (self.spec.target_length.min_s + self.spec.target_length.max_s) / 2
        return max(10, round(seconds * WORDS_PER_SECOND))

    def context(self) -> dict[str, Any]:
        """What templates see as ``recipe``."""
        return {"name": self.name, **self.spec.model_dump(mode="json")}

    def render(self, template: str, variables: Mapping[str, Any]) -> str:
        return render_template(self.folder, template, {"recipe": self.context(), **variables})


def shipped_folder() -> Path:
    """The recipes installed with the package, or the repository's when run from a clone."""
    package = Path(__file__).resolve().parents[1]  # personaforge/
    installed = package / "_recipes"
    return installed if installed.is_dir() else package.parent / "recipes"


def _folders(project_root: Path | None) -> list[tuple[Path, Literal["shipped", "project"]]]:
    found: list[tuple[Path, Literal["shipped", "project"]]] = []
    shipped = shipped_folder()
    own = project_root / "recipes" if project_root is not None else None
    # In a clone, the repository's root is not a project whose recipes override the shipped.
    if own is not None and own.is_dir() and own.resolve() != shipped.resolve():
        found.append((own, "project"))
    found.append((shipped, "shipped"))
    return found


def names(project_root: Path | None = None) -> list[str]:
    seen: set[str] = set()
    for base, _ in _folders(project_root):
        if base.is_dir():
            seen |= {p.parent.name for p in base.glob(f"*/{RECIPE_FILE}")}
    return sorted(seen)


def load(name: str, project_root: Path | None = None) -> Recipe:
    """The recipe called ``name``: the project's own first, then the shipped one."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise PersonaForgeError(f"{name!r} is not a recipe name", field="recipe")
    for base, source in _folders(project_root):
        folder = base / name
        if (folder / RECIPE_FILE).is_file():
            spec = load_model(RecipeSpec, folder / RECIPE_FILE)
            return Recipe(name, folder, spec, source)
    import difflib

    known = names(project_root)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"available: {', '.join(known)}"
    raise PersonaForgeError(f"unknown recipe {name!r}", field="recipe", hint=hint)


def all_recipes(project_root: Path | None = None) -> list[Recipe]:
    return [load(n, project_root) for n in names(project_root)]


def _yaml_scalar(value: Any) -> str:
    # JSON is YAML: a title with quotes, colons or '#' stays one valid scalar.
    return json.dumps(value, ensure_ascii=False)


def render_template(folder: Path, template: str, variables: Mapping[str, Any]) -> str:
    """Render ``folder/template`` in a sandbox where an undefined name is an error; any
    template error is one line naming the template's file and line."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["yaml"] = _yaml_scalar
    path = folder / template
    try:
        return env.get_template(template).render(**variables)
    except jinja2.TemplateNotFound:
        raise PersonaForgeError("template not found", file=path) from None
    except jinja2.TemplateSyntaxError as exc:
        file = exc.filename or str(path)
        raise PersonaForgeError(
            f"template error: {exc.message}", file=file, line=exc.lineno
        ) from None
    except jinja2.TemplateError as exc:  # undefined names, sandbox violations
        line = _template_line(exc, path)
        raise PersonaForgeError(f"template error: {exc}", file=path, line=line) from None


def _template_line(exc: BaseException, path: Path) -> int | None:
    # Jinja rewrites tracebacks so that template frames carry the template's file and line.
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == path:
            line = frame.lineno
    return line


def archetype_info(archetype: str) -> tuple[str, str]:
    """(description, brain prompt) of an archetype; ("", "") for one PersonaForge does not know.

    Read field by field so that a tuple entry and a record with ``description`` and
    ``brain_prompt`` both work.
    """
    from personaforge.core.archetypes import ARCHETYPES

    entry: Any = ARCHETYPES.get(archetype)
    if entry is None:
        return "", ""
    description = getattr(entry, "description", None)
    if description is None and isinstance(entry, tuple) and entry and isinstance(entry[0], str):
        description = entry[0]
    brain = getattr(entry, "brain_prompt", None)
    return str(description or ""), str(brain or "")


def persona_context(persona: Persona) -> dict[str, Any]:
    """What templates see as ``persona``: the persona's own brain prompt, else its archetype's."""
    description, brain = archetype_info(persona.archetype)
    return {
        "name": persona.name,
        "archetype": persona.archetype,
        "archetype_description": description or f"a {persona.archetype}",
        "brain_prompt": persona.brain_prompt or brain,
    }
