"""SIGTERM and SIGHUP (docker stop, systemd, timeout, a closed terminal) stop a run the way
Ctrl-C does: ffmpeg stopped, no temp file, no lock, one line, exit 128 + the signal; the next
run resumes and finishes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import CLI, child_pids, run_cli, write_project

pytestmark = pytest.mark.slow

SCRIPT = "\n".join(f"Sentence number {n} is spoken, so the run takes a while." for n in range(8))


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_is_a_clean_stop_and_the_next_run_resumes(
    tmp_path: Path, sig: signal.Signals
) -> None:
    folder = write_project(tmp_path / "p", SCRIPT)
    proc = subprocess.Popen(
        [*CLI, "make-video", str(folder), "--no-publish"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # As a service manager starts it: the signal's default disposition, not inherited.
        preexec_fn=lambda: signal.signal(sig, signal.SIG_DFL),
    )
    clips = folder / "build" / "clips"
    deadline = time.monotonic() + 120
    ffmpeg: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        if clips.is_dir() and any(clips.glob("*.json")):
            ffmpeg = child_pids(proc.pid)
            if ffmpeg:  # mid-encode: the hardest moment to leave nothing behind
                break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be stopped"
    proc.send_signal(sig)
    try:
        _, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    assert proc.returncode == 128 + sig, stderr
    assert "Traceback" not in stderr
    assert f"stopped by {sig.name}" in stderr.strip().splitlines()[-1]
    assert not any(_alive(pid) for pid in ffmpeg), "ffmpeg outlived the run"
    assert not (folder / ".personaforge.lock").exists()
    assert [p for p in (folder / "build").rglob("*") if ".tmp" in p.name] == []
    assert not (folder / "build" / "lipsync.yaml").exists()
    if sig != signal.SIGTERM:
        return
    done = len(list(clips.glob("*.json")))
    again = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert again.returncode == 0, again.stderr
    stages = json.loads(again.stdout)["stages"]
    assert stages["speak"]["status"] == "skipped"
    assert stages["lipsync"]["reused_shots"] >= done >= 1
