"""init and wizard: scaffold a project and create its persona."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import yaml

from personaforge.backends import registry
from personaforge.backends.base import VoiceSetup
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.project import Project, first_heading
from personaforge.core.specs import Persona, VideoSpec
from personaforge.core.yamlio import dump_model, validate_data
from personaforge.errors import MissingDependencyError, PersonaForgeError
from personaforge.fsutil import atomic_write_text, read_text

# The name that fits the only offline voice (piper's joe, a man's): a persona made without
# one is voiced by it, so it is named to match.
DEFAULT_NAME = "Max"

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
        guess = difflib.get_close_matches(archetype, list(ARCHETYPES), n=1)
        hint = f"did you mean {guess[0]!r}? " if guess else ""
        raise PersonaForgeError(
            f"unknown archetype {archetype!r}; {hint}choose one of {', '.join(ARCHETYPES)}",
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
        registry.resolve("speak", persona.voice.backend).from_setup(VoiceSetup(persona))
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


def _new_project(folder: Path, *, overwrite: bool) -> Project:
    """The project to scaffold in ``folder``, refused where that would replace a video.yaml
    without --force or where the folder is a file."""
    project = Project(folder)
    if folder.exists() and not folder.is_dir():
        raise PersonaForgeError("expected a folder, found a file", file=folder)
    if project.video_path.exists() and not overwrite:
        raise PersonaForgeError(
            "video.yaml already exists (use --force to replace it)", file=project.video_path
        )
    return project


def init_project(
    folder: Path,
    *,
    script: Path | None = None,
    title: str | None = None,
    fmt: str | None = None,
    persona: Persona | None = None,
    overwrite: bool = False,
    recipe: str | None = None,
    narration: Path | None = None,
) -> Project:
    """Scaffold a project. Everything is checked before the first file is written."""
    if narration is not None:
        return scaffold_narrated(
            folder, narration, script=script, title=title, fmt=fmt, overwrite=overwrite,
            recipe=recipe,
        )  # fmt: skip
    if recipe is not None:
        return _init_from_recipe(
            folder, recipe, script=script, title=title, fmt=fmt, persona=persona,
            overwrite=overwrite,
        )  # fmt: skip
    fmt = fmt or "youtube"
    project = _new_project(folder, overwrite=overwrite)
    if persona is None and project.persona_path.is_file():
        persona = project.load_persona()  # the persona `wizard` wrote speaks the script
    persona = persona or make_persona(DEFAULT_NAME)
    script_file = folder / "script.md"
    if script is not None:
        if not script.is_file():
            raise PersonaForgeError(
                "script not found: write your script there first, or leave out --script "
                "for a starter script.md to edit",
                file=script,
            )
        text = read_text(script)
    elif script_file.is_file():
        # A script the user already wrote is theirs: never replaced by the default.
        text = read_text(script_file)
    else:
        text = DEFAULT_SCRIPT.format(name=persona.name)
    if not text.strip():
        raise PersonaForgeError("the script is empty", file=script or script_file)
    # Without --title, video.yaml names none: the title is the script's first heading when
    # the video is made, so editing the heading retitles (and renames) the video.
    fields: dict[str, object] = {"script": "script.md", "format": fmt}
    if title:
        fields = {"title": title, **fields}
    elif not _title_from(text):
        fields = {"title": folder.resolve().name, **fields}
    video = validate_data(VideoSpec, fields, file=None)
    folder.mkdir(parents=True, exist_ok=True)
    if script is not None or not script_file.exists():
        atomic_write_text(script_file, text)
    if not project.persona_path.exists():  # --force replaces video.yaml only
        dump_model(persona, project.persona_path)
    data = video.model_dump(mode="json", exclude_none=True)
    if not video.title:
        data.pop("title", None)
    atomic_write_text(
        project.video_path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    if not (folder / ".gitignore").exists():
        atomic_write_text(folder / ".gitignore", "build/\npublished/\n.env\n.personaforge.lock\n")
    return project


def _title_from(text: str) -> str | None:
    return first_heading(text)


def _init_from_recipe(
    folder: Path,
    name: str,
    *,
    script: Path | None,
    title: str | None,
    fmt: str | None,
    persona: Persona | None,
    overwrite: bool,
) -> Project:
    """Scaffold from a recipe's ``files/*.j2``: video.yaml (replaced only with --force),
    script.md (never replaced: a script given with --script or already there wins), and any
    other file it carries (written only where none exists)."""
    from personaforge.core import recipes

    project = _new_project(folder, overwrite=overwrite)
    recipe = recipes.load(name, folder if folder.is_dir() else None)
    if project.persona_path.is_file():
        persona = project.load_persona()  # the project's own persona speaks its recipe
    persona = persona or make_persona(DEFAULT_NAME)
    script_file = folder / "script.md"
    given = read_text(script) if script is not None else None
    if given is None and script_file.is_file():
        given = read_text(script_file)
    if given is not None and not given.strip():
        raise PersonaForgeError("the script is empty", file=script or script_file)
    title = title or (_title_from(given) if given else None) or _humanize(folder)
    variables = {
        "title": title,
        "format": fmt or recipe.spec.format,
        "persona": recipes.persona_context(persona),
    }
    files = {rel: recipe.render(f"{recipes.FILES_DIR}/{rel}.j2", variables)
             for rel in recipe.scaffold_files()}  # fmt: skip
    video_text = files.pop("video.yaml", None)
    if video_text is None:
        raise PersonaForgeError(
            "the recipe has no files/video.yaml.j2", file=recipe.folder / recipes.FILES_DIR
        )
    template = recipe.folder / recipes.FILES_DIR / "video.yaml.j2"
    try:
        data = yaml.safe_load(video_text)
    except yaml.YAMLError as exc:
        raise PersonaForgeError(
            f"renders invalid YAML: {exc}".splitlines()[0], file=template
        ) from None
    validate_data(VideoSpec, data, file=template)
    script_text = files.pop("script.md", None) if given is None else None
    if given is None and script_text is None:
        raise PersonaForgeError("the recipe has no files/script.md.j2 and no script was given")
    folder.mkdir(parents=True, exist_ok=True)
    if script is not None and given is not None:
        atomic_write_text(script_file, given)
    elif script_text is not None:
        atomic_write_text(script_file, script_text)
    files.pop("script.md", None)
    for rel, text in files.items():
        target = project.path(rel, file=recipe.folder / recipes.FILES_DIR)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(target, text)
    if not project.persona_path.exists():
        dump_model(persona, project.persona_path)
    atomic_write_text(project.video_path, video_text)
    if not (folder / ".gitignore").exists():
        atomic_write_text(folder / ".gitignore", "build/\npublished/\n.env\n")
    return project


def _humanize(folder: Path) -> str:
    name = folder.resolve().name.replace("-", " ").replace("_", " ").strip()
    return name[:1].upper() + name[1:] if name else "My video"


def scaffold_narrated(
    folder: Path,
    take: Path,
    *,
    script: Path | None,
    title: str | None,
    fmt: str | None,
    overwrite: bool,
    recipe: str | None,
) -> Project:
    """`init --narration TAKE`: the take copied in as the video's narration, and its script
    (given, or transcribed from the take) with any word timings kept for it."""
    import shutil

    from personaforge.core.yamlio import dump_model, load_model
    from personaforge.fsutil import sha256_file
    from personaforge.stages.parts.narration import FORMATS
    from personaforge.stages.parts.transcript import keep, timings_path, transcribe

    if not take.is_file():
        raise PersonaForgeError("no such recording", file=take, field="--narration")
    if take.suffix.lower() not in FORMATS.split():
        raise PersonaForgeError(f"not a recording this reads ({FORMATS})", file=take)
    if script is None:
        staging = folder / ".transcript"
        staging.mkdir(parents=True, exist_ok=True)
        script, _ = transcribe(take, staging / "script.md")
    project = init_project(
        folder, script=script, title=title, fmt=fmt, overwrite=overwrite, recipe=recipe
    )
    name = "take" + take.suffix.lower()
    if take.resolve() != (folder / name).resolve():
        shutil.copyfile(take, folder / name)
    sha = sha256_file(take)
    try:
        kept = json.loads(timings_path(script.parent).read_text(encoding="utf-8"))[sha]
        keep(folder, sha, [(str(w), float(s), float(e)) for w, s, e in kept])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    shutil.rmtree(folder / ".transcript", ignore_errors=True)
    from personaforge.core.specs import Narration, VideoSpec

    video = load_model(VideoSpec, project.video_path)
    video.narration = Narration(file=name)
    dump_model(video, project.video_path)
    return project
