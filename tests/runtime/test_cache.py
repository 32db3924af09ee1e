"""The stage cache: downstream keys on upstream content, and stale upstreams are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import one_error_line, run_cli

pytestmark = pytest.mark.slow


@pytest.fixture
def copy(rendered: tuple[Path, dict], tmp_path: Path) -> Path:
    folder = tmp_path / "copy"
    shutil.copytree(rendered[0], folder)
    return folder


def _stages(folder: Path) -> dict[str, dict]:
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    stages: dict[str, dict] = json.loads(proc.stdout)["stages"]
    return stages


def test_resynthesised_identical_audio_does_not_cascade(copy: Path) -> None:
    """The voice is deterministic: lost wavs are remade bit for bit, and nothing else redone."""
    for wav in (copy / "build" / "speech").glob("*.wav"):
        wav.unlink()
    stages = _stages(copy)
    assert stages["speak"]["status"] == "ran" and stages["speak"]["reused_shots"] == 0
    assert stages["lipsync"]["status"] == "skipped"
    assert stages["render"]["status"] == "skipped"


def test_new_audio_always_gets_new_clips(copy: Path) -> None:
    persona = copy / "persona.yaml"
    persona.write_text(persona.read_text() + "voice:\n  speed: 1.3\n")
    stages = _stages(copy)
    assert stages["speak"]["status"] == "ran" and stages["speak"]["reused_shots"] == 0
    assert stages["lipsync"]["status"] == "ran" and stages["lipsync"]["reused_shots"] == 0
    assert stages["render"]["status"] == "ran"
    speech = yaml.safe_load((copy / "build/speech.yaml").read_text())
    clips = yaml.safe_load((copy / "build/lipsync.yaml").read_text())
    assert [s["frames"] for s in speech["shots"]] == [c["frames"] for c in clips["shots"]]


def test_a_change_that_yields_the_same_content_does_not_cascade(copy: Path) -> None:
    persona = copy / "persona.yaml"
    persona.write_text(persona.read_text().replace("name: Tess", "name: Eve"))
    stages = _stages(copy)
    assert stages["plan"]["status"] == "ran"
    assert [stages[s]["status"] for s in ("speak", "lipsync", "render")] == ["skipped"] * 3


def test_stage_run_on_a_stale_upstream_is_refused(copy: Path) -> None:
    script = copy / "script.md"
    script.write_text(script.read_text().replace("short test video", "brand new video"))
    assert run_cli("plan", str(copy), "--quiet").returncode == 0
    proc = run_cli("render", str(copy))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert line.startswith("error: [render]") and "speech.yaml" in line
    assert "out of date (changed: plan)" in line and "personaforge speak" in line
    status = json.loads(run_cli("status", str(copy), "--json").stdout)
    assert status["plan"]["up_to_date"] is True
    assert status["speak"] == {"up_to_date": False, "reason": "changed: plan"}
    assert status["render"]["reason"] == "upstream speak would re-run"


def test_missing_upstream_media_is_named(copy: Path) -> None:
    wav = sorted((copy / "build" / "speech").glob("*.wav"))[0]
    wav.unlink()
    proc = run_cli("render", str(copy), "--force")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert line.startswith("error: [render]") and wav.name in line and "missing" in line


def test_format_override_wins_over_resolution(tmp_path: Path) -> None:
    from helpers import write_project

    from personaforge.media.probe import probe

    folder = write_project(tmp_path / "one", "Hi.\n")  # video.yaml sets 320x180
    proc = run_cli("make-video", str(folder), "--format", "square", "--no-publish", "--json")
    assert proc.returncode == 0, proc.stderr
    info = probe(Path(json.loads(proc.stdout)["video"]))
    # --format changes the shape and keeps the preview's size: 320x180 becomes 180x180.
    assert (info.width, info.height) == (180, 180)
    # A one-off: the project's own settings are unchanged, so status wants the 320x180 clips.
    assert "resolution: '320x180'" in (folder / "video.yaml").read_text()
    status = json.loads(run_cli("status", str(folder), "--json").stdout)
    assert status["lipsync"] == {"up_to_date": False, "reason": "changed: frame"}
