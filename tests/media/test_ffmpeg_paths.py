"""Every path handed to ffmpeg is absolute: a project folder named like an option ("-x"), a
protocol ("a:b"), or with spaces, quotes, a newline or emoji is read as a file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import av
import pytest
from helpers import run_cli, write_project

from personaforge.media import ffmpeg

NAMES = ["-x", "a:b", "with space", "quo'te\"s", "new\nline", "ünïcødé 😀", "-y", "http:x"]


@pytest.mark.parametrize("name", NAMES)
def test_relative_names_reach_ffmpeg_as_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).mkdir()
    first = os.path.join(name, "in.mp4")
    ffmpeg.run(["-f", "lavfi", "-i", "color=c=red:s=32x32:d=0.2", "-pix_fmt", "yuv420p", first])
    second = os.path.join(name, "out.mp4")
    ffmpeg.run(["-i", first, "-c", "copy", second])
    with av.open(str(tmp_path / name / "out.mp4")) as f:
        assert f.streams.video[0].width == 32
    assert sorted(os.listdir(tmp_path)) == [name]  # nothing written beside, under a misread


def test_args_are_made_absolute_only_where_they_are_files(tmp_path: Path) -> None:
    args = ["-f", "lavfi", "-i", "anullsrc", "-i", "-x/a.wav", "-i", "pipe:0", "-y", "a:b.mp4"]
    got = ffmpeg.safe_paths(args, tmp_path)
    assert got[3] == "anullsrc" and got[7] == "pipe:0"
    assert got[5] == str(tmp_path / "-x/a.wav") and got[-1] == str(tmp_path / "a:b.mp4")
    assert ffmpeg.safe_paths(["-f", "null", "-"])[-1] == "-"


def test_a_project_folder_with_every_awkward_character_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "-x a:b 'q\"\nü😀"
    monkeypatch.chdir(tmp_path)
    write_project(tmp_path / name, "# Odd\n\nA folder with an odd name still renders fine.\n")
    proc = run_cli("make-video", "--no-publish", "--json", "--", name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    video = Path(json.loads(proc.stdout)["video"])
    video = video if video.is_absolute() else tmp_path / video
    with av.open(str(video)) as f:
        assert (f.streams.video[0].width, f.streams.video[0].height) == (320, 180)
        assert f.streams.audio and f.duration and f.duration > 1_000_000
