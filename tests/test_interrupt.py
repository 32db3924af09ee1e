"""Ctrl-C mid-run: exit 130, no temp or half-written files, and the next run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import CLI, run_cli, write_project

pytestmark = pytest.mark.slow

# Enough shots, and frames large enough, that lipsync is still at work when the signal lands:
# each shot is encoded only once and render is a copy now, so a short run at a tiny size
# could finish before a loaded machine polls (seen once in a fresh-clone `make test`).
SCRIPT = "\n".join(
    f"This is sentence number {n}, spoken so that the run takes a little while." for n in range(16)
)


def test_interrupt_exits_130_and_the_next_run_resumes(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", SCRIPT, resolution="640x360")
    proc = subprocess.Popen(
        [*CLI, "make-video", str(folder), "--no-publish"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # A suite started in the background (`make test &`) ignores SIGINT, and so would the
        # CLI it starts: Python then installs no Ctrl-C handler. This test is about Ctrl-C.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    clips = folder / "build" / "clips"
    deadline = time.monotonic() + 120
    # Wait until lipsync has finished at least one clip, then press Ctrl-C.
    while time.monotonic() < deadline and proc.poll() is None:
        if clips.is_dir() and any(clips.glob("*.json")):
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 130, stderr
    # One line saying what the run kept.
    assert "interrupted: what was finished is kept" in stderr
    assert "Traceback" not in stderr
    leftovers = [p for p in (folder / "build").rglob("*") if ".tmp" in p.name]
    assert leftovers == []
    assert not (folder / "build" / "lipsync.yaml").exists()
    done = len(list(clips.glob("*.json")))
    assert done >= 1
    again = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert again.returncode == 0, again.stderr
    stages = json.loads(again.stdout)["stages"]
    assert stages["speak"]["status"] == "skipped"
    assert stages["lipsync"]["reused_shots"] >= done
