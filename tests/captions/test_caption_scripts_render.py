"""Burned captions in other scripts, drawn by the bundled ffmpeg's libass from the bundled
fonts and looked at: Arabic joined and right to left, Devanagari's conjuncts, Japanese
drawn at all; and portrait captions clear of the Shorts buttons. Tiny frames."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import ImageFont
from text.test_fonts import SAMPLES

from personaforge.assets import fonts_dir
from personaforge.captions.ass import caption_font_size, to_ass
from personaforge.captions.cues import CaptionWord, Cue, build_cues, pop_cues
from personaforge.stages.parts.segments import caption_margin, chars_per_line
from personaforge.text import caption_rules, fonts
from personaforge.text.caption_rules import rules_for

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()


def _burn(tmp_path: Path, ass: str, size: tuple[int, int], t: float) -> np.ndarray:
    w, h = size
    script = tmp_path / "c.ass"
    script.write_text(ass, encoding="utf-8")
    run = subprocess.run(
        [
            *(FFMPEG, "-hide_banner", "-v", "error"),
            *("-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:r=25:d={t + 0.5:.2f}"),
            *("-vf", f"subtitles=filename={script}:fontsdir={fonts_dir()}", "-ss", f"{t:.3f}"),
            *("-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        capture_output=True,
        check=True,
    )
    return np.frombuffer(run.stdout, np.uint8).reshape(h, w, 3)


def _lit_cols(img: np.ndarray) -> np.ndarray:
    return np.flatnonzero((img.max(axis=2) > 60).any(axis=0))


def _plain(text: str, lang: str, size: int, w: int = 640, h: int = 360) -> str:
    font = fonts.for_language(lang)
    cue = Cue(0.0, 2.0, (text,), ())
    return to_ass([cue], width=w, height=h, font_name=font.family, font_size=size, language=lang)


@pytest.mark.parametrize(("lang", "text"), [("ar", "مرحبا بالعالم"), ("hi", "क्षत्रिय विज्ञान")])
def test_arabic_joins_and_devanagari_forms_conjuncts(tmp_path: Path, lang: str, text: str) -> None:
    size = 40
    cols = _lit_cols(_burn(tmp_path, _plain(text, lang, size), (640, 360), 1.0))
    assert cols.size, f"nothing drawn for {lang}"
    drawn = cols.max() - cols.min()
    # The same text at the same size, shaped by raqm and unshaped (isolated letters, no
    # conjuncts): libass must draw the shaped width.
    file = fonts.for_language(lang).file
    probe = ImageFont.truetype(str(file), 1000)
    em = round(size * 1000 / sum(probe.getmetrics()))
    shaped = ImageFont.truetype(str(file), em, layout_engine=ImageFont.Layout.RAQM)
    bare = ImageFont.truetype(str(file), em, layout_engine=ImageFont.Layout.BASIC)
    want = shaped.getbbox(text)[2] - shaped.getbbox(text)[0]
    unshaped = bare.getbbox(text)[2] - bare.getbbox(text)[0]
    assert unshaped > want * 1.2  # the check can tell them apart
    assert abs(drawn - want) < want * 0.08, (drawn, want, unshaped)


def test_arabic_runs_right_to_left_and_lights_word_by_word(tmp_path: Path) -> None:
    # In a right-to-left line the first word said is the rightmost one drawn: while it is
    # spoken, only it is white (the karaoke highlight), on the right of the line.
    words = [CaptionWord("YouTube", 0.2, 0.7), CaptionWord("مرحبا", 1.2, 1.6),
             CaptionWord("بكم", 1.7, 2.0)]  # fmt: skip
    cues = build_cues(words, rules=rules_for(640, 360, "ar", 25))
    font = fonts.for_language("ar")
    ass = to_ass(cues, width=640, height=360, font_name=font.family, font_size=30, language="ar")
    img = _burn(tmp_path, ass, (640, 360), 0.9)
    full = _lit_cols(img)
    white = np.flatnonzero((img.min(axis=2) > 200).any(axis=0))
    assert full.size and white.size
    assert white.min() > (full.min() + full.max()) / 2, (white.min(), full.min(), full.max())


def test_japanese_captions_are_drawn_in_the_cjk_font(tmp_path: Path) -> None:
    words = [
        CaptionWord(ch, 0.2 + 0.15 * i, 0.35 + 0.15 * i)
        for i, ch in enumerate("今日は公園を散歩しましょう。")
    ]
    w, h = 320, 180
    rules = rules_for(w, h, "ja", 25)
    cues = build_cues(words, rules=rules)
    font = fonts.for_language("ja")
    size = caption_font_size(w, h, chars_per_line(w, h, None, "ja"), "karaoke", font.scale)
    ass = to_ass(cues, width=w, height=h, font_name=font.family, font_size=size, language="ja")
    img = _burn(tmp_path, ass, (w, h), cues[0].end - 0.1)
    lit = img.max(axis=2) > 60
    assert lit.sum() > 150  # a line of 10 px kanji, not empty boxes or nothing
    assert not lit[:, :8].any() and not lit[:, -8:].any()


@pytest.mark.parametrize("style", ["karaoke", "boxed", "bold-pop"])
def test_portrait_captions_stay_clear_of_the_shorts_buttons(tmp_path: Path, style: str) -> None:
    w, h = 180, 320
    rules = rules_for(w, h, "en", 25)
    text = "Wonderful weather makes everybody want to go outside and play together"
    words = [CaptionWord(t, 0.3 * i, 0.3 * i + 0.25) for i, t in enumerate(text.split())]
    cues = pop_cues(words, rules=rules) if style == "bold-pop" else build_cues(words, rules=rules)
    size = caption_font_size(w, h, chars_per_line(w, h, None), style)
    ass = to_ass(
        cues, width=w, height=h, font_size=size, style=style, margin_v=caption_margin(w, h)
    )
    for cue in cues[:2]:
        img = _burn(tmp_path, ass, (w, h), (cue.start + cue.end) / 2)
        cols = _lit_cols(img)
        assert cols.size, cue
        assert cols.max() < w * (1 - caption_rules.PORTRAIT_BUTTONS_RIGHT), (style, cols.max())
        assert cols.min() > 0  # not clipped at the left edge either
        rows = np.flatnonzero((img.max(axis=2) > 60).any(axis=1))
        if style != "bold-pop":  # bold-pop sits in the middle; the others above the bottom fifth
            assert rows.max() < h * (1 - caption_rules.PORTRAIT_BOTTOM) + 2


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_libass_draws_every_language_in_the_table_font(tmp_path: Path, lang: str) -> None:
    # Drawn at the width the table's font gives it: libass found the font by its family
    # name (a fallback font, or empty boxes, would come out another width).
    text = " ".join(SAMPLES[lang].split()[:4]) if lang not in ("ja", "zh") else SAMPLES[lang][:10]
    size = 24
    cols = _lit_cols(_burn(tmp_path, _plain(text, lang, size), (640, 360), 1.0))
    assert cols.size, f"nothing drawn for {lang}"
    file = fonts.for_language(lang).file
    probe = ImageFont.truetype(str(file), 1000)
    shaped = ImageFont.truetype(str(file), round(size * 1000 / sum(probe.getmetrics())))
    bbox = shaped.getbbox(text, direction="rtl" if lang == "ar" else None)
    want = bbox[2] - bbox[0]
    assert abs((cols.max() - cols.min()) - want) < want * 0.08 + 3, (
        lang,
        cols.max() - cols.min(),
        want,
    )
