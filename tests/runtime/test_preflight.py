"""Preflight probes every media input before any work, naming file:line: field; --dry-run and
estimate report the same (exit 1)."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from helpers import write_project
from PIL import Image

from personaforge.cli.main import main

NOT_MEDIA = b"this is not media at all\n" * 40


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0), capsys.readouterr().err


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, format="PNG")
    return out.getvalue()


def _wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 800)
    return out.getvalue()


# (what, video.yaml extra, persona.yaml extra, script, file written, its bytes, file, line, field)
CASES = {
    "logo": ("brand: {logo: {file: logo.png}}\n", "", "", "logo.png", NOT_MEDIA,
             "video.yaml", 6, "brand.logo.file", "is not an image"),
    "music": ("music:\n  file: music.mp3\n", "", "", "music.mp3", NOT_MEDIA,
              "video.yaml", 7, "music.file", "is not an audio file"),
    "music is a picture": ("music: {file: song.png}\n", "", "", "song.png", _png(),
                           "video.yaml", 6, "music.file", "has no audio"),
    "b-roll": ("", "", "![](broll/city.mp4)\n", "broll/city.mp4", NOT_MEDIA,
               "script.md", 3, "b-roll", "is not a video file"),
    "intro": ("brand:\n  intro: {clip: intro.mp4}\n", "", "", "intro.mp4", _wav(),
              "video.yaml", 7, "brand.intro.clip", "has no video"),
    "portrait": ("", "look: {photo: me.jpg}\n", "", "me.jpg", NOT_MEDIA,
                 "persona.yaml", 4, "look.photo", "is not an image"),
    "narration": ("narration:\n  file: take.m4a\n", "", "", "take.m4a", NOT_MEDIA,
                  "video.yaml", 7, "narration.file", "is not an audio file"),
    "missing": ("brand: {outro: {clip: gone.mp4}}\n", "", "", None, b"",
                "video.yaml", 6, "brand.outro.clip", "not found"),
}  # fmt: skip


@pytest.mark.parametrize("command", [["make-video"], ["make-video", "--dry-run"], ["estimate"]])
@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_media_is_named_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, command: list[str]
) -> None:
    extra, persona_extra, script_head, name, data, file, line, field, words = CASES[case]
    folder = write_project(tmp_path / "p", f"# T\n\n{script_head}A sentence to say here.\n",
                           extra=extra)  # fmt: skip
    if persona_extra:
        persona = folder / "persona.yaml"
        persona.write_text(persona.read_text() + persona_extra)
    if name is not None:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    code, err = _run(capsys, *command, "--no-publish", str(folder))
    assert code == 1, err
    last = err.strip().splitlines()[-1]
    assert f"{folder / file}:{line}: {field}: " in last and words in last, last
    assert not (folder / "build").exists()  # nothing was made


def test_good_media_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = "brand: {logo: {file: a.png}}\nmusic: {file: m.wav}\n"
    folder = write_project(tmp_path / "p", "# T\n\n![](a.png)\nA sentence here.\n", extra=extra)
    (folder / "a.png").write_bytes(_png())
    (folder / "m.wav").write_bytes(_wav())
    code, err = _run(capsys, "make-video", "--dry-run", "--no-publish", str(folder))
    assert code == 0, err


def test_an_image_escaping_the_project_is_named_at_its_script_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "p", "# T\n\n![](../../etc/x.png)\nA sentence here.\n")
    code, err = _run(capsys, "make-video", "--dry-run", str(folder))
    assert code == 1
    assert f"{folder / 'script.md'}:3: b-roll: path '../../etc/x.png' escapes" in err, err
