"""`translate`: the project's script into sibling projects in other languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import JsonOpt, ProjectArg, app, info


@app.command()
def translate(
    project: ProjectArg,
    to: Annotated[str, typer.Option("--to", help="Languages to translate into, BCP-47: es,de,ja.")],
    from_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--from", help="A translation written by hand (one language in --to)."),
    ] = None,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="The Claude model (default: director.model in video.yaml)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what it would bill; send nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Translate the script into sibling projects (DIR-es/, DIR-ja/) that render as they are."""
    from personaforge.core.project import Project
    from personaforge.translate import translate as run

    folder = Project.open(project).root
    codes = [c.strip() for c in to.split(",") if c.strip()]
    if not codes:
        raise typer.BadParameter("name at least one language", param_hint="--to")
    if dry_run:
        from personaforge.costs import summarize
        from personaforge.translate import estimate

        cost = summarize(estimate(folder, codes, model=model))
        if as_json:
            print(json.dumps(cost))
        else:
            print(f"translate: about ${cost['usd']:.4f} ({cost['units']})")
        return
    env = Project.open(project).environment()
    done = run(folder, codes, env=env, from_file=from_file, model=model)
    for t in done:
        info(f"translate: {t.language} -> {t.folder}{' (cached)' if t.cached else ''}")
    if as_json:
        print(json.dumps([{"language": t.language, "folder": str(t.folder), "cached": t.cached}
                          for t in done]))  # fmt: skip
    else:
        for t in done:
            print(t.folder)
