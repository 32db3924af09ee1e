"""The `personaforge` command line: parse, call the operations, print. Nothing else."""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from personaforge import __version__
from personaforge.errors import ExitCode, PersonaForgeError

try:  # Typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older Typer uses click itself
    from click import exceptions as click_exc  # type: ignore[no-redef]

GLOBAL_FLAGS = {"--quiet", "-q", "--verbose", "-v"}

app = typer.Typer(
    name="personaforge",
    help="Turn a persona and a script into a captioned talking-persona video, and publish it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

err = Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    quiet = False
    verbose = False


STATE = _State()

ProjectArg = Annotated[
    str,
    typer.Argument(
        help="Project folder, or '-' to read the upstream manifest's path from stdin.",
        show_default=True,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Redo the work even if it is up to date.")]
NoWaitOpt = Annotated[
    bool,
    typer.Option("--no-wait", help="If another run holds the project, exit 1 at once (naming it)."),
]
ExpiresOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--expires", help="How long presigned links to private S3/R2 objects live: 7d, 12h, 30m."
    ),
]


def _version(value: bool) -> None:
    if value:
        print(f"personaforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress or messages on stderr.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show full ffmpeg logs on errors.")
    ] = False,
    version: Annotated[
        Optional[bool],  # noqa: UP045 - Typer reads the annotation at runtime
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    STATE.quiet = quiet
    STATE.verbose = verbose


@contextmanager
def _progress() -> Iterator[Any]:
    from personaforge.progress import NullProgress

    if STATE.quiet:
        yield NullProgress()
        return
    if err.is_terminal:
        from personaforge.cli.progress import RichProgress

        bars = RichProgress(err)
        try:
            yield bars
        finally:
            bars.close()
    else:
        from personaforge.cli.progress import PlainProgress

        yield PlainProgress()


def _info(message: str) -> None:
    if not STATE.quiet:
        err.print(message)


def _project(arg: str, stage: str | None = None) -> Any:
    from personaforge.core.project import Project

    if arg != "-":
        return Project.open(arg)
    line = sys.stdin.readline().strip()
    if not line:
        raise PersonaForgeError("expected a manifest path on stdin, got nothing", stage=stage)
    try:
        return Project.from_manifest(line, for_stage=stage)
    except PersonaForgeError as exc:
        raise exc.with_stage(stage) if stage else exc from None


def _run_stage(
    stage: str,
    project_arg: str,
    force: bool,
    as_json: bool,
    no_wait: bool = False,
    expires: str | None = None,
) -> None:
    from personaforge.cli.scale import parse_duration
    from personaforge.lock import project_lock
    from personaforge.stages.common import Context
    from personaforge.stages.pipeline import run_stage

    project = _project(project_arg, stage)
    expires_s = parse_duration(expires, "--expires")
    with (
        _progress() as progress,
        project_lock(project.root, wait=not no_wait, command=stage, on_wait=_info),
    ):
        try:
            ctx = Context.load(project, progress=progress, force=force)
        except PersonaForgeError as exc:
            raise exc.with_stage(stage) from None
        ctx.url_expires_s = expires_s
        result = run_stage(stage, ctx)
    _info(f"{stage}: {'ran' if result.ran else 'skipped'} ({result.reason})")
    if as_json:
        print(json.dumps({"stage": stage, **result.as_json()}))
    else:
        print(result.manifest)


@app.command()
def plan(
    project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
    no_wait: NoWaitOpt = False,
) -> None:  # fmt: skip
    """Turn the script into shots; writes build/plan.yaml."""
    _run_stage("plan", project, force, as_json, no_wait)


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
    no_wait: NoWaitOpt = False,
) -> None:
    """Text to speech per shot with word timings and visemes; writes build/speech.yaml.

    With --text or --text-file: speak text without a project into -o FILE.wav, with word
    timings in FILE.json."""
    if text is not None or text_file is not None:
        from personaforge.cli.voices import speak_standalone

        speak_standalone(text, text_file, out, persona, archetype, backend, as_json)
        return
    _run_stage("speak", project, force, as_json, no_wait)


@app.command()
def lipsync(
    project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
    no_wait: NoWaitOpt = False,
) -> None:  # fmt: skip
    """A talking-head clip per shot (title cards for headings); writes build/lipsync.yaml."""
    _run_stage("lipsync", project, force, as_json, no_wait)


@app.command()
def render(
    project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
    no_wait: NoWaitOpt = False,
) -> None:  # fmt: skip
    """Compose the video with burned captions and music; writes build/render.yaml."""
    _run_stage("render", project, force, as_json, no_wait)


