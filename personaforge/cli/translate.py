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
    from personaforge.commands.translate import translate as run
    from personaforge.core.project import Project

    folder = Project.open(project).root
    codes = [c.strip() for c in to.split(",") if c.strip()]
    if not codes:
        raise typer.BadParameter("name at least one language", param_hint="--to")
    if dry_run:
        from personaforge.commands.translate import estimate
        from personaforge.costs import summarize

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


def print_with_translations(
    project: str, *, fmt: str | None, do_publish: bool, force: bool, as_json: bool,
    cache: str | None = None,
) -> None:  # fmt: skip
    """estimate --with-translations: the source's estimate, then each translation's (its
    voice, the characters it says, translating again where the script changed) and the total."""
    from personaforge.cli.app import open_project
    from personaforge.cli.brain import print_estimate
    from personaforge.commands.estimate import estimate, estimate_translations
    from personaforge.costs import summarize

    proj = open_project(project)
    langs = estimate_translations(proj, fmt=fmt, do_publish=do_publish, force=force, cache=cache)
    if as_json:
        main = estimate(proj, fmt=fmt, do_publish=do_publish, force=force, cache=cache)
        total = round(main.usd + sum(t.usd for t in langs), 6)
        each = [t.as_json() for t in langs]
        print(json.dumps({**main.as_json(), "translations": each, "total_usd": total}))
        return
    print_estimate(project, fmt=fmt, do_publish=do_publish, force=force, as_json=False, cache=cache)
    if not langs:
        print("translations: none (make them with `personaforge translate DIR --to es,ja`)")
    for t in langs:
        voice = f"no voice: {t.no_voice}" if t.no_voice else t.voice
        draft = " (draft offline voice)" if t.draft else ""
        again = ""
        if t.retranslate:
            again = f"; the script changed: translating again ${summarize(t.translate)['usd']:.4f}"
        print(f"{t.language:<8} {voice}{draft}, {t.characters} characters, "
              f"${t.estimate.usd:.4f}, ~{t.estimate.seconds:.0f} s{again}  {t.folder}")  # fmt: skip
    drafts = [t.language for t in langs if t.draft]
    if drafts:
        print(f"draft offline voice (espeak-ng, robotic): {', '.join(drafts)}")
    if langs:
        main = estimate(proj, fmt=fmt, do_publish=do_publish, force=force, cache=cache)
        total = main.usd + sum(t.usd for t in langs)
        print(f"all      ${total:.4f} estimated for {1 + len(langs)} languages")


def preflight_translations(folders: list[str], *, do_publish: bool) -> None:
    """make-video --with-translations checks every translation before making the first video:
    a language no voice speaks (Japanese offline) is one line before anything is spent."""
    from personaforge.cli.app import open_project
    from personaforge.commands.make_video import preflight
    from personaforge.runtime.common import Context

    stages = ["plan", "speak", "lipsync", "render"] + (["publish"] if do_publish else [])
    for folder in folders:
        preflight(Context.load(open_project(folder)), stages)
