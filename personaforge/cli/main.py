"""The `personaforge` entry point: the command modules, the exit codes, the crash log."""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

import typer

from personaforge import __version__

# Each command module registers its commands on ``app`` when imported.
from personaforge.cli import (  # noqa: F401
    brain,
    check,
    project,
    scale,
    stages,
    transcribe,
    translate,
    voices,
)
from personaforge.cli.app import GLOBAL_FLAGS, STATE, app, err
from personaforge.cli.helptext import plain_help
from personaforge.errors import OUTCOME_VAR, ExitCode, PersonaForgeError, mask_secrets
from personaforge.fsutil import USER_FIXABLE, os_problem
from personaforge.interrupts import Terminated, stop_signals_interrupt

try:  # Typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older Typer uses click itself
    from click import exceptions as click_exc  # type: ignore[no-redef]

__all__ = ["app", "main"]

# --help lists the commands in the order a creator meets them, whatever the import order.
_HELP_ORDER = [
    "init",
    "wizard",
    "transcribe",
    "recipes",
    "write",
    "translate",
    "estimate",
    "plan",
    "speak",
    "lipsync",
    "render",
    "publish",
    "make-video",
    "status",
    "check",
    "voices",
    "archetypes",
    "doctor",
    "schema",
    "batch",
    "enqueue",
    "worker",
    "jobs",
]


# What a newcomer reads after Ctrl-C: what the run kept.
INTERRUPTED = (
    "interrupted: what was finished is kept (build/: every shot made so far, which the next "
    "run reuses); nothing half-written was left"
)


def _help_rank(name: str | None) -> int:
    return _HELP_ORDER.index(name) if name in _HELP_ORDER else len(_HELP_ORDER)


app.registered_commands.sort(
    key=lambda c: _help_rank(c.name or c.callback.__name__ if c.callback else None)
)


def _crash_log(exc: BaseException) -> Path:
    base = os.environ.get("PERSONAFORGE_LOG_DIR") or os.path.join(
        os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state"), "personaforge"
    )
    folder = Path(base)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    # format_exception never includes local variables, where keys could leak.
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    text = mask_secrets(f"personaforge {__version__}\nargv: {sys.argv[1:]}\n\n{text}")
    path.write_text(text, encoding="utf-8")
    return path


def _hoist_global_flags(argv: list[str]) -> list[str]:
    """Accept --quiet/--verbose after the command too (`make-video ex --quiet`)."""
    head = [a for a in argv if a in GLOBAL_FLAGS and "--" not in argv[: argv.index(a)]]
    rest = list(argv)
    for flag in head:
        rest.remove(flag)
    return head + rest


def _error_fields(exc: PersonaForgeError) -> dict[str, object]:
    return {
        "message": exc.message,
        "file": exc.file,
        "line": exc.line,
        "field": exc.field,
        "stage": exc.stage,
        "hint": exc.hint,
        "text": str(exc),
    }


def _said(text: str) -> dict[str, object]:
    return {"message": text, "text": text}


def _write_outcome(code: int, error: dict[str, object] | None) -> None:
    path = os.environ.get(OUTCOME_VAR)
    if not path:
        return
    from personaforge.fsutil import atomic_write_text

    try:
        atomic_write_text(Path(path), json.dumps({"exit_code": code, "error": error}) + "\n")
    except PersonaForgeError as exc:
        err.print(f"error: {exc}", markup=False)


def main(argv: list[str] | None = None) -> None:
    command = typer.main.get_command(app)
    plain_help(command)
    args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    if not args:
        args = ["--help"]  # `personaforge` alone: the help, and exit 0
    error: dict[str, object] | None = None
    try:
        with stop_signals_interrupt() as received:
            rv = command.main(args=args, prog_name="personaforge", standalone_mode=False)
        code = rv if isinstance(rv, int) else ExitCode.OK
        if code == ExitCode.INTERRUPTED:  # how Typer returns an interrupt
            code = _stopped(received.stop) or code
    except typer.Exit as exc:
        # Typer turns an interrupt into Exit(130), keeping the interrupt as its cause.
        code = _stopped(exc.__cause__) or exc.exit_code
    except click_exc.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE if isinstance(exc, click_exc.UsageError) else exc.exit_code
        error = _said(exc.format_message())
    except (typer.Abort, KeyboardInterrupt) as exc:
        # SIGTERM/SIGHUP say so themselves; a plain Ctrl-C is said once, below.
        code = _stopped(exc if isinstance(exc, Terminated) else exc.__cause__)
        code = code or ExitCode.INTERRUPTED
    except PersonaForgeError as exc:
        err.print(f"error: {exc}", markup=False)
        if STATE.verbose and hasattr(exc, "details"):
            err.print(exc.details(), markup=False)
        code = ExitCode.ERROR
        error = _error_fields(exc)
    except BrokenPipeError:
        code = ExitCode.OK
    except OSError as exc:
        if exc.errno not in USER_FIXABLE:
            code = _crash(exc)
            error = _said(f"unexpected error: {mask_secrets(f'{type(exc).__name__}: {exc}')}")
        else:
            problem = os_problem(exc)
            err.print(f"error: {problem}", markup=False)
            code = ExitCode.ERROR
            error = _error_fields(problem)
    except Exception as exc:
        code = _crash(exc)
        error = _said(f"unexpected error: {mask_secrets(f'{type(exc).__name__}: {exc}')}")
    if code == ExitCode.INTERRUPTED:  # Typer turns Ctrl-C into exit code 130 itself
        err.print(INTERRUPTED, markup=False)
    if code != ExitCode.OK and error is None:
        error = _said("interrupted" if code == ExitCode.INTERRUPTED else f"exit code {int(code)}")
    sys.stdout.flush()
    _write_outcome(int(code), error)
    sys.exit(int(code))


def _stopped(exc: BaseException | None) -> int:
    """Exit code for a run stopped by SIGTERM/SIGHUP (saying so, in one line), else 0."""
    if not isinstance(exc, Terminated):
        return 0
    err.print(f"stopped by {exc.name}; the work done so far is kept")
    return exc.exit_code


def _crash(exc: BaseException) -> int:
    try:
        log = str(_crash_log(exc))
    except OSError:
        log = "(could not write a crash log)"
    what = mask_secrets(f"{type(exc).__name__}: {exc}")
    err.print(f"unexpected error: {what}; details in {log}", markup=False)
    return ExitCode.CRASH
