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
from personaforge.cli import brain, project, scale, stages, voices  # noqa: F401
from personaforge.cli.app import GLOBAL_FLAGS, STATE, app, err
from personaforge.errors import OUTCOME_VAR, ExitCode, PersonaForgeError

try:  # Typer >= 0.20 ships its own copy of click
    from typer._click import exceptions as click_exc
except ImportError:  # pragma: no cover - older Typer uses click itself
    from click import exceptions as click_exc  # type: ignore[no-redef]

__all__ = ["app", "main"]

# --help lists the commands in the order a creator meets them, whatever the import order.
_HELP_ORDER = [
    "init",
    "wizard",
    "recipes",
    "write",
    "estimate",
    "plan",
    "speak",
    "lipsync",
    "render",
    "publish",
    "make-video",
    "status",
    "voices",
    "archetypes",
    "doctor",
    "schema",
    "batch",
    "enqueue",
    "worker",
    "jobs",
]


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
    path.write_text(f"personaforge {__version__}\nargv: {sys.argv[1:]}\n\n{text}", encoding="utf-8")
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
    args = _hoist_global_flags(list(sys.argv[1:] if argv is None else argv))
    error: dict[str, object] | None = None
    try:
        rv = command.main(args=args, prog_name="personaforge", standalone_mode=False)
        code = rv if isinstance(rv, int) else ExitCode.OK
    except typer.Exit as exc:
        code = exc.exit_code
    except click_exc.ClickException as exc:
        exc.show()
        code = ExitCode.USAGE if isinstance(exc, click_exc.UsageError) else exc.exit_code
        error = {"message": exc.format_message(), "text": exc.format_message()}
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        code = ExitCode.INTERRUPTED
        error = {"message": "interrupted", "text": "interrupted"}
    except PersonaForgeError as exc:
        err.print(f"error: {exc}", markup=False)
        if STATE.verbose and hasattr(exc, "details"):
            err.print(exc.details(), markup=False)
        code = ExitCode.ERROR
        error = _error_fields(exc)
    except BrokenPipeError:
        code = ExitCode.OK
    except Exception as exc:
        try:
            log = str(_crash_log(exc))
        except OSError:
            log = "(could not write a crash log)"
        line = f"unexpected error: {type(exc).__name__}: {exc}; details in {log}"
        err.print(line, markup=False)
        code = ExitCode.CRASH
        error = {"message": line, "text": line, "crash_log": log}
    sys.stdout.flush()
    _write_outcome(int(code), error)
    sys.exit(int(code))
