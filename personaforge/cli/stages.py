"""The stage commands (plan, speak, lipsync, render, publish), make-video and status."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from personaforge.cli.app import (
    ExpiresOpt,
    ForceOpt,
    JsonOpt,
    NoWaitOpt,
    ProjectArg,
    app,
    info,
    open_project,
    parse_duration,
    progress_reporter,
    run_stage_command,
)
from personaforge.errors import ExitCode


def _stage_command(stage: str, summary: str, *, with_expires: bool = False) -> None:
    """Register the command of a stage that takes only the shared options."""
    if with_expires:

        def command(
            project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
            no_wait: NoWaitOpt = False, expires: ExpiresOpt = None,
        ) -> None:  # fmt: skip
            run_stage_command(stage, project, force, as_json, no_wait, expires)

    else:

        def command(  # type: ignore[misc]
            project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
            no_wait: NoWaitOpt = False,
        ) -> None:  # fmt: skip
            run_stage_command(stage, project, force, as_json, no_wait)

    command.__doc__ = summary
    app.command(stage)(command)


_stage_command("plan", "Turn the script into shots; writes build/plan.yaml.")


@app.command()
def speak(
    project: ProjectArg = ".",
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    text: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="Speak this text without a project ('-' reads stdin); needs -o."),
    ] = None,
    text_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="Speak this file without a project ('-' reads stdin); needs -o."),
    ] = None,
    out: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option("--out", "-o", help="With --text: the WAV to write; timings go to .json."),
    ] = None,
    persona: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="With --text: the persona.yaml to speak as."),
    ] = None,
    archetype: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="With --text: speak as this archetype (default narrator)."),
    ] = None,
    backend: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="With --text --archetype: piper or elevenlabs."),
    ] = None,
    language: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="With --text: the text's language, BCP-47 (default the persona's)."),
    ] = None,
    no_wait: NoWaitOpt = False,
) -> None:
    """Text to speech per shot with word timings and visemes; writes build/speech.yaml.

    With --text or --text-file: speak text without a project into -o FILE.wav, with word
    timings in FILE.json."""
    if text is not None or text_file is not None:
        from personaforge.cli.voices import speak_standalone

        speak_standalone(text, text_file, out, persona, archetype, backend, as_json, language)
        return
    run_stage_command("speak", project, force, as_json, no_wait)


_stage_command(
    "lipsync",
    "Encode each shot once, captions burned, as a final-quality segment (title cards for "
    "headings, transitions as segments of their own); writes build/lipsync.yaml.",
)
_stage_command(
    "render",
    "Join the segments by stream copy under the mixed, loudness-normalised soundtrack, with "
    "the captions, thumbnail and chapters beside them; writes build/render.yaml.",
)
_stage_command(
    "publish",
    "Publish the video and captions (local folder or S3/R2); writes build/publish.yaml.",
    with_expires=True,
)


@app.command("make-video")
def make_video(
    project: Annotated[str, typer.Argument(help="Project folder.")] = ".",
    fmt: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--format", help="Override video.yaml's format: youtube, shorts or square."),
    ] = None,
    force: ForceOpt = False,
    as_json: JsonOpt = False,
    no_publish: Annotated[bool, typer.Option("--no-publish", help="Stop after rendering.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print what would run and cost; run nothing.")
    ] = False,
    max_cost: Annotated[
        Optional[float],  # noqa: UP045
        typer.Option("--max-cost", min=0, help="Refuse to start if the estimate is above USD."),
    ] = None,
    no_wait: NoWaitOpt = False,
    cache: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--cache", help="Shared shot cache s3://bucket/prefix (over video.yaml's)."),
    ] = None,
    expires: ExpiresOpt = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 1 if the video fails a rule of `check` (else: warn)."),
    ] = False,
    debug_overlay: Annotated[
        bool,
        typer.Option(
            "--debug-overlay",
            help="Burn into the talking shots what drives the face: shot, word, viseme, "
            "openness, emotion, landmarks.",
        ),
    ] = False,
    with_translations: Annotated[
        bool,
        typer.Option(
            "--with-translations",
            help="Also each translation `translate` made (DIR-es/, ...), one after another.",
        ),
    ] = False,
) -> None:
    """Run every stage that is out of date, check the video (see `check`), print its path."""
    from personaforge.core.specs import FORMAT_SIZES

    if fmt is not None and fmt not in FORMAT_SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(FORMAT_SIZES)}", param_hint="--format")
    if dry_run:
        from personaforge.cli.brain import print_estimate
        from personaforge.cli.translate import print_with_translations

        show = print_with_translations if with_translations else print_estimate
        show(project, fmt=fmt, do_publish=not no_publish, force=force, as_json=as_json, cache=cache)
        return
    t0 = time.monotonic()
    folders = [project]
    if with_translations:
        from personaforge.cli.translate import preflight_translations
        from personaforge.commands.translate import siblings

        folders += [str(f) for f in siblings(Path(project))]
        preflight_translations(folders[1:], do_publish=not no_publish)  # the source's: its run
    made: list[dict[str, object]] = []
    failed = False
    for folder in folders:
        one, bad = _make_one(
            folder, fmt=fmt, force=force, do_publish=not no_publish, max_cost=max_cost,
            wait=not no_wait, cache=cache, expires=expires, debug_overlay=debug_overlay,
            as_json=as_json,
        )  # fmt: skip
        made.append(one)
        failed = failed or bad
    info(f"done in {time.monotonic() - t0:.1f}s")
    if as_json:
        out = made[0]
        if with_translations:  # each language's video, its captions and where it went
            out["translations"] = made[1:]
        print(json.dumps(out))
    if strict and failed:
        raise typer.Exit(ExitCode.ERROR)


def _make_one(
    project: str, *, fmt: str | None, force: bool, do_publish: bool, max_cost: float | None,
    wait: bool, cache: str | None, expires: str | None, debug_overlay: bool, as_json: bool,
) -> tuple[dict[str, object], bool]:  # fmt: skip
    """make-video for one project (the source or a translation): its JSON and whether it
    failed a rule of `check`; prints its video's path unless --json."""
    from personaforge.commands.make_video import make_video as run

    proj = open_project(project)
    if fmt is not None:
        video = proj.load_video()
        if video.resolution and fmt != video.format:
            size = video.for_format(fmt).resolution
            info(f"--format {fmt}: at {size} (video.yaml's resolution, {video.resolution}, "
                 f"in the {fmt} shape)")  # fmt: skip
    with progress_reporter() as progress:
        result = run(
            proj,
            fmt=fmt,
            force=force,
            do_publish=do_publish,
            progress=progress,
            max_cost=max_cost,
            wait=wait,
            cache=cache,
            expires_s=parse_duration(expires, "--expires"),
            debug_overlay=debug_overlay,
        )
    for s in result.stages:
        extra = f", {s.reused}/{s.shots} shots reused" if s.ran and s.reused else ""
        info(f"{s.stage}: {'ran' if s.ran else 'skipped'} ({s.reason}{extra})")
    from personaforge.cli.check import delivery_check

    delivered, failed = delivery_check(Path(project), fmt)
    if not as_json:
        for url in result.published:
            info(f"published: {url}")
        print(result.video)
    from personaforge.core.specs import spoken_language

    language = spoken_language(proj.load_video(), proj.load_persona())
    return {"project": str(proj.root), "language": language, **result.as_json(),
            **delivered}, failed  # fmt: skip


