"""Narration from a recorded take, offline: takes made by another engine than the offline voice
(espeak-ng, flite) with known word onsets, uneven pauses, a filler and a noise burst."""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from helpers import run_cli, write_project
from mediacheck import loudness_and_true_peak
from narration_takes import engines, make_take

pytestmark = pytest.mark.skipif(
    not engines(), reason="needs espeak-ng or flite (scripts/ensure-test-tools installs them)"
)

SENTENCES = [
    "Welcome to the show about the deep ocean.",
    "Today we look at how whales talk across hundreds of miles.",
    "Their songs travel far because sound moves quickly in water.",
]


def _spoken(folder: Path) -> list[dict[str, object]]:
    speech = yaml.safe_load((folder / "build" / "speech.yaml").read_text())
    shots: list[dict[str, object]] = speech["shots"]
    return shots


def _video_times(folder: Path) -> list[list[float]]:
    """Each talking shot's word starts, in the video's time."""
    t = 0.0
    out = []
    for shot in _spoken(folder):
        out.append([t + w["start"] for w in shot["words"]])  # type: ignore[index,attr-defined]
        t += shot["frames"] / 30  # type: ignore[operator]
    return out


@pytest.fixture(scope="module")
def narrated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, dict[str, object]]:
    folder = write_project(
        tmp_path_factory.mktemp("narrated") / "proj",
        "\n".join(SENTENCES) + "\n",
        extra="narration: {file: take.wav}\n",
    )
    take = make_take(SENTENCES, engine=engines()[0])
    take.write(folder / "take.wav")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return folder, take, json.loads(proc.stdout)


def test_each_sentence_and_word_where_it_is_said(narrated: tuple[Path, object, dict]) -> None:
    folder, take, _ = narrated
    lead = take.onsets[0][0] - 0.25  # type: ignore[attr-defined]  # the trimmed silence
    times = _video_times(folder)
    firsts, errors = [], []
    for k, starts in enumerate(times):
        truth = [t - lead for t in take.onsets[k]]  # type: ignore[attr-defined]
        assert len(starts) == len(truth)
        firsts.append(abs(starts[0] - truth[0]))
        errors += [abs(a - b) for a, b in zip(starts, truth, strict=True)]
    assert max(firsts) <= 0.100, firsts
    assert statistics.median(errors) <= 0.060, errors


def test_the_take_is_the_sound_at_the_house_loudness(narrated: tuple[Path, object, dict]) -> None:
    folder, take, result = narrated
    video = Path(str(result["video"]))
    trimmed = take.ends[-1][-1] - take.onsets[0][0] + 0.5  # type: ignore[attr-defined]
    assert abs(float(result["duration_s"]) - trimmed) < 0.15  # type: ignore[arg-type]
    loud, peak = loudness_and_true_peak(video)
    assert abs(loud - -14.0) <= 1.0 and peak <= -0.9
    # The filler and the noise burst stay in the audio but are never captions.
    vtt = Path(str(result["captions"])).read_text()
    assert "um" not in vtt.lower().split()
    words = [w["text"] for s in _spoken(folder) for w in s["words"]]  # type: ignore[union-attr]
    assert words == " ".join(SENTENCES).split()
    # The mouth moves while a word is said and is shut in the pauses.
    shot = _spoken(folder)[1]
    visemes = shot["visemes"]
    assert len({v["v"] for v in visemes}) >= 5  # type: ignore[union-attr,index]
    with av.open(str(video)) as c:
        assert c.streams.audio[0].duration is not None


def test_rerun_does_nothing_new_take_reruns_speak(narrated: tuple[Path, object, dict]) -> None:
    folder, _, _ = narrated
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    stages = json.loads(proc.stdout)["stages"]
    assert {s["status"] for s in stages.values()} == {"skipped"}, stages
    copy = folder.parent / "copy"
    shutil.copytree(folder, copy)
    make_take(SENTENCES, engine=engines()[0], seed=7, lead_s=0.5).write(copy / "take.wav")
    proc = run_cli("status", str(copy), "--json")
    status = json.loads(proc.stdout)
    text = json.dumps(status)
    assert "narration" in text, text


def _project(tmp_path: Path, script: str, take_sentences: list[str], **kw: object) -> Path:
    folder = write_project(tmp_path / "p", script, extra="narration: {file: take.wav}\n")
    make_take(take_sentences, engine=engines()[0], **kw).write(folder / "take.wav")  # type: ignore[arg-type]
    return folder


def test_take_lacking_most_of_the_script_names_the_file(tmp_path: Path) -> None:
    folder = _project(tmp_path, "\n".join(SENTENCES * 2) + "\n", SENTENCES[:1], filler_after=None)
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "take.wav" in lines[0] and "lacks" in lines[0], lines


def test_take_much_longer_than_the_script(tmp_path: Path) -> None:
    folder = _project(tmp_path, SENTENCES[0] + "\n", SENTENCES * 3, filler_after=None)
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet")
    assert proc.returncode == 1
    assert "take.wav" in proc.stderr and "speech" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("kind", ["silent", "garbage"])
def test_silent_or_unreadable_take_names_the_file(tmp_path: Path, kind: str) -> None:
    folder = write_project(tmp_path / "p", SENTENCES[0] + "\n",
                           extra="narration: {file: take.wav}\n")  # fmt: skip
    take = make_take(SENTENCES[:1], engine=engines()[0])
    if kind == "silent":
        take.samples = np.zeros_like(take.samples)
        take.write(folder / "take.wav")
    else:
        (folder / "take.wav").write_bytes(b"RIFF not really a wave file" * 20)
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "take.wav" in lines[0], lines
    assert ("is silent" in lines[0]) == (kind == "silent")
    assert not (folder / "build" / "speech.yaml").exists()


def test_one_take_per_heading_in_flac_and_mp3(tmp_path: Path) -> None:
    from personaforge.media.ffmpeg import ffmpeg_exe

    script = f"# Intro\n\n{SENTENCES[0]}\n\n# Whales\n\n{SENTENCES[1]}\n"
    folder = write_project(
        tmp_path / "p", script,
        extra='narration: {files: {"Intro": intro.flac, "Whales": whales.mp3}, clean: true}\n',
    )  # fmt: skip
    for name, sentence in (("intro.flac", SENTENCES[0]), ("whales.mp3", SENTENCES[1])):
        wav = make_take([sentence], engine=engines()[-1]).write(tmp_path / "t.wav")
        import subprocess

        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-y", "-i", str(wav), "-ac", "2",
                        "-ar", "44100", str(folder / name)], check=True)  # fmt: skip
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet")
    assert proc.returncode == 0, proc.stderr
    shots = _spoken(folder)
    assert [s["kind"] for s in shots] == ["title", "talking", "title", "talking"]
    assert [w["text"] for w in shots[3]["words"]] == SENTENCES[1].split()  # type: ignore[index]
