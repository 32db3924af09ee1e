"""`personaforge transcribe`: a script from a recorded take (ElevenLabs speech to text)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import app, info


@app.command()
def transcribe(
    take: Annotated[Path, typer.Argument(help="The recording (WAV, FLAC, MP3, M4A, OGG).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The script to write.")] = Path(
        "script.md"
    ),
    language: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The take's language (ISO 639-1/3, e.g. en); default: detected."),
    ] = None,
) -> None:
    """Write a script of what a take says, one sentence a line, and keep its word timings so
    that `speak` with `narration: {file: TAKE}` needs no alignment (ElevenLabs, scribe_v2)."""
    from personaforge.stages.parts.transcript import transcribe as run

    path, sentences = run(take, out, language=language)
    info(f"wrote {sentences} sentences to {path}; word timings kept beside it")
    print(path)
