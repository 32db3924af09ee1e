"""Voice commands: `voices`, `archetypes`, and `speak --text` (speech without a project)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import JsonOpt, app, info
from personaforge.errors import PersonaForgeError


def speak_standalone(
    text: str | None,
    text_file: Path | None,
    out: Path | None,
    persona: Path | None,
    archetype: str | None,
    backend: str | None,
    as_json: bool,
    language: str | None = None,
) -> None:
    """`speak --text`: voice text into a WAV and its timings (.json) beside it."""
    from personaforge.commands.voices import persona_for, speak_text

    if (text is None) == (text_file is None):
        raise typer.BadParameter("give exactly one of --text or --text-file", param_hint="--text")
    if out is None:
        raise typer.BadParameter("is required with --text/--text-file", param_hint="--out")
    if text == "-" or str(text_file) == "-":
        words = sys.stdin.read()
    elif text_file is not None:
        try:
            words = text_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PersonaForgeError(f"cannot read the text: {exc}", file=text_file) from None
    else:
        words = text or ""
    who = persona_for(persona, archetype, backend)
    result = speak_text(words, out, who, language=language)
    info(f"speak: {result.words} words, {result.duration_s:.2f} s ({result.backend})")
    if as_json:
        print(json.dumps(result.as_json()))
    else:
        print(result.wav)


@app.command()
def voices(
    backend: Annotated[
        str, typer.Option(help="piper (bundled), espeak (draft, offline) or elevenlabs.")
    ] = "piper",
    language: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Only voices for this language (BCP-47: es, ja)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the voices a backend offers (offline: the bundled ones; espeak's are drafts)."""
    from personaforge.backends.registry import names
    from personaforge.commands.voices import list_voices

    if backend not in names("speak"):
        raise typer.BadParameter(
            f"{backend!r} is not a voice backend; choose one of {', '.join(names('speak'))}",
            param_hint="--backend",
        )
    if language is not None and backend == "piper":
        backend = "piper" if language.split("-")[0].lower() == "en" else "espeak"
    found = list_voices(backend)
    if language is not None:
        from personaforge.text import languages

        code = languages.get(language).code
        # A voice with no language label (ElevenLabs premades speak every language of
        # their multilingual model) is listed for every language.
        found = [v for v in found if _speaks(v, code)]
    if as_json:
        print(json.dumps(found))
        return
    for v in found:
        extra = ", ".join(f"{k}={val}" for k, val in v.items() if k not in ("id", "name") and val)
        print(f"{v['id']:<24} {v['name']:<20} {extra}")


def _speaks(voice: dict[str, str], code: str) -> bool:
    """Whether a listed voice speaks ``code``: its language, or the languages ElevenLabs
    verified it in (a voice with neither speaks every language of its model)."""
    if voice.get("language"):
        return voice["language"].replace("_", "-").split("-")[0].lower() == code
    if voice.get("languages"):
        return code in voice["languages"].split(",")
    return True


@app.command()
def archetypes(as_json: JsonOpt = False) -> None:
    """List the archetypes: look, voices (offline and ElevenLabs) and a one-line brief."""
    from personaforge.commands.voices import list_archetypes

    found = list_archetypes()
    if as_json:
        print(json.dumps(found))
        return
    for name, a in found.items():
        el = a["elevenlabs"]
        assert isinstance(el, dict)
        voice = f"elevenlabs: {el['voice_name']}"
        print(f"{name:<12} {a['description']:<22} {voice:<22} {a['brain_prompt']}")
