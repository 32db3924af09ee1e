"""batch: make many projects on this machine with a pool of worker processes."""

from __future__ import annotations

import json
import os
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

from personaforge.core.models import LipsyncManifest, SpeechManifest
from personaforge.core.project import Project
from personaforge.costs import Billing, summarize
from personaforge.errors import OUTCOME_VAR
from personaforge.stages.common import load_recorded

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


def make_one(folder: Path, *, publish: bool, env: dict[str, str] | None = None) -> BatchItem:
    """One project in its own process: a crash or a kill there never touches the others."""
    item = BatchItem(folder)
    started = time.monotonic()
    argv = [sys.executable, "-m", "personaforge", "-q", "make-video", str(folder), "--json"]
    if not publish:
        argv.append("--no-publish")
    with tempfile.TemporaryDirectory(prefix="pf-batch-") as tmp:
        outcome = Path(tmp) / "outcome.json"
        proc = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            env={**os.environ, **(env or {}), OUTCOME_VAR: str(outcome)},
            stdin=subprocess.DEVNULL,
            check=False,
        )
        failure = None if proc.returncode == 0 else _reason(outcome, proc.returncode, proc.stderr)
    item.duration_s = time.monotonic() - started
    if failure is None:
        try:
            result = json.loads(proc.stdout)
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

    def one(i: int) -> None:
        folder = items[i].project
        if failed.is_set() and not keep_going:
            items[i].reason = "not started: an earlier project failed (--fail-fast)"
        elif not (folder / "video.yaml").is_file():
            items[i].outcome = "failed"
            items[i].reason = f"{folder}: not a project folder (no video.yaml)"
        else:
            items[i] = make_one(folder, publish=publish, env=env)
        if items[i].outcome == "failed":
            failed.set()
        if on_done is not None:
            with report:
                on_done(items[i])

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in [pool.submit(one, i) for i in todo]:
            future.result()
    return items