@app.command()
def status(
    project: Annotated[str, typer.Argument(help="Project folder.")] = ".",
    as_json: JsonOpt = False,
) -> None:
    """Say, per stage, whether it is up to date or why it would re-run."""
    from personaforge.commands.make_video import recorded_cost
    from personaforge.commands.make_video import status as get_status
    from personaforge.core.manifests import Recorded

    proj = open_project(project)
    read: dict[str, Recorded] = {}
    rows = get_status(proj, read)
    cost = recorded_cost(proj, read)
    if as_json:
        out: dict[str, object] = {r.stage: r.as_json() for r in rows}
        if cost["units"]:  # only projects that used a paid backend have a cost
            out["cost"] = cost
        print(json.dumps(out))
        return
    for r in rows:
        spent = f" (billed ${r.cost['usd']})" if r.cost else ""
        shots = f"; shots: {r.to_make} to make, {r.reused} reused" if r.to_make or r.reused else ""
        said = "up to date" if r.up_to_date else "would run: " + r.reason + shots
        print(f"{r.stage:<8} {said}{spent}")
    units = cost["units"]
    if isinstance(units, dict) and units:
        spent = ", ".join(
            f"{q:g} {k.split(':')[-1]}s ({k.split(':')[0]})" for k, q in units.items()
        )
        print(f"{'cost':<8} {spent}: about ${cost['usd']} (prices as of {cost['prices_as_of']})")
