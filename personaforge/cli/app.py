"""The Typer app, its shared options and the output helpers every command module uses.

Command modules import from here and register on ``app``; ``cli/main.py`` imports them all
and holds the entry point. Nothing here imports a command module, so there is no cycle.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from personaforge import __version__
from personaforge.errors import PersonaForgeError

GLOBAL_FLAGS = {"--quiet", "-q", "--verbose", "-v"}

app = typer.Typer(
    name="personaforge",
    help="Turn a persona and a script into a captioned talking-persona video, and publish it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
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
def progress_reporter() -> Iterator[Any]:
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


def info(message: str) -> None:
    if not STATE.quiet:
        err.print(message)


def open_project(arg: str, stage: str | None = None) -> Any:
    from personaforge.core.project import Project

    if arg != "-":
        return Project.open(arg)
    line = sys.stdin.readline().strip()
    if not line:
        raise PersonaForgeError("expected a manifest path on stdin, got nothing", stage=stage)
    if line.startswith("{"):
        # The upstream stage's --json: its manifest is in it.
        try:
            line = str(json.loads(line)["manifest"])
        except (ValueError, KeyError, TypeError):
            raise PersonaForgeError(
                'stdin is JSON without a "manifest"; pipe a stage\'s output (path or --json)',
                stage=stage,
            ) from None
    try:
        return Project.from_manifest(line, for_stage=stage)
    except PersonaForgeError as exc:
        raise exc.with_stage(stage) if stage else exc from None


def run_stage_command(
    stage: str,
    project_arg: str,
    force: bool,
    as_json: bool,
    no_wait: bool = False,
    expires: str | None = None,
) -> None:
    from personaforge.commands.make_video import run_stage
    from personaforge.lock import project_lock
    from personaforge.runtime.common import Context

    project = open_project(project_arg, stage)
    expires_s = parse_duration(expires, "--expires")
    with (
        progress_reporter() as progress,
        project_lock(project.root, wait=not no_wait, command=stage, on_wait=info),
    ):
        try:
            ctx = Context.load(project, progress=progress, force=force)
        except PersonaForgeError as exc:
            raise exc.with_stage(stage) from None
        ctx.url_expires_s = expires_s
        result = run_stage(stage, ctx)
    info(f"{stage}: {'ran' if result.ran else 'skipped'} ({result.reason})")
    if as_json:
        print(json.dumps({"stage": stage, **result.as_json()}))
    else:
        print(result.manifest)


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | None, option: str) -> int | None:
    """'7d', '12h', '30m', '90s' or plain seconds, as seconds; None stays None."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", text.lower())
    if not m:
        raise typer.BadParameter(
            f"{text!r} is not a duration like 7d, 12h or 30m", param_hint=option
        )
    return max(1, int(float(m.group(1)) * _UNITS[m.group(2) or "s"]))
