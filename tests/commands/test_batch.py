"""batch: many projects with a local pool; a broken one fails alone; cache gc afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli, write_project

from personaforge.commands.batch import recorded_cost
from personaforge.core.project import Project
from personaforge.media.probe import probe

pytestmark = pytest.mark.slow

SHORT = "# Batch\n\nOne short sentence for the batch.\n"


def test_batch_renders_all_but_the_broken_one_then_all_up_to_date(tmp_path: Path) -> None:
    good = [
        write_project(tmp_path / f"p{i}", SHORT.replace("One", f"Number {i}, one")) for i in (1, 2)
    ]
    broken = write_project(tmp_path / "broken", extra="backends: {lipsync: avtar}\n")
    missing = tmp_path / "nowhere"
    proc = run_cli("batch", str(good[0]), str(broken), str(good[1]), str(missing), "--jobs", "2",
                   "--no-publish")  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    # One progress line per project on stderr, a table on stdout.
    progress = [ln for ln in proc.stderr.splitlines() if ln.startswith("[")]
    assert len(progress) == 4, proc.stderr
    assert any(f"failed  {broken}" in ln and "[lipsync]" in ln for ln in progress), progress
    rows = {ln.split()[0]: ln for ln in proc.stdout.splitlines()[1:-1]}
    assert set(rows) == {str(good[0]), str(good[1]), str(broken), str(missing)}
    assert rows[str(broken)].split()[1] == "failed"
    # The reason is make-video's own one-line error, naming the field.
    assert "avtar" in rows[str(broken)] and "lipsync" in rows[str(broken)]
    assert rows[str(missing)].split()[1] == "failed" and "not a project" in rows[str(missing)]
    for folder in good:
        assert rows[str(folder)].split()[1] == "ok"
        assert "$0.0000" in rows[str(folder)]  # offline backends cost nothing
        video = next((folder / "build").glob("*.mp4"))
        assert probe(video).width == 320
    assert proc.stdout.splitlines()[-1].startswith("2 ok, 2 failed, 0 skipped")
    assert recorded_cost(Project(good[0]))["usd"] == 0

    again = run_cli("batch", *map(str, good), "--json", "--no-publish", "-j", "2")
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["ok"], data["failed"], data["skipped"]) == (2, 0, 0)
    assert [p["reason"] for p in data["projects"]] == ["up to date", "up to date"]


def test_fail_fast_skips_projects_not_started(tmp_path: Path) -> None:
    broken = write_project(tmp_path / "broken", extra="backends: {plan: nope}\n")
    later = write_project(tmp_path / "later", SHORT)
    proc = run_cli("batch", str(broken), str(later), str(broken), "--fail-fast", "--json")
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    outcomes = [(p["outcome"], p["reason"]) for p in data["projects"]]
    assert outcomes[0][0] == "failed" and "nope" in outcomes[0][1]
    assert outcomes[1][0] == "skipped" and "fail-fast" in outcomes[1][1]
    assert outcomes[2] == ("skipped", "listed twice")
    assert not (later / "build").exists()


def test_cache_gc_removes_only_unreferenced_shots(
    rendered: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "proj"
    shutil.copytree(rendered[0], folder)
    clips = folder / "build" / "clips"
    stale = [clips / "0123456789abcdef01234567.mp4", clips / "0123456789abcdef01234567.json",
             clips / ".x.abc.tmp.mp4", folder / "build" / "old-title.mp4"]  # fmt: skip
    for path in stale:
        path.write_bytes(b"old")
    kept = sorted(p for p in (folder / "build").rglob("*") if p.is_file() and p not in stale)
    dry = run_cli("cache", "gc", str(folder), "--dry-run")
    assert dry.returncode == 0 and all(p.exists() for p in stale)
    assert sorted(dry.stdout.split()) == sorted(map(str, stale))
    proc = run_cli("cache", "gc", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    assert sorted(json.loads(proc.stdout)[0]["removed"]) == sorted(map(str, stale))
    assert not any(p.exists() for p in stale)
    assert sorted(p for p in (folder / "build").rglob("*") if p.is_file()) == kept
    status = run_cli("status", str(folder), "--json")
    stages = json.loads(status.stdout)
    # (publish would run: the copy lives elsewhere, so its local URLs changed)
    assert all(stages[s]["up_to_date"] for s in ("plan", "speak", "lipsync", "render")), stages


def test_a_stopped_batch_stops_its_running_project_and_starts_no_other(tmp_path: Path) -> None:
    # SIGTERM (timeout, systemd, docker stop) reaches the batch's process only: it passes
    # the stop on to the make-video it runs, which cleans up, and starts no other project.
    import os
    import signal
    import subprocess
    import time

    from helpers import CLI, child_pids

    first, second = (write_project(tmp_path / n, SHORT) for n in ("first", "second"))
    proc = subprocess.Popen(
        [*CLI, "batch", str(first), str(second), "--jobs", "1", "--no-publish"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # The child stops itself once it has written its plan: a moment mid-run, exactly.
        env={**os.environ, "PERSONAFORGE_STOP_AFTER_WRITING": str(first / "build" / "plan.yaml")},
    )
    try:
        deadline = time.monotonic() + 120
        while not (child := child_pids(proc.pid, state="T")) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert child, "the project's run never reached its plan"
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "stopped by SIGTERM" in stderr.strip().splitlines()[-1], stderr
    assert not Path(f"/proc/{child[0]}").exists(), "the project's run outlived the batch"
    assert not (first / ".personaforge.lock").exists()
    assert not (second / "build").exists(), "a project was started after the stop"