@app.command()
def publish(
    project: ProjectArg = ".", force: ForceOpt = False, as_json: JsonOpt = False,
    no_wait: NoWaitOpt = False, expires: ExpiresOpt = None,
) -> None:  # fmt: skip
    """Publish the video and captions (local folder or S3/R2); writes build/publish.yaml."""
    _run_stage("publish", project, force, as_json, no_wait, expires)


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
) -> None:
    """Run every stage that is out of date and print the video's path."""
    from personaforge.cli.scale import parse_duration
    from personaforge.core.models import FORMAT_SIZES
    from personaforge.stages.pipeline import make_video as run

    if fmt is not None and fmt not in FORMAT_SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(FORMAT_SIZES)}", param_hint="--format")
    if dry_run:
        from personaforge.cli.brain import print_estimate

        print_estimate(
            project, fmt=fmt, do_publish=not no_publish, force=force, as_json=as_json, cache=cache
        )
        return
    t0 = time.monotonic()
    with _progress() as progress:
        result = run(
            _project(project), fmt=fmt, force=force, do_publish=not no_publish, progress=progress,
            max_cost=max_cost,
            wait=not no_wait, cache=cache, expires_s=parse_duration(expires, "--expires"),
        )  # fmt: skip
    for s in result.stages:
        extra = f", {s.reused}/{s.shots} shots reused" if s.ran and s.reused else ""
        _info(f"{s.stage}: {'ran' if s.ran else 'skipped'} ({s.reason}{extra})")
    _info(f"done in {time.monotonic() - t0:.1f}s")
    if as_json:
        print(json.dumps(result.as_json()))
    else:
        for url in result.published:
            _info(f"published: {url}")
        print(result.video)


@app.command()
def status(
    project: Annotated[str, typer.Argument(help="Project folder.")] = ".",
    as_json: JsonOpt = False,
) -> None:
    """Say, per stage, whether it is up to date or why it would re-run."""
    from personaforge.core.models import Recorded
    from personaforge.stages.pipeline import recorded_cost
    from personaforge.stages.pipeline import status as get_status

    proj = _project(project)
    read: dict[str, Recorded] = {}
    rows = get_status(proj, read)
    cost = recorded_cost(proj, read)
    if as_json:
        out: dict[str, object] = {
            r.stage: {
                "up_to_date": r.up_to_date,
                "reason": r.reason,
                **({"cost": r.cost} if r.cost else {}),
            }
            for r in rows
        }
        if cost["units"]:  # only projects that used a paid backend have a cost
            out["cost"] = cost
        print(json.dumps(out))
        return
    for r in rows:
        spent = f" (billed ${r.cost['usd']})" if r.cost else ""
        print(f"{r.stage:<8} {'up to date' if r.up_to_date else 'would run: ' + r.reason}{spent}")
    units = cost["units"]
    if isinstance(units, dict) and units:
        spent = ", ".join(
            f"{q:g} {k.split(':')[-1]}s ({k.split(':')[0]})" for k, q in units.items()
        )
        print(f"{'cost':<8} {spent}: about ${cost['usd']} (prices as of {cost['prices_as_of']})")


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
) -> None:
    """Scaffold a project ready for make-video."""
    from personaforge.core.models import FORMAT_SIZES
    from personaforge.stages.init import init_project

    if fmt is not None and fmt not in FORMAT_SIZES:
        raise typer.BadParameter(f"must be one of {', '.join(FORMAT_SIZES)}", param_hint="--format")
    project = init_project(
        folder, script=script, title=title, fmt=fmt, overwrite=force, recipe=recipe
    )
    _info(f"wrote {project.video_path}; persona in {project.persona_path}")
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
    from personaforge.core.archetypes import ARCHETYPES
    from personaforge.stages.init import make_persona, write_persona

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
    _info(f"persona {persona.name!r} ({persona.archetype}) written")
    print(path)


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Check ffmpeg, the voice, fonts, API keys and versions."""
    from personaforge.stages.doctor import run_checks

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


import personaforge.cli.voices  # noqa: E402, F401  (registers voices, archetypes)
from personaforge.cli import scale as _scale  # noqa: E402, F401 - registers batch, queue, cache


def _crash_log(exc: BaseException) -> Path:
    base = os.environ.get("PERSONAFORGE_LOG_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "personaforge"
    )
    folder = Path(base)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    # format_exception never includes local variables, where keys could leak.
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    path.write_text(f"personaforge {__version__}\nargv: {sys.argv[1:]}\n\n{text}", encoding="utf-8")
    return path


def _hoist_global_flags(argv: list[str]) -> list[str]:
    """Accept --quiet/--verbose after the command too (`make-video ex --quiet`)."""
    head = [a for a in argv if a in GLOBAL_FLAGS and "--" not in argv[: argv.index(a)]]
    rest = list(argv)
    for flag in head:
        rest.remove(flag)
    return head + rest


# Commands kept in their own modules register themselves on ``app`` when imported.
from personaforge.cli import brain as _brain  # noqa: E402, F401


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    try:
        rv = command.main(args=args, prog_name="personaforge", standalone_mode=False)
        code = rv if isinstance(rv, int) else ExitCode.OK
    except typer.Exit as exc:
        code = exc.exit_code
    except click_exc.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE if isinstance(exc, click_exc.UsageError) else exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        code = ExitCode.INTERRUPTED
    except PersonaForgeError as exc:
        err.print(f"error: {exc}", markup=False)
        if STATE.verbose and hasattr(exc, "details"):
            err.print(exc.details(), markup=False)
        code = ExitCode.ERROR
    except BrokenPipeError:
        code = ExitCode.OK
    except Exception as exc:
        try:
            log = str(_crash_log(exc))
        except OSError:
            log = "(could not write a crash log)"
        err.print(f"unexpected error: {type(exc).__name__}: {exc}; details in {log}", markup=False)
        code = ExitCode.CRASH
    sys.stdout.flush()
    sys.exit(int(code))
