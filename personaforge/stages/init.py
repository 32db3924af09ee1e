"""init and wizard: scaffold a project and create its persona."""

from __future__ import annotations

import textwrap
from pathlib import Path

from personaforge.backends import registry
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.models import Persona, VideoSpec
from personaforge.core.project import Project
from personaforge.core.yamlio import dump_model, validate_data
from personaforge.errors import MissingDependencyError, PersonaForgeError
from personaforge.fsutil import atomic_write_text, read_text

DEFAULT_SCRIPT = """# Hello

Hi, I'm {name}. This video was made by PersonaForge, from a short script.
Edit script.md and run make-video again to make it yours.
"""


def make_persona(
    name: str,
    archetype: str = "narrator",
    voice: str | None = None,
    look: dict[str, object] | None = None,
    *,
    backend: str = "piper",
) -> Persona:
    if archetype not in ARCHETYPES:
        raise PersonaForgeError(
            f"unknown archetype {archetype!r}; choose one of {', '.join(ARCHETYPES)}",
            field="archetype",
        )
    preset = ARCHETYPES[archetype]
    settings: dict[str, object] = {"backend": backend}
    if backend == "elevenlabs":
        settings.update(preset.elevenlabs, voice=voice or preset.elevenlabs_voice)
        settings["speed"] = min(1.2, max(0.7, preset.speed))
    else:
        settings.update(voice=voice or "joe", speed=preset.speed)
    data = {
        "name": name,
        "archetype": archetype,
        "voice": settings,
        "look": {**preset.look_for(backend).model_dump(), **(look or {})},
    }
    persona = validate_data(Persona, data, file=None)
    # The voice must exist now, not when the first video is spoken (a cloud voice's key
    # is checked when it speaks: a persona can be written on a machine without it).
    try:
        registry.resolve("speak", persona.voice.backend)(
            voice=persona.voice.voice, speed=persona.voice.speed
        )
    except MissingDependencyError:
        if persona.voice.backend == "piper":
            raise
    except PersonaForgeError as exc:
        exc.field = "voice"
        raise
    return persona


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
    """Scaffold a project. Everything is checked before the first file is written."""
    project = Project(folder)
    if folder.exists() and not folder.is_dir():
        raise PersonaForgeError("expected a folder, found a file", file=folder)
    if project.video_path.exists() and not overwrite:
        raise PersonaForgeError(
            "video.yaml already exists (use --force to replace it)", file=project.video_path
        )
    persona = persona or make_persona("Max")  # a name that fits the offline voice
    script_file = folder / "script.md"
    if script is not None:
        text = read_text(script)
    elif script_file.is_file():
        # A script the user already wrote is theirs: never replaced by the default.
        text = read_text(script_file)
    else:
        text = DEFAULT_SCRIPT.format(name=persona.name)
    if not text.strip():
        raise PersonaForgeError("the script is empty", file=script or script_file)
    video = validate_data(
        VideoSpec,
        {
            "title": title or _title_from(text) or folder.resolve().name,
            "script": "script.md",
            "format": fmt,
        },
        file=None,
    )
    folder.mkdir(parents=True, exist_ok=True)
    if script is not None or not script_file.exists():
        atomic_write_text(script_file, text)
    if not project.persona_path.exists():  # --force replaces video.yaml only
        dump_model(persona, project.persona_path)
    dump_model(video, project.video_path)
    if not (folder / ".gitignore").exists():
        atomic_write_text(folder / ".gitignore", "build/\npublished/\n.env\n.personaforge.lock\n")
    return project


def _title_from(text: str) -> str | None:
    """The first heading, shortened at a word to fit a title."""
    for line in text.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
            return textwrap.shorten(heading, 100, placeholder="…") if heading else None
    return None
