"""Smart render: each shot encoded once into a segment, joined by stream copy; probed."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import pytest
import webvtt
import yaml
from helpers import run_cli, write_project
from mediacheck import loudness_and_true_peak, moov_before_mdat

pytestmark = pytest.mark.slow

FPS = 30


def _frame_times(video: Path) -> list[int]:
    """Every decoded frame's pts, in stream time-base units, decoding to the very end."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return [frame.pts for frame in container.decode(stream)]


def test_the_assembled_video_decodes_whole_with_no_gap_at_a_cut(
    rendered: tuple[Path, dict],
) -> None:
    folder, result = rendered
    video = Path(result["video"])
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    shot_frames = [s["frames"] for s in speech["shots"]]
    pts = _frame_times(video)
    assert len(pts) == sum(shot_frames)  # exact, and PyAV decoded to the end
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        step = round(1 / (FPS * stream.time_base))
        assert stream.codec_context.profile == "High"
        assert stream.codec_context.pix_fmt == "yuv420p"
        audio = container.streams.audio[0]
        assert (audio.codec_context.name, audio.rate, audio.channels) == ("aac", 48000, 2)
    # Every frame one step after the last: no gap and no duplicate, at the cuts included.
    assert pts[0] == 0
    assert {b - a for a, b in itertools.pairwise(pts)} == {step}
    assert moov_before_mdat(video)


def test_the_video_is_the_segments_joined_without_re_encoding(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    lipsync = yaml.safe_load((folder / "build/lipsync.yaml").read_text())

    def packets(path: Path) -> list[list[bytes]]:
        with av.open(str(path)) as container:
            return [
                _nal_units(bytes(p)) for p in container.demux(container.streams.video[0]) if p.size
            ]

    joined = [p for shot in lipsync["shots"] for p in packets(folder / shot["clip"])]
    # Byte for byte: the encoded pictures are the segments' own.
    assert packets(Path(result["video"])) == joined


def _nal_units(packet: bytes) -> list[bytes]:
    """The packet's NAL units (4-byte length prefixed, as in mp4) but the parameter sets (SPS,
    PPS), which the muxer may repeat in band at a cut."""
    units, at = [], 0
    while at + 4 <= len(packet):
        size = int.from_bytes(packet[at : at + 4], "big")
        unit = packet[at + 4 : at + 4 + size]
        if unit and unit[0] & 0x1F not in (7, 8):
            units.append(unit)
        at += 4 + size
    return units


def test_loudness_is_minus_14_lufs_with_true_peak_under_minus_1(
    rendered: tuple[Path, dict],
) -> None:
    loudness, peak = loudness_and_true_peak(Path(rendered[1]["video"]))
    assert loudness == pytest.approx(-14.0, abs=1.0)
    assert peak <= -1.0


def test_captions_start_within_one_frame_of_their_words(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    offset, words = 0.0, []
    for shot in speech["shots"]:
        words += [(w["text"], offset + w["start"]) for w in shot["words"]]
        offset += shot["frames"] / FPS
    idx = 0
    for cue in webvtt.read(result["captions"]):
        first = cue.text.split()[0]
        while words[idx][0] != first:
            idx += 1
        h, m, sec = cue.start.split(":")
        start = int(h) * 3600 + int(m) * 60 + float(sec)
        assert abs(start - words[idx][1]) < 1 / FPS


def test_editing_one_sentence_re_encodes_one_segment(tmp_path: Path) -> None:
    script = "# Edit\n\nThe first sentence stays the same.\nThe second sentence will change soon.\n"
    folder = write_project(tmp_path / "p", script)
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet").returncode == 0
    clips = folder / "build" / "clips"
    before = {p.name: p.stat().st_mtime_ns for p in clips.glob("*.mp4")}
    (folder / "script.md").write_text(script.replace("change soon", "be different now"))
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lipsync = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    used = [Path(s["clip"]).name for s in lipsync["shots"]]
    encoded = [name for name in used if name not in before]
    assert len(used) == 3 and len(encoded) == 1
    # The two unchanged segments are the very files made by the first run.
    assert all((clips / n).stat().st_mtime_ns == before[n] for n in used if n in before)
    stages = json.loads(proc.stdout)["stages"]
    assert stages["lipsync"]["reused_shots"] == 2 and stages["render"]["status"] == "ran"
    assert len(_frame_times(Path(json.loads(proc.stdout)["video"]))) == sum(
        s["frames"] for s in lipsync["shots"]
    )


def test_loudness_target_is_set_in_video_yaml(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "quiet",
        "A calm sentence, spoken at a lower level than usual.\n",
        extra="loudness: {target_lufs: -23, true_peak_db: -3}\n",
    )
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    loudness, peak = loudness_and_true_peak(Path(json.loads(proc.stdout)["video"]))
    assert loudness == pytest.approx(-23.0, abs=1.0)
    assert peak <= -3.0


def test_the_soundtrack_is_made_once_and_copied_under_the_video(tmp_path: Path) -> None:
    """make-video encodes the soundtrack while the segments are encoded; render only copies it.
    A change that leaves the audio alone (the caption style) keeps the very same soundtrack."""
    script = "A short line to hear.\nAnd one more line after it.\n"
    folder = write_project(tmp_path / "p", script)
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    tracks = list((folder / "build/render").glob("soundtrack-*.m4a"))
    assert len(tracks) == 1
    made = tracks[0].stat().st_mtime_ns
    video = Path(json.loads(proc.stdout)["video"])

    def audio_packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]

    # The video's audio is the soundtrack's packets, copied.
    assert audio_packets(video) == audio_packets(tracks[0])
    spec = folder / "video.yaml"
    spec.write_text(spec.read_text() + "captions: {style: boxed}\n")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stages"]["render"]["status"] == "ran"
    assert list((folder / "build/render").glob("soundtrack-*.m4a")) == tracks
    assert tracks[0].stat().st_mtime_ns == made
    # A new voice line makes a new soundtrack, and the old one is removed.
    (folder / "script.md").write_text(script.replace("one more", "a different"))
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet").returncode == 0
    now = list((folder / "build/render").glob("soundtrack-*.m4a"))
    assert len(now) == 1 and now != tracks
