"""batch: make many projects on this machine with a pool of worker processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from personaforge.core.manifests import LipsyncManifest, SpeechManifest
from personaforge.core.project import Project
from personaforge.costs import Billing, summarize
from personaforge.errors import OUTCOME_VAR
from personaforge.interrupts import Terminated
from personaforge.runtime.common import load_recorded

Outcome = Literal["ok", "failed", "skipped"]


@dataclass
class BatchItem:
    project: Path
    outcome: Outcome = "skipped"
    reason: str = ""
    duration_s: float = 0.0
    cost_usd: float = 0.0
    video: str | None = None
    published: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)  # the stages that ran (not up to date)

    def as_json(self) -> dict[str, object]:
        return {
            "project": str(self.project),
            "outcome": self.outcome,
            "reason": self.reason,
            "duration_s": round(self.duration_s, 2),
            "cost_usd": self.cost_usd,
            "video": self.video,
            "published": self.published,
            "ran": self.ran,
        }


def recorded_cost(project: Project) -> dict[str, object]:
    """What the project's shots were billed when they were made (costs.summarize)."""
    bills: list[Billing] = []
    speech = load_recorded(SpeechManifest, project.manifest_path("speak"))
    clips = load_recorded(LipsyncManifest, project.manifest_path("lipsync"))
    for shots in (speech.shots if speech else [], clips.shots if clips else []):
        for shot in shots:
            bills.extend(shot.billing)
    return summarize(bills)


def _reason(outcome: Path, returncode: int, stderr: str) -> str:
    """The one-line reason a make-video run gave (its error's text, from the outcome file it
    wrote), or how it died where it wrote none (killed, or broken before the CLI started)."""
    try:
        data = json.loads(outcome.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("text"):
        return str(error["text"])
    if returncode < 0:
        return f"killed by signal {-returncode}"
    last = [ln.strip() for ln in stderr.splitlines() if ln.strip()][-1:]
    return f"exit code {returncode}" + (f": {last[0]}" if last else "")


# How long children stopped by Ctrl-C (the terminal sends it to them too) get to clean up
# before they are sent SIGTERM, and how long after that before they are killed.
_CTRL_C_GRACE_S = 10.0
_STOP_GRACE_S = 30.0


class Running:
    """The make-video processes a batch has running, so that a stop of the batch is passed
    on to them: SIGTERM or SIGHUP reach only the batch's own process (``timeout``, systemd,
    ``docker stop``), and a child left running would outlive it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[str]] = set()
        self.stopping = threading.Event()

    def start(self, argv: list[str], **popen: object) -> subprocess.Popen[str] | None:
        """The child, started; None once the batch is stopping (nothing new starts)."""
        with self._lock:
            if self.stopping.is_set():
                return None
            proc: subprocess.Popen[str] = subprocess.Popen(argv, **popen)  # type: ignore[call-overload]
            self._procs.add(proc)
            return proc

    def finished(self, proc: subprocess.Popen[str]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def stop(self, stopped_by: BaseException) -> None:
        """Stop every child the way the batch was stopped, and wait for each to clean up."""
        self.stopping.set()
        with self._lock:
            procs = list(self._procs)
        if isinstance(stopped_by, Terminated):
            self._signal(procs, stopped_by.signum)
        elif isinstance(stopped_by, KeyboardInterrupt):
            _wait(procs, _CTRL_C_GRACE_S)  # a terminal's Ctrl-C reached them already
            self._signal([p for p in procs if p.poll() is None], signal.SIGTERM)
        else:
            self._signal(procs, signal.SIGTERM)
        for proc in _wait(procs, _STOP_GRACE_S):
            proc.kill()
            proc.wait()

    @staticmethod
    def _signal(procs: Sequence[subprocess.Popen[str]], signum: int) -> None:
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signum)
                proc.send_signal(signal.SIGCONT)  # a stopped child acts on it at once


def _wait(procs: Sequence[subprocess.Popen[str]], timeout_s: float) -> list[subprocess.Popen[str]]:
    """Wait up to ``timeout_s`` in all for ``procs`` to end; those still running."""
    deadline = time.monotonic() + timeout_s
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
    return [p for p in procs if p.poll() is None]


def make_one(
    folder: Path,
    *,
    publish: bool,
    env: dict[str, str] | None = None,
    running: Running | None = None,
) -> BatchItem:
    """One project in its own process: a crash or a kill there never touches the others."""
    item = BatchItem(folder)
    started = time.monotonic()
    argv = [sys.executable, "-m", "personaforge", "-q", "make-video", str(folder), "--json"]
    if not publish:
        argv.append("--no-publish")
    running = running or Running()
    with tempfile.TemporaryDirectory(prefix="pf-batch-") as tmp:
        outcome = Path(tmp) / "outcome.json"
        proc = running.start(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {}), OUTCOME_VAR: str(outcome)},
            stdin=subprocess.DEVNULL,
        )
        if proc is None:
            item.reason = "not started: the batch was stopped"
            return item
        try:
            stdout, stderr = proc.communicate()
        finally:
            running.finished(proc)
        failure = None if proc.returncode == 0 else _reason(outcome, proc.returncode, stderr)
    item.duration_s = time.monotonic() - started
    if failure is None:
        try:
            result = json.loads(stdout)
        except ValueError:
            item.outcome, item.reason = "failed", "make-video printed no result"
            return item
        item.outcome = "ok"
        item.video = result.get("video")
        item.published = list(result.get("published", []))
        stages = result.get("stages", {})
        item.ran = [s for s, r in stages.items() if r.get("status") == "ran"]
        item.reason = "up to date" if not item.ran else "made " + ", ".join(item.ran)
    else:
        item.outcome, item.reason = "failed", failure
    if folder.is_dir():
        usd = recorded_cost(Project(folder))["usd"]
        item.cost_usd = float(usd) if isinstance(usd, (int, float)) else 0.0
    return item


def run_batch(
    folders: Sequence[Path],
    *,
    jobs: int = 1,
    keep_going: bool = True,
    publish: bool = True,
    on_done: Callable[[BatchItem], None] | None = None,
    env: dict[str, str] | None = None,
) -> list[BatchItem]:
    """Make every project, ``jobs`` at a time; results in the order given.

    A failure never stops a project already running; without ``keep_going`` the projects
    not yet started are skipped.
    """
    items = [BatchItem(Path(f)) for f in folders]
    seen: set[str] = set()
    todo: list[int] = []
    for i, item in enumerate(items):
        real = os.path.realpath(item.project)
        if real in seen:
            item.reason = "listed twice"
        else:
            seen.add(real)
            todo.append(i)
    failed = threading.Event()
    report = threading.Lock()
    running = Running()

    def one(i: int) -> None:
        folder = items[i].project
        if running.stopping.is_set():
            items[i].reason = "not started: the batch was stopped"
            return
        if failed.is_set() and not keep_going:
            items[i].reason = "not started: an earlier project failed (--fail-fast)"
        elif not (folder / "video.yaml").is_file():
            items[i].outcome = "failed"
            items[i].reason = f"{folder}: not a project folder (no video.yaml)"
        else:
            items[i] = make_one(folder, publish=publish, env=env, running=running)
        if items[i].outcome == "failed":
            failed.set()
        if on_done is not None:
            with report:
                on_done(items[i])

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    try:
        for future in [pool.submit(one, i) for i in todo]:
            future.result()
    except BaseException as exc:  # Ctrl-C, SIGTERM/SIGHUP: no child outlives the batch
        running.stop(exc)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return items
