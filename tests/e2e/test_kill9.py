"""kill -9 at many moments of make-video, then a re-run: the same video, nothing corrupt."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from helpers import run_cli, start_stopped_after_writing, write_project

from personaforge.fsutil import sha256_file
from personaforge.media.probe import probe

pytestmark = pytest.mark.slow

SCRIPT = """# Kill test

First sentence, spoken aloud for the test.
Second sentence, also spoken aloud.
"""


# Moments to kill at, in the order a run reaches them (the file whose writing is the moment);
# each run resumes from the last, so each one reaches its moment.
KILL_POINTS: list[tuple[str, str]] = [
    ("plan written", "*/build/plan.yaml"),
    ("first speech shot", "*/build/speech/*.json"),
    ("speech written", "*/build/speech.yaml"),
    ("first clip", "*/build/clips/*.json"),
    ("clips written", "*/build/lipsync.yaml"),
    ("rendering", "*/build/render/*"),
    ("render written", "*/build/render.yaml"),
]


def _kill_after_writing(folder: Path, pattern: str) -> bool:
    """Run make-video and SIGKILL it right after it writes ``pattern``; False if it never did."""
    proc = start_stopped_after_writing(
        pattern, "-q", "make-video", str(folder),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    if proc is None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _check_intact(folder: Path) -> None:
    """Every per-shot record names media with exactly the recorded content."""
    for record in (folder / "build").glob("*/*.json"):
        if record.name.endswith(".job.json") or record.name.startswith("."):
            continue
        data = json.loads(record.read_text())
        media = data.get("audio") or data.get("clip")
        sha = data.get("audio_sha256") or data.get("clip_sha256")
        assert media and sha, record
        assert sha256_file(folder / media) == sha, record


def test_kill_9_at_many_points_then_rerun_gives_the_same_video(tmp_path: Path) -> None:
    reference = write_project(tmp_path / "ref", SCRIPT)
    ref = run_cli("make-video", str(reference), "--json", "--quiet")
    assert ref.returncode == 0, ref.stderr
    ref_video = Path(json.loads(ref.stdout)["video"])

    folder = write_project(tmp_path / "killed", SCRIPT)
    killed = [name for name, pattern in KILL_POINTS if _kill_after_writing(folder, pattern)]
    assert killed == [name for name, _ in KILL_POINTS]  # every moment was really hit
    _check_intact(folder)

    again = run_cli("make-video", str(folder), "--json", "--quiet")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    video = Path(result["video"])
    # Deterministic voice and clips: the resumed build is the reference, bit for bit.
    assert sha256_file(video) == sha256_file(ref_video)
    info = probe(video)
    assert info.width == 320 and info.height == 180
    _check_intact(folder)
    for manifest in (folder / "build").glob("*.yaml"):
        assert isinstance(yaml.safe_load(manifest.read_text()), dict), manifest
    status = run_cli("status", str(folder), "--json")
    assert all(s["up_to_date"] for s in json.loads(status.stdout).values()), status.stdout
    published = [Path(u.removeprefix("file://")) for u in result["published"]]
    assert published and all(p.is_file() for p in published)
    assert sha256_file(next(p for p in published if p.suffix == ".mp4")) == sha256_file(video)
    # What the killed runs left behind is only temp files, and gc takes them away.
    gc = run_cli("cache", "gc", str(folder), "--json")
    assert gc.returncode == 0, gc.stderr
    removed = json.loads(gc.stdout)[0]["removed"]
    assert all(".tmp" in Path(p).name for p in removed), removed
    assert not [p for p in (folder / "build").rglob("*") if ".tmp" in p.name]
    assert sha256_file(video) == sha256_file(ref_video)
