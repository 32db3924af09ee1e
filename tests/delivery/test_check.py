"""`personaforge check` and the encodes it measures: the rendered video meets the stream rules
(colour tags a decoder reads back to the drawn colours, half-second closed GOPs, 2 B-frames,
no edit lists, faststart, loudness), and a file breaking each rule fails that rule."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange, Colorspace

from personaforge.core.project import Project
from personaforge.delivery.check import check, target_of
from personaforge.media.ffmpeg import ffmpeg_exe
from tests.helpers import run_cli, write_project

# AVColorSpace (as the stream carries it) -> the matrix swscale converts with.
_MATRIX = {1: Colorspace.ITU709, 5: Colorspace.ITU601, 6: Colorspace.ITU601}


def _rgb_as_tagged(frame: av.VideoFrame, *, ignore_tags: bool = False) -> np.ndarray:
    """The frame as a browser shows it: converted with the matrix the stream is tagged with
    (untagged: BT.709 from 720 lines up, as Chromium guesses)."""
    guess = Colorspace.ITU709 if frame.height >= 720 else Colorspace.ITU601
    matrix = guess if ignore_tags else _MATRIX.get(int(frame.colorspace), guess)
    rgb = frame.reformat(format="rgb24", src_colorspace=matrix, src_color_range=ColorRange.MPEG)
    return rgb.to_ndarray().astype(int)


def _hex(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def _rows(report: object) -> dict[str, object]:
    return {r.rule: r for r in report.rows}  # type: ignore[attr-defined]


@pytest.mark.slow
def test_rendered_video_meets_the_stream_rules(rendered: tuple[Path, dict]) -> None:
    folder, _ = rendered
    rows = _rows(check(target_of(folder), "youtube"))
    for rule in ("colour tags", "faststart", "edit lists", "GOP length", "closed GOPs",
                 "B-frames", "audio format", "loudness", "true peak", "A/V duration",
                 "captions file", "cue duration", "cue gap", "reading speed", "line length",
                 "lines a cue", "chapters", "safe area"):  # fmt: skip
        assert rows[rule].ok, rows[rule]  # type: ignore[attr-defined]
    assert rows["colour tags"].measured.startswith("matrix smpte170m")  # type: ignore[attr-defined]
    assert rows["GOP length"].measured == "15 frames at most"  # type: ignore[attr-defined]
    # A draft is a preview: its bitrates are a note, not a pass or a failure.
    assert rows["video bitrate"].ok is None  # type: ignore[attr-defined]


@pytest.mark.slow
def test_a_decoder_reading_the_tags_gets_the_drawn_colours(rendered: tuple[Path, dict]) -> None:
    folder, _ = rendered
    look = Project.open(folder).load_persona().look
    with av.open(str(next((folder / "build").glob("*.mp4")))) as container:
        frames = {i: f for i, f in enumerate(container.decode(video=0)) if i in (10, 80)}
    card, talking = frames[10], frames[80]
    assert int(card.colorspace) == 6  # smpte170m, read from the stream
    # The title card's background (drawn by ffmpeg) and the shirt (drawn by the avatar).
    background = _rgb_as_tagged(card)[4:40, 4:60].reshape(-1, 3).mean(axis=0)
    shirt = _rgb_as_tagged(talking)[172:178, 96:112].reshape(-1, 3).mean(axis=0)
    assert np.abs(background - _hex(look.background)).max() <= 2, background
    assert np.abs(shirt - _hex(look.shirt)).max() <= 2, shirt
    # The same pixels read as BT.709 (what an untagged HD stream gets) are visibly off.
    wrong = _rgb_as_tagged(talking, ignore_tags=True)
    if talking.height < 720:
        wrong = (
            talking.reformat(
                format="rgb24", src_colorspace=Colorspace.ITU709, src_color_range=ColorRange.MPEG
            )
            .to_ndarray()
            .astype(int)
        )
    assert np.abs(wrong[172:178, 96:112].reshape(-1, 3).mean(axis=0) - _hex(look.shirt)).max() > 4


def _bad_video(folder: Path) -> Path:
    """A file that breaks every stream rule: untagged, index last, edit lists, 60-frame GOPs,
    3 B-frames in a row, a trickle of bits, a mono 44.1 kHz tone at full scale a second
    shorter than the picture."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "bad.mp4"
    subprocess.run(
        [ffmpeg_exe(), "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", "testsrc2=s=320x180:r=30:d=3",
         "-f", "lavfi", "-i", "sine=f=1000:r=44100:d=2,volume=8",
         "-c:v", "libx264", "-preset", "ultrafast", "-bf", "3", "-g", "60", "-b:v", "40k",
         "-x264-params", "b-adapt=0:scenecut=0", "-pix_fmt", "yuv420p",
         "-c:a", "aac", "-ac", "1", "-b:a", "32k", str(out)],
        check=True,
    )  # fmt: skip
    return out


