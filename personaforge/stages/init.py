"""init and wizard: scaffold a project and create its persona."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.models import Persona, VideoSpec
from personaforge.core.project import Project
from personaforge.core.yamlio import dump_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text

DEFAULT_SCRIPT = """# Hello

Hi, I'm {name}. This video was made by PersonaForge, from a short script.
Edit script.md and run make-video again to make it yours.
"""


def make_persona(
    name: str,
    archetype: str = "narrator",
    voice: str = "joe",
    look: dict[str, object] | None = None,
) -> Persona:
    if archetype not in ARCHETYPES:
        raise PersonaForgeError(
            f"unknown archetype {archetype!r}; choose one of {', '.join(ARCHETYPES)}",
            field="archetype",
        )
    _, preset, speed = ARCHETYPES[archetype]
    data = {
        "name": name,
        "archetype": archetype,
        "voice": {"voice": voice, "speed": speed},
        "look": {**preset.model_dump(), **(look or {})},
    }
    try:
        return Persona.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        problem = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise PersonaForgeError(problem, field=loc) from None


def write_persona(project_dir: Path, persona: Persona, *, overwrite: bool = False) -> Path:
    path = Project(project_dir).persona_path
    if path.exists() and not overwrite:
        raise PersonaForgeError(
            "persona.yaml already exists (use --force to replace it)", file=path
        )
    dump_model(persona, path)
    return path


def init_project(
    folder: Path,
    *,
    script: Path | None = None,
    title: str | None = None,
    fmt: str = "youtube",
    persona: Persona | None = None,
    overwrite: bool = False,
) -> Project:
    project = Project(folder)
    if project.video_path.exists() and not overwrite:
        raise PersonaForgeError(
            "video.yaml already exists (use --force to replace it)", file=project.video_path
        )
    folder.mkdir(parents=True, exist_ok=True)
    persona = persona or make_persona("Ava")
    script_file = folder / "script.md"
    if script is not None:
        try:
            text = script.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise PersonaForgeError("script file not found", file=script) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise PersonaForgeError(f"cannot read script: {exc}", file=script) from None
    elif script_file.is_file():
        # A script the user already wrote is theirs: never replaced by the default.
        text = script_file.read_text(encoding="utf-8")
    else:
        text = DEFAULT_SCRIPT.format(name=persona.name)
    if not text.strip():
        raise PersonaForgeError("the script is empty", file=script or script_file)
    if script is not None or not script_file.exists():
        atomic_write_text(script_file, text)
    video = VideoSpec.model_validate(
        {
            "title": title or _title_from(text) or folder.resolve().name,
            "script": "script.md",
            "format": fmt,
        }
    )
    if not project.persona_path.exists():  # --force replaces video.yaml only
        dump_model(persona, project.persona_path)
    dump_model(video, project.video_path)
    if not (folder / ".gitignore").exists():
        atomic_write_text(folder / ".gitignore", "build/\npublished/\n.env\n")
    return project


def _title_from(text: str) -> str | None:
    for line in text.splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip() or None
    return None
