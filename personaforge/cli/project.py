"""Commands that set a project up or look at the machine: init, wizard, doctor, schema."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import JsonOpt, app, err, info
from personaforge.errors import ExitCode, PersonaForgeError


@app.command()
def init(
    folder: Annotated[Path, typer.Argument(help="Folder to create the project in.")],
    script: Annotated[
        Path | None, typer.Option(help="Script file to copy in (Markdown or text).")
    ] = None,
    title: Annotated[
        str | None, typer.Option(help="Video title (default: the first heading).")
    ] = None,
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="youtube, shorts or square (default: the recipe's)."),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace an existing video.yaml (keeps persona.yaml, script.md)."
        ),
    ] = False,
    recipe: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Scaffold from a recipe: explainer, short, lesson, product-demo, ..."),
    ] = None,
    language: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The script's language, BCP-47: es, pt-BR, ja (default en)."),
    ] = None,
    narration: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Narrate with this recording; without --script, the script is transcribed "
            "from it (ElevenLabs)."
        ),
    ] = None,
) -> None:
    """Scaffold a project ready for make-video."""
    from personaforge.commands.init import init_project
    from personaforge.core.specs import FORMAT_SIZES

    if fmt is not None and fmt not in FORMAT_SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(FORMAT_SIZES)}", param_hint="--format")
    if language is not None:
        from personaforge.text import languages

        try:
            lang = languages.get(language)
        except PersonaForgeError as exc:
            raise typer.BadParameter(exc.message, param_hint="--language") from None
        if lang.code != languages.DEFAULT and script is None and narration is None:
            # The starter script (and a recipe's) is English: never voice it as Spanish.
            raise PersonaForgeError(
                f"init --language {language}: the starter script is English; pass --script "
                f"with your {lang.name} script, or init in English and run "
                f"`personaforge translate {folder} --to {language}`"
            )
    project = init_project(
        folder, script=script, title=title, fmt=fmt, overwrite=force, recipe=recipe,
        narration=narration,
    )  # fmt: skip
    if language is not None:
        from personaforge.fsutil import atomic_write_text

        text = project.video_path.read_text(encoding="utf-8")
        atomic_write_text(project.video_path, text.rstrip("\n") + f"\nlanguage: {language}\n")
    info(f"wrote {project.video_path}; persona in {project.persona_path}")
    print(project.root)


@app.command()
def wizard(
    project: Annotated[
        Path, typer.Argument(help="Project folder to write persona.yaml in.")
    ] = Path("."),
    name: Annotated[Optional[str], typer.Option(help="Persona name.")] = None,  # noqa: UP045
    archetype: Annotated[
        str | None, typer.Option(help="An archetype (see `personaforge archetypes`).")
    ] = None,
    voice: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            help="Voice (piper: joe; elevenlabs: an id or name; default the archetype's)."
        ),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="Voice backend: piper (offline) or elevenlabs.")
    ] = "piper",
    look: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(help="Look override KEY=VALUE, e.g. --look shirt=#ff0000 (repeatable)."),
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Don't ask; use the options and defaults.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing persona.yaml.")
    ] = False,
    describe: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Describe the persona; Claude proposes it and asks before writing."),
    ] = None,
) -> None:
    """Create a persona: name, archetype, voice and look. Asks, unless --yes."""
    from personaforge.commands.init import make_persona, write_persona
    from personaforge.core.archetypes import ARCHETYPES

    if describe is not None:
        from personaforge.cli.brain import describe_persona

        describe_persona(project, describe, yes=yes, force=force)
        return

    overrides: dict[str, object] = {}
    for item in look or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--look")
        overrides[key.strip()] = value.strip()
    if not yes:
        if not sys.stdin.isatty():
            raise PersonaForgeError(
                "wizard needs a terminal to ask questions; pass --yes with --name etc."
            )
        from rich.prompt import Prompt

        name = Prompt.ask("Name", default=name or "Max", console=err)
        for key, arch in ARCHETYPES.items():
            err.print(f"  [bold]{key}[/bold]: {arch.description}")
        archetype = Prompt.ask(
            "Archetype", choices=list(ARCHETYPES), default=archetype or "narrator", console=err
        )
        preset = ARCHETYPES[archetype]
        default = "joe" if backend == "piper" else preset.elevenlabs_voice
        voice = Prompt.ask("Voice", default=voice or default, console=err)
        for key in ("shirt", "background"):
            answer = "?"
            while answer and not re.fullmatch(r"#[0-9a-fA-F]{6}", answer):
                answer = Prompt.ask(
                    f"{key.capitalize()} colour (#rrggbb, empty for the archetype's)",
                    default="",
                    console=err,
                )
            if answer:
                overrides[key] = answer
    if not name:
        raise typer.BadParameter("is required with --yes", param_hint="--name")
    persona = make_persona(name, archetype or "narrator", voice, overrides, backend=backend)
    path = write_persona(project, persona, overwrite=force)
    info(f"persona {persona.name!r} ({persona.archetype}) written")
    print(path)


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Check ffmpeg, the voice, fonts, API keys and versions."""
    from personaforge.commands.doctor import run_checks

    checks = run_checks()
    if as_json:
        print(json.dumps([c.__dict__ for c in checks]))
    else:
        for c in checks:
            mark = "ok " if c.ok else ("-- " if not c.required else "NO ")
            print(f"{mark} {c.name:<20} {c.detail}")
    if any(c.required and not c.ok for c in checks):
        raise typer.Exit(ExitCode.ERROR)


@app.command()
def schema(
    out: Annotated[
        Path | None, typer.Option(help="Folder to write <name>.schema.json files in.")
    ] = None,
) -> None:
    """Write JSON Schema for persona.yaml, video.yaml and the recorded manifests."""
    from personaforge.core.schema import schemas
    from personaforge.fsutil import atomic_write_text

    docs = schemas()
    if out is None:
        print(json.dumps(docs, indent=2))
        return
    for name, doc in docs.items():
        path = out / f"{name.removesuffix('.yaml')}.schema.json"
        atomic_write_text(path, json.dumps(doc, indent=2) + "\n")
        print(path)
