"""Render with music, and what a failing ffmpeg leaves behind (nothing half-written)."""

from __future__ import annotations

import json
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli, write_project

from personaforge.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.slow


def _audio_rms(video: Path, start: float, end: float) -> float:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(video), "-ss", f"{start}", "-to", f"{end}",
         "-map", "0:a", "-ac", "1", "-ar", "16000", "-f", "s16le", "-"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def _tail_gap(folder: Path) -> tuple[float, float]:
    """A stretch of silence between the two shots' speech in the narration."""
    import yaml

    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    first = speech["shots"][0]
    end_words = first["words"][-1]["end"]
    return end_words + 0.08, first["frames"] / 30 - 0.02


def test_music_is_mixed_under_the_voice(tmp_path: Path) -> None:
    script = "A first sentence that is spoken here.\nAnd then a second sentence follows it.\n"
    quiet = write_project(tmp_path / "quiet", script)
    music = write_project(
        tmp_path / "music", script, extra="music:\n  file: bed.wav\n  volume: 0.5\n"
    )
    rate = 44100
    t = np.arange(rate * 3) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    with wave.open(str(music / "bed.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(tone.tobytes())
    results = {}
    for folder in (quiet, music):
        proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
        assert proc.returncode == 0, proc.stderr
        results[folder.name] = json.loads(proc.stdout)
    gap = _tail_gap(music)
    assert gap[1] - gap[0] > 0.1
    silent_rms = _audio_rms(Path(results["quiet"]["video"]), *gap)
    music_rms = _audio_rms(Path(results["music"]["video"]), *gap)
    assert music_rms > 5 * max(silent_rms, 1.0), (silent_rms, music_rms)
    # The music (3 s) loops to cover the whole video, which is longer.
    end = results["music"]["duration_s"]
    assert end > 3.5
    assert _audio_rms(Path(results["music"]["video"]), end - 0.3, end - 0.05) > 5 * max(
        silent_rms, 1
    )


def test_missing_music_file_is_a_clear_error(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "Hello there.", extra="music:\n  file: nope.mp3\n")
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: [render]") and "music.file" in last and "nope.mp3" in last


def test_failing_ffmpeg_names_the_stage_and_leaves_nothing_half_written(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "Hello there, world.")
    fake = tmp_path / "fake-ffmpeg"
    # Writes junk to its output file (not to "-", standard output, which a measuring pass
    # names), complains like ffmpeg, and fails.
    fake.write_text(
        "#!/bin/sh\n"
        "for last; do :; done\n"
        '[ "$last" = "-" ] || echo junk > "$last"\n'
        'echo "Unknown encoder libx264" >&2\n'
        "exit 1\n"
    )
    fake.chmod(0o755)
    proc = run_cli(
        "make-video", str(folder), "--no-publish", env={"PERSONAFORGE_FFMPEG": str(fake)}
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: [lipsync]") and "Unknown encoder libx264" in last
    assert "Traceback" not in proc.stderr
    clips = folder / "build" / "clips"
    assert not list(clips.glob("*.mp4")) and not list(clips.glob(".*"))
    assert not (folder / "build" / "lipsync.yaml").exists()
    # Speech finished before the failure and is kept: the next run does not redo it.
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    assert stages["speak"]["status"] == "skipped"
    assert stages["lipsync"]["status"] == "ran"
