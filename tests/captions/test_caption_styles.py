"""Caption styles: each drawn inside the safe area of each format, and burned into every shot."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import webvtt
import yaml
from helpers import run_cli
from mediacheck import frame_at

from personaforge.assets import fonts_dir
from personaforge.captions.cues import CAPTION_STYLES, CaptionWord, shot_cues
from personaforge.core.specs import Captions
from personaforge.media.ffmpeg import ffmpeg_exe
from personaforge.stages.parts.segments import ass_for, chars_per_line

FORMATS = {"youtube": (480, 270), "shorts": (270, 480), "square": (360, 360)}
SENTENCE = "Captions must stay readable, inside the safe area, whatever the format may be."
GREY = 96


def _words(text: str) -> list[CaptionWord]:
    out, t = [], 0.2
    for token in text.split():
        out.append(CaptionWord(token, round(t, 3), round(t + 0.25, 3)))
        t += 0.3
    return out


def _burn(tmp_path: Path, ass: str, size: tuple[int, int], t: float) -> np.ndarray:
    """``ass`` burned by libass onto a grey frame; the frame at ``t`` as RGB."""
    w, h = size
    (tmp_path / "c.ass").write_text(ass, encoding="utf-8")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-v", "error",
         "-f", "lavfi", "-i", f"color=c=0x{GREY:02x}{GREY:02x}{GREY:02x}:s={w}x{h}:r=25:d={t + 1}",
         "-vf", f"subtitles=filename=c.ass:fontsdir={fonts_dir()}", "-ss", f"{t:.3f}",
         "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        cwd=tmp_path, capture_output=True, check=True,
    )  # fmt: skip
    return np.frombuffer(proc.stdout, np.uint8).reshape(h, w, 3).astype(int)


@pytest.mark.parametrize("style", CAPTION_STYLES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_each_style_stays_in_the_safe_area_of_each_format(
    tmp_path: Path, fmt: str, style: str
) -> None:
    w, h = FORMATS[fmt]
    settings = Captions(style=style)  # type: ignore[arg-type]
    cues = shot_cues(
        _words(SENTENCE), 30.0, style=style, max_chars_per_line=chars_per_line(w, h, None)
    )
    ass = ass_for(cues, settings, w, h)
    assert ass is not None
    # The widest cue, half-way through.
    cue = max(cues, key=lambda c: max(len(line) for line in c.lines))
    img = _burn(tmp_path, ass, (w, h), (cue.start + cue.end) / 2)
    changed = np.abs(img - GREY).sum(axis=2) > 30
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    assert rows.size and cols.size, "nothing drawn"
    # Title-safe: 5% in from each side (outline and box included).
    assert cols.min() >= int(w * 0.05) and cols.max() < w - int(w * 0.05)
    assert rows.min() >= int(h * 0.05) and rows.max() < h - int(h * 0.05)
    if fmt == "shorts":
        # Above the bottom fifth, where Shorts/Reels draw their own buttons and text.
        assert rows.max() < h * 0.8
    if style == "bold-pop":
        assert h * 0.3 < rows.mean() < h * 0.7, "bold-pop sits in the centre"
    else:
        assert rows.min() > h / 2, "captions sit in the lower half"
    if style == "boxed":
        assert (img[changed].max(axis=1) < GREY - 30).sum() > changed.sum() * 0.3, "no box"


def test_karaoke_lights_the_spoken_words_and_clean_does_not(tmp_path: Path) -> None:
    w, h = FORMATS["youtube"]
    words = _words("one two three four five six")
    lit = {}
    for style in ("karaoke", "clean"):
        cues = shot_cues(words, 30.0, style=style)
        ass = ass_for(cues, Captions(style=style), w, h)  # type: ignore[arg-type]
        assert ass is not None
        img = _burn(tmp_path, ass, (w, h), words[1].end)
        lit[style] = int((img.min(axis=2) > 230).sum())
    assert 0 < lit["karaoke"] < lit["clean"] / 2


def test_bold_pop_shows_at_most_three_words_at_a_time() -> None:
    cues = shot_cues(_words(SENTENCE), 30.0, style="bold-pop")
    assert all(1 <= len(c.words) <= 3 and len(c.lines) == 1 for c in cues)
    assert [w.text for c in cues for w in c.words] == SENTENCE.split()


# ------------------------------------------------------------------ burned, end to end


@pytest.fixture(scope="module")
def bare(rendered: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's project rendered again with no captions burned."""
    return _variant(rendered[0], tmp_path_factory.mktemp("bare") / "p", "captions: {burn: false}")


def _variant(source: Path, folder: Path, setting: str) -> Path:
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("published"))
    (folder / "video.yaml").write_text((folder / "video.yaml").read_text() + setting + "\n")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["stages"]["speak"]["status"] == "skipped"
    return Path(json.loads(proc.stdout)["video"])


@pytest.mark.slow
@pytest.mark.parametrize("style", CAPTION_STYLES)
def test_every_style_is_burned_into_every_shot(
    rendered: tuple[Path, dict], bare: Path, tmp_path: Path, style: str
) -> None:
    folder, result = rendered
    video = (
        Path(result["video"])
        if style == "karaoke"  # the session's project uses the default style
        else _variant(folder, tmp_path / style, f"captions: {{style: {style}}}")
    )
    vtt = video.with_suffix(".vtt")
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    cues = list(webvtt.read(str(vtt)))
    start = 0.0
    for shot in speech["shots"]:
        end = start + shot["frames"] / 30
        # The first cue inside this shot, half-way through it.
        cue = next(c for c in cues if start - 0.001 <= _s(c.start) < end)
        t = (_s(cue.start) + _s(cue.end)) / 2
        diff = np.abs(frame_at(video, t).astype(int) - frame_at(bare, t).astype(int)).sum(axis=2)
        if shot["kind"] in ("title", "quote"):
            # A card's words are on it already: captioned in the .vtt only, never twice.
            assert (diff > 120).sum() == 0, f"{style} captions under the card {shot['id']}"
        else:
            assert (diff > 120).sum() > 50, (  # a 320x180 frame: a few words of 10 px text
                f"no {style} captions in {shot['kind']} shot {shot['id']}"
            )
        start = end


def _s(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)