def test_check_fails_a_file_that_breaks_each_rule(tmp_path: Path) -> None:
    video = _bad_video(tmp_path)
    # Captions breaking each timing rule: a 0.3 s cue, cues back to back, 30 characters a
    # second, a 50-character line, three lines.
    video.with_suffix(".vtt").write_text(
        "WEBVTT\n\n00:00:00.000 --> 00:00:00.300\nHi\n\n"
        "00:00:00.300 --> 00:00:01.300\nthirty characters in a second!\n\n"
        "00:00:01.400 --> 00:00:02.900\n" + "a" * 50 + "\nb\nc\n",
        encoding="utf-8",
    )
    video.with_suffix(".chapters.txt").write_text("0:00 One\n0:01 Two\n", encoding="utf-8")
    proc = run_cli("check", str(video), "--platform", "shorts", "--json", "--strict")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    status = {r["rule"]: r["status"] for r in report["rules"]}
    for rule in ("colour tags", "faststart", "edit lists", "GOP length", "B-frames",
                 "video bitrate", "audio format", "loudness", "true peak", "A/V duration",
                 "frame", "cue duration", "cue gap", "reading speed", "line length",
                 "lines a cue", "chapters"):  # fmt: skip
        assert status[rule] == "fail", (rule, report)
    assert status["captions file"] == "pass" and report["ok"] is False
    # Without --strict the report alone: exit 0.
    assert run_cli("check", str(video), "--platform", "shorts").returncode == 0
    # Chapters YouTube would drop: too few, too short.
    rows = _rows(check(target_of(video), "youtube"))
    assert rows["chapters"].ok is False  # type: ignore[attr-defined]


def test_check_reports_an_invalid_caption_file(tmp_path: Path) -> None:
    video = _bad_video(tmp_path)
    video.with_suffix(".vtt").write_text("WEBVTT\n\n00:00:01.000 -> nonsense\nHi\n")
    rows = _rows(check(target_of(video), "youtube"))
    assert rows["captions file"].ok is False  # type: ignore[attr-defined]


def test_check_names_an_unknown_platform(tmp_path: Path) -> None:
    video = _bad_video(tmp_path)
    proc = run_cli("check", str(video), "--platform", "vimeo")
    assert proc.returncode == 2
    assert "youtube, shorts, tiktok, instagram" in proc.stderr


@pytest.mark.slow
def test_make_video_warns_of_failures_and_strict_exits_1(tmp_path: Path) -> None:
    # A shorts project made landscape on purpose: the Shorts rules fail its frame.
    folder = write_project(tmp_path / "p", fmt="shorts", resolution="320x180")
    proc = run_cli("make-video", str(folder), "--no-publish", "--strict", "--json")
    assert proc.returncode == 1, proc.stderr
    assert "warning: shorts: frame: 320x180 (wanted 9:16)" in proc.stderr
    result = json.loads(proc.stdout)
    assert "frame" in result["check"]["failed"]
    assert result["chapters"] is None and result["chapters_note"] == "no chapters: Shorts show none"
    assert not list((folder / "build").glob("*.chapters.txt"))


def _ass(folder: Path, text: str, margin_v: int) -> Path:
    path = folder / f"captions-{margin_v}.ass"
    path.write_text(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 1080\nPlayResY: 1920\n\n[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        "Style: Default,DejaVu Sans,80,&H00FFFFFF,&H00FFFFFF,&H00000000,&H00000000,-1,0,0,0,"
        f"100,100,0,0,1,4,0,2,40,40,{margin_v},1\n\n[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        f"Dialogue: 0,0:00:00.00,0:00:02.00,Default,,0,0,0,,{{\\kf10}}{text}\n",
        encoding="utf-8",
    )
    return path


def test_safe_area_keeps_captions_off_the_shorts_buttons(tmp_path: Path) -> None:
    from personaforge.delivery.check import Target, _safe_area
    from personaforge.delivery.rules import RULES

    video = tmp_path / "v.mp4"
    wide = _ass(tmp_path, "A caption line far too wide for it", 100)
    rows = _safe_area(Target(video, burned=(wide,)), RULES["shorts"])
    assert rows[0].ok is False and "x 5% to 88%, y 5% to 78%" in rows[0].wanted
    narrow = _ass(tmp_path, "Short line", 500)
    (row,) = _safe_area(Target(video, burned=(narrow,)), RULES["shorts"])
    assert row.ok is True, row
    # Measured in the bundled font: "Short line" at 80 px is about a third of the width.
    left, right = (float(x) for x in re.findall(r"x (\d+)% to (\d+)%", row.measured)[0])
    assert 25 <= right - left <= 45, row.measured


def test_each_platform_takes_its_own_frame_shapes() -> None:
    from personaforge.delivery.check import _shape
    from personaforge.delivery.rules import RULES

    def frame_ok(platform: str, width: int, height: int) -> bool | None:
        rows = _shape(RULES[platform], width, height, 30.0)
        return next(r.ok for r in rows if r.rule == "frame")

    assert frame_ok("shorts", 1080, 1920) and not frame_ok("shorts", 1080, 1080)
    assert frame_ok("instagram", 1080, 1080) and frame_ok("instagram", 1080, 1350)
    assert not frame_ok("tiktok", 1920, 1080)
    assert not any(r.rule == "frame" for r in _shape(RULES["youtube"], 1080, 1920, 30.0))
    long_short = _shape(RULES["shorts"], 1080, 1920, 200.0)
    assert next(r.ok for r in long_short if r.rule == "duration") is False


def test_cue_timings_are_read_to_the_millisecond(tmp_path: Path) -> None:
    # Cues 100 ms apart, each 1.5 s of 20 characters (13 cps): every timing rule holds.
    # Read in whole seconds (webvtt-py's *_in_seconds), the gap would be 0 and the speed 20.
    video = _bad_video(tmp_path)
    video.with_suffix(".vtt").write_text(
        "WEBVTT\n\n00:00:00.100 --> 00:00:01.600\ntwenty characters ok\n\n"
        "00:00:01.700 --> 00:00:03.200\ntwenty characters ok\n",
        encoding="utf-8",
    )
    rows = _rows(check(target_of(video), "youtube"))
    assert rows["cue gap"].ok is True, rows["cue gap"]  # type: ignore[attr-defined]
    assert rows["reading speed"].ok is True, rows["reading speed"]  # type: ignore[attr-defined]
    assert "100 ms" in rows["cue gap"].measured  # type: ignore[attr-defined]
