"""Commands of the brain: recipes, write, estimate; and the printing that init --recipe,
wizard --describe and make-video --dry-run share with them. Parse and print only."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from personaforge.cli.app import JsonOpt, app, err, info, open_project
from personaforge.errors import PersonaForgeError


@app.command("recipes")
def recipes_cmd(
    project: Annotated[
        Path, typer.Argument(help="Project folder (its own recipes/ override by name).")
    ] = Path("."),
    as_json: JsonOpt = False,
) -> None:
    """List the recipes: kinds of video with their prompts and project templates."""
    from personaforge.core import recipes

    root = project if project.is_dir() else None
    found = recipes.all_recipes(root)
    if as_json:
        print(json.dumps({r.name: _recipe_json(r) for r in found}))
        return
    for r in found:
        length = f"{r.spec.target_length.min_s}-{r.spec.target_length.max_s} s"
        own = " (project)" if r.source == "project" else ""
        print(f"{r.name:<14} {r.spec.format:<8} {length:<11} {r.spec.description}{own}")


def _recipe_json(r: Any) -> dict[str, object]:
    return {
        "description": r.spec.description,
        "format": r.spec.format,
        "target_length": r.spec.target_length.model_dump(),
        "source": r.source,
        "folder": str(r.folder),
        "files": r.scaffold_files(),
    }


@app.command()
def write(
    project: Annotated[Path, typer.Argument(help="Project folder.")] = Path("."),
    topic: Annotated[
        Optional[str],  # noqa: UP045 - Typer reads the annotation at runtime
        typer.Option(help="What the video is about; Claude drafts the script."),
    ] = None,
    recipe: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Recipe (default: video.yaml's, else explainer); alone: its skeleton."),
    ] = None,
    length: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Spoken length, e.g. 60s, 2m, 1m30s (default: the recipe's)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing script.")] = False,
) -> None:
    """Draft script.md in the persona's voice (Claude), or write a recipe's skeleton offline."""
    from personaforge.commands.write import parse_length, write_script

    seconds = parse_length(length) if length else None
    if topic is not None:
        info("asking Claude for a script…")
    done = write_script(project, topic=topic, recipe=recipe, length_s=seconds, force=force)
    cost = _cost(done.billing)
    what = "drafted by Claude" if done.source == "claude" else "the recipe's skeleton"
    info(f"{done.words} words, {what} ({done.recipe}){cost}; read it before make-video")
    print(done.path)


def _cost(billing: list[Any]) -> str:
    if not billing:
        return ""
    from personaforge.costs import summarize

    total = summarize(billing)
    units: dict[str, float] = total["units"]  # type: ignore[assignment]
    tokens = ", ".join(f"{int(v)} {k.split(':')[-1].replace('_', ' ')}s" for k, v in units.items())
    return f"; {tokens}, ${total['usd']:.4f}"


@app.command()
def estimate(
    project: Annotated[str, typer.Argument(help="Project folder.")] = ".",
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="As make-video --format."),
    ] = None,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Leave out publish.")] = False,
    as_json: JsonOpt = False,
    cache: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cache", help="As make-video --cache: shots it holds count as made."),
    ] = None,
    with_translations: Annotated[
        bool,
        typer.Option(
            "--with-translations",
            help="Also each translation: its voice, characters, and translating again.",
        ),
    ] = False,
) -> None:
    """What make-video would run, what is cached, the units and money per paid backend, and a
    rough time. Sends nothing, and downloads nothing from the shared shot cache."""
    if with_translations:
        from personaforge.cli.translate import print_with_translations

        print_with_translations(
            project, fmt=fmt, do_publish=not no_publish, force=False, as_json=as_json, cache=cache
        )
        return
    print_estimate(
        project, fmt=fmt, do_publish=not no_publish, force=False, as_json=as_json, cache=cache
    )


def print_estimate(
    project: str,
    *,
    fmt: str | None,
    do_publish: bool,
    force: bool,
    as_json: bool,
    cache: str | None = None,
) -> None:
    from personaforge.commands.estimate import estimate as run

    result = run(open_project(project), fmt=fmt, do_publish=do_publish, force=force, cache=cache)
    if as_json:
        print(json.dumps(result.as_json()))
        return
    for s in result.stages:
        state = f"would run ({s.reason})" if s.would_run else "cached"
        made = (
            f", {s.shots_to_make}/{s.shots} shots to make"
            if s.stage in ("speak", "lipsync")
            else ""
        )
        units = ", ".join(
            f"{b.quantity:g} {b.provider} {b.unit.replace('_', ' ')}s" for b in s.bills
        )
        money = f"  ${s.usd:.4f} ({units})" if s.bills else ""
        print(f"{s.stage:<8} {s.backend:<10} {state}{made}{money}  ~{s.seconds:.0f} s")
    data = result.as_json()
    print(
        f"total    ${result.usd:.4f} estimated, ~{result.seconds:.0f} s for "
        f"{result.duration_s:.0f} s of video (prices as of {data['prices_as_of']})"
    )


def describe_persona(project: Path, description: str, *, yes: bool, force: bool) -> None:
    """wizard --describe: Claude proposes, the user sees it, and says yes before it is written."""
    from personaforge.commands.init import write_persona
    from personaforge.commands.write import propose_persona
    from personaforge.core.yamlio import dump_model

    if not yes and not sys.stdin.isatty():
        raise PersonaForgeError("wizard --describe asks before writing; pass --yes in scripts")
    path = project / "persona.yaml"
    if path.exists() and not force:  # checked before anything is paid for
        raise PersonaForgeError(
            "persona.yaml already exists (use --force to replace it)", file=path
        )
    info("asking Claude for a persona…")
    proposal = propose_persona(description, folder=project if project.is_dir() else None)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        shown = Path(tmp) / "persona.yaml"
        dump_model(proposal.persona, shown)
        err.print(shown.read_text(encoding="utf-8").rstrip(), markup=False)
    info(f"(Claude{_cost(proposal.billing)})")
    if not yes:
        from rich.prompt import Confirm

        if not Confirm.ask("Write this persona?", default=True, console=err):
            raise typer.Exit(1)
    written = write_persona(project, proposal.persona, overwrite=force)
    info(f"persona {proposal.persona.name!r} ({proposal.persona.archetype}) written")
    print(written)
