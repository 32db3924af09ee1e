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
from helpers import REPO, run_cli, write_project
from mediacheck import frame_at, loudness_and_true_peak
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
    assert "narration" in proc.stdout, proc.stdout  # status says why speak would re-run
    proc = run_cli("make-video", str(copy), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    assert stages["plan"]["status"] == "skipped"
    assert stages["speak"]["status"] == "ran" and stages["lipsync"]["status"] == "ran"


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


@pytest.mark.parametrize("engine", engines())
def test_take_of_another_text_is_refused(tmp_path: Path, engine: str) -> None:
    # About as long as the script, so only the match itself can tell: never captions of the
    # script over speech that says something else.
    other = ["The weather today is sunny and warm.", "We will go to the beach and swim."]
    folder = write_project(tmp_path / "p", "\n".join(SENTENCES[:2]) + "\n",
                           extra="narration: {file: take.wav}\n")  # fmt: skip
    make_take(other, engine=engine, filler_after=None).write(folder / "take.wav")
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "take.wav" in lines[0] and "does not say" in lines[0], lines
    assert not list((folder / "build").glob("*.mp4"))


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


def test_the_shipped_example_renders_offline(tmp_path: Path) -> None:
    """examples/narrated: its take is the sound, every word captioned in order when it is said,
    and the mouth open while a word is said."""
    example = REPO / "examples" / "narrated"
    folder = tmp_path / "narrated"
    shutil.copytree(example, folder)
    video = yaml.safe_load((folder / "video.yaml").read_text())
    video["resolution"] = "320x180"
    (folder / "video.yaml").write_text(yaml.safe_dump(video))
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    onsets = json.loads((folder / "take.onsets.json").read_text())["onsets"]
    lead = onsets[0][0] - 0.25
    script = (folder / "script.md").read_text().split()
    words = [w["text"] for s in _spoken(folder) for w in s["words"]]  # type: ignore[union-attr]
    assert words == script
    times = _video_times(folder)
    for k, starts in enumerate(times):
        assert abs(starts[0] - (onsets[k][0] - lead)) <= 0.1
    result = json.loads(proc.stdout)
    vtt = Path(result["captions"]).read_text()
    assert "Hi, I recorded this myself." in vtt and "um" not in vtt.lower().split()
    # The mouth: open on an open vowel of a word, shut in the pause after the first sentence.
    shot = _spoken(folder)[0]
    keys = shot["visemes"]
    opened = next(k["t"] + 0.03 for k in keys if k["v"] in ("aa", "O"))  # type: ignore[index]
    shut = shot["duration_s"] - 0.1  # type: ignore[operator]
    mouth = (slice(96, 116), slice(145, 175))  # rows, columns of the mouth at 320x180
    a = frame_at(Path(result["video"]), opened)[mouth].astype(float)
    b = frame_at(Path(result["video"]), shut)[mouth].astype(float)
    assert np.abs(a - b).mean() > 4, np.abs(a - b).mean()


def test_editing_the_script_without_a_new_take(narrated: tuple[Path, object, dict]) -> None:
    folder, _, _ = narrated
    edited = folder.parent / "edited"
    shutil.copytree(folder, edited)
    # Punctuation and case are not words: the take still says this script.
    lines = [*SENTENCES[:2], SENTENCES[2].replace("far", "FAR,")]
    (edited / "script.md").write_text("\n".join(lines) + "\n")
    proc = run_cli("make-video", str(edited), "--no-publish", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = [SENTENCES[0], SENTENCES[1].replace("whales", "dolphins"), SENTENCES[2]]
    (edited / "script.md").write_text("\n".join(lines) + "\n")
    proc = run_cli("make-video", str(edited), "--no-publish", "--quiet")
    assert proc.returncode == 1
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "script.md:2:" in err[0] and "changed since take.wav" in err[0], err


@pytest.mark.parametrize("engine", engines())
def test_offline_aligner_on_speech_without_gaps(tmp_path: Path, engine: str) -> None:
    """The aligner alone, on a take whose words follow each other with no silence between."""
    import subprocess

    from personaforge.backends.align.offline import OfflineAligner
    from personaforge.media.ffmpeg import ffmpeg_exe

    take = make_take(SENTENCES, engine=engine, gaps=(0.0, 0.01), seed=3)
    wav = take.write(tmp_path / "t.wav")
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(wav), "-ar", "16000",
                    str(tmp_path / "t16.wav")], check=True)  # fmt: skip
    aligned = OfflineAligner().align(tmp_path / "t16.wav", SENTENCES)
    errors, firsts = [], []
    for k, sentence in enumerate(aligned.sentences):
        starts = [w.start for w in sentence.words]
        firsts.append(abs(starts[0] - take.onsets[k][0]))
        errors += [abs(a - b) for a, b in zip(starts, take.onsets[k], strict=True)]
    assert max(firsts) <= 0.100, firsts
    assert statistics.median(errors) <= 0.060, errors


@pytest.mark.skipif("espeak-ng" not in engines(), reason="needs espeak-ng")
def test_offline_aligner_in_another_language(tmp_path: Path) -> None:
    """A Spanish script: the reference is that language's offline voice (espeak-ng's draft)."""
    import subprocess

    from personaforge.backends.align.offline import OfflineAligner
    from personaforge.media.ffmpeg import ffmpeg_exe

    said = ["Hola, bienvenidos al programa sobre el océano.", "Hoy vemos cómo hablan las ballenas."]
    take = make_take(said, engine="espeak-ng", voice="es+f3", noise_after=None)
    wav = take.write(tmp_path / "t.wav")
    subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(wav), "-ar", "16000",
                    str(tmp_path / "t16.wav")], check=True)  # fmt: skip
    aligned = OfflineAligner(language="es").align(tmp_path / "t16.wav", said)
    assert [w.text for w in aligned.sentences[0].words] == said[0].split()
    for k, sentence in enumerate(aligned.sentences):
        assert abs(sentence.words[0].start - take.onsets[k][0]) <= 0.1
