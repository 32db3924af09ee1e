"""Ctrl-C mid-run: exit 130, no temp or half-written files, and the next run resumes."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from helpers import run_cli, start_stopped_after_writing, write_project

pytestmark = pytest.mark.slow

SCRIPT = "\n".join(
    f"This is sentence number {n}, spoken so that there is more than one clip." for n in range(4)
)


def test_interrupt_exits_130_and_the_next_run_resumes(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", SCRIPT)
    clips = folder / "build" / "clips"
    stderr_file = tmp_path / "stderr.txt"
    with stderr_file.open("w") as stderr_out:
        # Stopped right after lipsync writes its first clip: Ctrl-C lands mid-lipsync, always.
        proc = start_stopped_after_writing(
            f"{clips}/*.json", "make-video", str(folder), "--no-publish",
            stdout=subprocess.DEVNULL, stderr=stderr_out,
            env={"PYTHONUNBUFFERED": "1"},
            # A suite started in the background (`make test &`) ignores SIGINT, and so would
            # the CLI it starts: Python then installs no Ctrl-C handler. This test is about it.
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )  # fmt: skip
        assert proc is not None, "the run ended before it wrote a clip"
        proc.send_signal(signal.SIGINT)
        proc.send_signal(signal.SIGCONT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    stderr = stderr_file.read_text()
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
