"""Helpers for tests: run the real CLI, write tiny projects."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

# The repository root: the examples, recipes, README and .tools/ the tests read.
REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "personaforge"]
SMALL = "320x180"

SCRIPT = """# Tiny test

Hello there, this is a short test video.
It has two sentences, both spoken aloud.
"""

# The signals a run may take over (ffmpeg.py holds Ctrl-C while it spawns a child); an
# in-process run must hand them back as it found them.
_SIGNALS = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s]


def run_cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real entry point (``personaforge.cli.main.main``) in this process.

    Same arguments, parsing, error handling and exit codes as the console script; the streams,
    environment, working folder, signal handlers and CLI state are the run's own and put back
    afterwards. Where a separate process is what a test is about (kill -9, Ctrl-C, the lock
    between two runs, a worker), use ``run_cli_process``. Set PERSONAFORGE_TEST_SUBPROCESS=1
    to run every call as a process (to tell an isolation leak from a real failure).
    """
    if os.environ.get("PERSONAFORGE_TEST_SUBPROCESS") == "1":
        return run_cli_process(*args, cwd=cwd, stdin=stdin, env=env)
    return _run_in_process(list(args), cwd=cwd, stdin=stdin, env=env)


def run_cli_process(
    *args: str, cwd: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
        check=False,
    )


def start_stopped_after_writing(
    pattern: str, *args: str, env: dict[str, str] | None = None, **popen: Any
) -> subprocess.Popen[str] | None:
    """Start the CLI as a process and return it once it has written a file matching
    ``pattern`` (fnmatch on the full path): it is then stopped (SIGSTOP, see
    fsutil._stop_point), exactly at that moment, for the caller to SIGKILL, or to SIGINT and
    SIGCONT. None if the run ended without writing such a file."""
    full_env = {**os.environ, **(env or {}), "PERSONAFORGE_STOP_AFTER_WRITING": pattern}
    proc = subprocess.Popen([*CLI, *args], env=full_env, text=True, **popen)
    guard = threading.Timer(300, proc.kill)  # a hung run fails the test instead of the suite
    guard.start()
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
    finally:
        guard.cancel()
    if os.WIFSTOPPED(status):
        return proc
    proc.returncode = os.waitstatus_to_exitcode(status)
    return None


def _run_in_process(
    args: list[str], *, cwd: Path | None, stdin: str | None, env: dict[str, str] | None
) -> subprocess.CompletedProcess[str]:
    from typer.testing import CliRunner

    from personaforge.cli import main as cli_main
    from personaforge.cli.app import STATE

    saved_environ = dict(os.environ)
    saved_cwd = os.getcwd()
    saved_argv = sys.argv
    saved_signals = {s: signal.getsignal(s) for s in _SIGNALS}
    saved_state = (STATE.quiet, STATE.verbose)
    code: int = 0
    with CliRunner().isolation(input=stdin, env=env) as streams:
        out, errs = streams[0], streams[1]
        try:
            if cwd is not None:
                os.chdir(cwd)
            sys.argv = ["personaforge", *args]
            cli_main.main(args)
        except SystemExit as exc:
            code = _exit_code(exc.code)
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.chdir(saved_cwd)
            sys.argv = saved_argv
            STATE.quiet, STATE.verbose = saved_state
            for sig, handler in saved_signals.items():
                signal.signal(sig, handler)
            # The run may have loaded a .env into the environment: nothing of it may leak.
            os.environ.clear()
            os.environ.update(saved_environ)
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = errs.getvalue().decode("utf-8", "replace") if errs is not None else ""
    return subprocess.CompletedProcess(["personaforge", *args], code, stdout, stderr)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message") prints it and exits 1
    return 1


def one_error_line(stderr: str) -> str:
    """The one and only non-empty stderr line, which must be an `error:` line (bad input is
    one line, never a traceback)."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a server a test starts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def write_project(
    folder: Path,
    script: str = SCRIPT,
    *,
    resolution: str = SMALL,
    fmt: str = "youtube",
    extra: str = "",
    archetype: str = "host",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.md").write_text(script, encoding="utf-8")
    (folder / "persona.yaml").write_text(
        f"schema_version: 1\nname: Tess\narchetype: {archetype}\n", encoding="utf-8"
    )
    (folder / "video.yaml").write_text(
        "schema_version: 1\n"
        "title: Tiny test\n"
        "script: script.md\n"
        f"format: {fmt}\n"
        f"resolution: '{resolution}'\n" + extra,
        encoding="utf-8",
    )
    return folder


def child_pids(pid: int, *, state: str | None = None, live: bool = False) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc): only those in ``state`` ("T":
    stopped) if given, and with ``live`` none that is a zombie ("Z")."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) != pid or (state is not None and fields[0] != state):
                continue
            if not (live and fields[0] == "Z"):
                found.append(int(entry.name))
    return found


def webvtt_parser_dir() -> Path | None:
    """The W3C WebVTT parser (npm webvtt-parser) in .tools/ or $PERSONAFORGE_WEBVTT_PARSER."""
    env = os.environ.get("PERSONAFORGE_WEBVTT_PARSER")
    d = Path(env) if env else REPO / ".tools" / "node_modules" / "webvtt-parser"
    return d if d.is_dir() else None


W3C_VTT_CHECK = """
const dir = process.argv[1];
const {WebVTTParser} = require(dir);
// The built-in entity table mishandles "&lt;"; the package ships the full HTML one.
const entities = require(require('path').join(dir, 'html-entities.json'));
const text = require('fs').readFileSync(0, 'utf8');
const meta = new WebVTTParser().parse(text, 'metadata');
const full = new WebVTTParser(entities).parse(text);
const flat = (nodes) => nodes.map(n => n.type === 'text' ? n.value : flat(n.children)).join('');
console.log(JSON.stringify({
  errors: meta.errors.concat(full.errors),
  cues: full.cues.map(c => [c.startTime, c.endTime, flat(c.tree.children)]),
}));
"""


def w3c_vtt(text: str) -> dict[str, Any] | None:
    """What the W3C parser reads of a WebVTT file: its ``errors`` and its ``cues`` as
    (start, end, text); None where node or the parser isn't installed."""
    parser, node = webvtt_parser_dir(), shutil.which("node")
    if parser is None or node is None:
        return None
    run = subprocess.run(
        [node, "-e", W3C_VTT_CHECK, str(parser.resolve())],
        input=text, capture_output=True, text=True, encoding="utf-8", check=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(run.stdout)
    return result
