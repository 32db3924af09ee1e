"""End to end: make-video with the real voice, animator and ffmpeg; checks probed outputs."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
import webvtt
import yaml
from helpers import run_cli, write_project
from mediacheck import frame_at, loudness_and_true_peak, moov_before_mdat

from personaforge.media.probe import probe

pytestmark = pytest.mark.slow


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _vtt_words(path: Path) -> list[str]:
    return [w for cue in webvtt.read(str(path)) for w in cue.text.split()]


def test_video_has_the_promised_codecs_size_and_duration(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    video = Path(result["video"])
    assert video.is_file() and video.suffix == ".mp4"
    info = probe(video)
    assert info.video_codec == "h264"
    assert info.pix_fmt == "yuv420p"
    assert (info.width, info.height) == (320, 180)
    assert info.fps == pytest.approx(30.0, abs=0.01)
    assert info.audio_codec == "aac"
    assert info.sample_rate == 48000
    with wave.open(str(folder / "build/render/narration.wav")) as w:
        speech_s = w.getnframes() / w.getframerate()
    assert abs(info.duration_s - speech_s) < 0.1
    assert abs(result["duration_s"] - speech_s) < 0.05
    assert moov_before_mdat(video)


def test_every_script_word_is_captioned_in_order(rendered: tuple[Path, dict]) -> None:
    _, result = rendered
    vtt = Path(result["captions"])
    expected = (
        "Tiny test Hello there, this is a short test video."
        " It has two sentences, both spoken aloud."
    )
    assert _vtt_words(vtt) == expected.split()
    srt = vtt.with_suffix(".srt").read_text(encoding="utf-8")
    assert "-->" in srt and "Hello" in srt


def test_caption_cues_follow_the_voice(rendered: tuple[Path, dict]) -> None:
    """Each cue lies within the audio of the words it shows (no drift across shots)."""
    folder, result = rendered
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    starts, offset = [], 0.0
    for shot in speech["shots"]:
        for w in shot["words"]:
            starts.append((w["text"], offset + w["start"]))
        offset += shot["frames"] / 30
    cues = list(webvtt.read(result["captions"]))
    first_words = [c.text.split()[0] for c in cues]
    idx = 0
    for cue, first in zip(cues, first_words, strict=True):
        while starts[idx][0] != first:
            idx += 1
        assert abs(_seconds(cue.start) - starts[idx][1]) < 0.05


def test_captions_are_burned_into_the_frames(rendered: tuple[Path, dict], tmp_path: Path) -> None:
    import shutil

    folder, result = rendered
    cues = list(webvtt.read(result["captions"]))
    mid = (_seconds(cues[1].start) + _seconds(cues[1].end)) / 2
    final = frame_at(Path(result["video"]), mid).astype(int)
    # The same project rendered without burned captions: captions are the difference.
    bare = tmp_path / "bare"
    shutil.copytree(folder, bare, ignore=shutil.ignore_patterns("published"))
    spec = bare / "video.yaml"
    spec.write_text(spec.read_text() + "captions: {burn: false}\n")
    proc = run_cli("make-video", str(bare), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stages"]["speak"]["status"] == "skipped"
    raw = frame_at(Path(json.loads(proc.stdout)["video"]), mid).astype(int)
    diff = np.abs(final - raw).sum(axis=2) > 120
    h = diff.shape[0]
    assert diff[int(h * 0.6) :].mean() > 0.01, "no caption pixels in the lower part"
    assert diff[: int(h * 0.3)].mean() < 0.005, "unexpected changes at the top"


def test_audio_is_loudness_normalised(rendered: tuple[Path, dict]) -> None:
    _, result = rendered
    loudness, peak = loudness_and_true_peak(Path(result["video"]))
    assert loudness == pytest.approx(-14.0, abs=1.0)
    assert peak <= -1.0


def test_json_reports_stages_and_publish(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    assert set(result) >= {"video", "captions", "duration_s", "published", "stages"}
    assert [
        result["stages"][s]["status"] for s in ("plan", "speak", "lipsync", "render", "publish")
    ] == ["ran"] * 5
    assert result["stages"]["plan"]["shots"] == 3
    urls = result["published"]
    # One heading gives one chapter, which YouTube would not show: no chapters file.
    assert len(urls) == 4 and all(u.startswith("file://") for u in urls)
    published = sorted(p.name for p in (folder / "published").rglob("*") if p.is_file())
    assert published == ["tiny-test.jpg", "tiny-test.mp4", "tiny-test.srt", "tiny-test.vtt"]


def test_second_run_redoes_nothing(rendered: tuple[Path, dict]) -> None:
    folder, _ = rendered
    before = {p: p.stat().st_mtime_ns for p in (folder / "build").rglob("*") if p.is_file()}
    proc = run_cli("make-video", str(folder), "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    again = json.loads(proc.stdout)
    assert {s: v["status"] for s, v in again["stages"].items()} == dict.fromkeys(
        ("plan", "speak", "lipsync", "render", "publish"), "skipped"
    )
    after = {p: p.stat().st_mtime_ns for p in (folder / "build").rglob("*") if p.is_file()}
    assert after == before
    status = run_cli("status", str(folder), "--json")
    assert all(v["up_to_date"] for v in json.loads(status.stdout).values())


def test_editing_one_sentence_redoes_only_that_shot(tmp_path: Path) -> None:
    script = (
        "# Edits\n\nThe first sentence stays the same.\nThe second sentence will change soon.\n"
    )
    folder = write_project(tmp_path / "p", script)
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet").returncode == 0
    (folder / "script.md").write_text(script.replace("change soon", "be different now"))
    status = json.loads(run_cli("status", str(folder), "--json").stdout)
    assert status["plan"] == {"up_to_date": False, "reason": "changed: script"}
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    assert stages["speak"]["status"] == "ran" and stages["speak"]["reused_shots"] == 2
    assert stages["lipsync"]["status"] == "ran" and stages["lipsync"]["reused_shots"] == 2
    assert stages["render"]["status"] == "ran"
    assert "different" in " ".join(_vtt_words(Path(json.loads(proc.stdout)["captions"])))


def test_shell_pipeline_matches_make_video(tmp_path: Path) -> None:
    """plan | speak | lipsync | render | publish gives the very video make-video gives."""
    import hashlib
    import subprocess
    import sys

    script = "# Pipes\n\nOne short sentence for the pipe test.\n"
    piped = write_project(tmp_path / "piped", script)
    made = write_project(tmp_path / "made", script)
    cli = f"{sys.executable} -m personaforge --quiet"
    cmd = f"{cli} plan {piped} | {cli} speak - | {cli} lipsync - | {cli} render - | {cli} publish -"
    proc = subprocess.run(
        ["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(piped / "build" / "publish.yaml")
    result = json.loads(run_cli("make-video", str(made), "--json", "--quiet").stdout)

    def digest(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    piped_video = piped / yaml.safe_load((piped / "build/render.yaml").read_text())["video"]["path"]
    assert digest(piped_video) == digest(Path(result["video"]))
    assert (piped / "build/tiny-test.vtt").read_text() == Path(result["captions"]).read_text()
    # And make-video on the piped project finds nothing left to do.
    again = json.loads(run_cli("make-video", str(piped), "--json", "--quiet").stdout)
    assert all(v["status"] == "skipped" for v in again["stages"].values())


@pytest.mark.parametrize("fmt,size", [("shorts", (1080, 1920)), ("square", (1080, 1080))])
def test_formats_pick_the_frame_size(tmp_path: Path, fmt: str, size: tuple[int, int]) -> None:
    """Real sizes, on a one-word script so the full-size render stays short."""
    folder = write_project(tmp_path / fmt, "Hi.\n", fmt=fmt, resolution="")
    video_yaml = folder / "video.yaml"
    video_yaml.write_text(video_yaml.read_text().replace("resolution: ''\n", ""))
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    info = probe(Path(json.loads(proc.stdout)["video"]))
    assert (info.width, info.height) == size
    burned = next((folder / "build/clips").glob("*.ass"))  # beside its shot's segment
    style = next(ln for ln in burned.read_text().splitlines() if ln.startswith("Style:"))
    margin_v = int(style.split(",")[-2])
    # Portrait captions clear the bottom fifth, where Shorts/Reels draw their own buttons.
    assert margin_v >= (0.2 * size[1] if fmt == "shorts" else 0.05 * size[1])


def test_status_notices_a_deleted_published_file(
    rendered: tuple[Path, dict], tmp_path: Path
) -> None:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(rendered[0], folder)
    # The copy's publish.yaml points at the original folder's files: republish here first.
    assert run_cli("publish", str(folder), "--force", "--quiet").returncode == 0
    before = json.loads(run_cli("status", str(folder), "--json").stdout)
    assert before["publish"]["up_to_date"] is True
    next((folder / "published").rglob("*.vtt")).unlink()
    after = json.loads(run_cli("status", str(folder), "--json").stdout)
    assert after["publish"] == {
        "up_to_date": False,
        "reason": "not in storage any more: tiny-test.vtt",
    }
    assert after["render"]["up_to_date"] is True


def test_a_run_reads_each_manifest_once(
    rendered: tuple[Path, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10-minute video's speech manifest takes ~0.3 s to read: the cost at the end of a
    run is added up from the manifests the run already holds, not read again."""
    import shutil

    from personaforge.commands.make_video import make_video, recorded_cost, status
    from personaforge.core.manifests import Recorded
    from personaforge.core.project import Project
    from personaforge.runtime import common

    folder = tmp_path / "copy"
    shutil.copytree(rendered[0], folder)
    reads: list[str] = []
    real = common.load_model

    def counted(model, path, **kwargs):  # type: ignore[no-untyped-def]
        reads.append(Path(path).name)
        return real(model, path, **kwargs)

    monkeypatch.setattr(common, "load_model", counted)
    result = make_video(Project.open(folder), do_publish=False)
    assert not any(s.ran for s in result.stages)
    assert "speech.yaml" in reads and len(reads) == len(set(reads)), reads
    assert result.cost == recorded_cost(Project.open(folder))
    # status, as its command runs it, with the cost at the foot.
    reads.clear()
    read: dict[str, Recorded] = {}
    rows = status(Project.open(folder), read)
    assert all(r.up_to_date for r in rows if r.stage != "publish")
    assert recorded_cost(Project.open(folder), read) == result.cost
    assert "speech.yaml" in reads and len(reads) == len(set(reads)), reads
