"""One run per project: a second run waits or (--no-wait) names the holder; kill -9 frees it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import run_cli

from personaforge.errors import PersonaForgeError
from personaforge.lock import LOCK_NAME, ProjectBusyError, holds, project_lock, read_holder

# Holds the project's lock until killed (or for the given seconds), having said so on stdout.
HOLDER = """
import sys, time
from pathlib import Path
from personaforge.lock import project_lock
with project_lock(Path(sys.argv[1]), command="make-video"):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold(folder: Path, seconds: float) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_reentrant_in_one_process_and_removed_after(tmp_path: Path) -> None:
    with project_lock(tmp_path):
        assert holds(tmp_path)
        holder = read_holder(tmp_path / LOCK_NAME)
        assert holder is not None and holder.pid == os.getpid()
        with project_lock(tmp_path, wait=False):  # stages inside make-video take it again
            assert holds(tmp_path)
        assert holds(tmp_path)
    assert not holds(tmp_path)
    assert not (tmp_path / LOCK_NAME).exists()


def test_no_wait_names_the_holder_then_kill_9_frees_the_lock(project: Path) -> None:
    holder = _hold(project, 600)
    try:
        proc = run_cli("make-video", str(project), "--no-wait", "--no-publish")
        assert proc.returncode == 1, proc.stderr
        errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, proc.stderr
        assert f"pid {holder.pid}" in errors[0] and socket.gethostname() in errors[0]
        assert "busy" in errors[0] and "Traceback" not in proc.stderr
        assert not (project / "build").exists()  # nothing was done
        # A stage command is refused the same way.
        stage = run_cli("plan", str(project), "--no-wait")
        assert stage.returncode == 1 and f"pid {holder.pid}" in stage.stderr
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # The dead holder's file is still there, naming it; the lock itself went with the process.
    stale = read_holder(project / LOCK_NAME)
    assert stale is not None and stale.pid == holder.pid
    again = run_cli("plan", str(project), "--no-wait", "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "ran"
    assert not (project / LOCK_NAME).exists()


def test_second_run_waits_with_a_message(project: Path) -> None:
    holder = _hold(project, 1.5)
    try:
        proc = run_cli("plan", str(project))
    finally:
        holder.wait()
    assert proc.returncode == 0, proc.stderr
    assert f"waiting for make-video (pid {holder.pid} on {socket.gethostname()}" in proc.stderr


def test_busy_in_process_error_is_one_line(tmp_path: Path) -> None:
    holder = _hold(tmp_path, 600)
    try:
        with pytest.raises(ProjectBusyError) as info, project_lock(tmp_path, wait=False):
            pass
        assert isinstance(info.value, PersonaForgeError)
        assert "\n" not in str(info.value) and str(holder.pid) in str(info.value)
        with (
            pytest.raises(ProjectBusyError, match="gave up"),
            project_lock(tmp_path, timeout_s=0.3),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()
    with project_lock(tmp_path, wait=False):
        assert holds(tmp_path)
