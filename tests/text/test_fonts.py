"""Every language's bundled font: a static bold face libass finds by its family name, whose
character map covers the language's text (checked with fontTools, not by eye)."""

from __future__ import annotations

import contextlib

import pytest
from fontTools.ttLib import TTFont

from personaforge.captions.ass import bundled_fonts, undrawable
from personaforge.text import fonts, languages

# A sentence per language with its punctuation, digits and the letters that differ from
# English (accents, ß, ё, hamza and tashkeel-free Arabic, Devanagari conjuncts and nukta).
SAMPLES = {
    "en": "Hello, world! It's 7:30 — “quoted” (really) 100% sure?",
    "es": "¿Qué tal? ¡Mañana a las 7! Año, niño, pingüino, «comillas».",
    "de": "Größe, Übermaß, Äpfel und Öl: „Anführung“ – 3,5 € heute.",
    "fr": "Où est l’hôtel ? Ça coûte 12 € ; « d’accord », œuvre, Noël.",
    "pt": "Você está ótimo! Ação, coração, pão e maçã: 3º lugar.",
    "ru": "Привет, ёжик! Съешь ещё этих мягких французских булок: 5 шт.",
    "ar": "مرحبا بكم في قناتنا، اليوم نتحدث عن الذكاء الاصطناعي؟ ١٢٣ 123 YouTube.",
    "hi": "नमस्ते दोस्तों, आज हम क्षत्रिय, ज्ञान और ड़ ढ़ फ़ज़ के बारे में बात करेंगे। १२३ 123 AI",
    "ja": "今日は７時に会いましょう。「楽しみ」ですね！ＡＩ、ヴァイオリン、ー・…123 OK?",
    "zh": "今天是个好日子，我们一起去公园散步吧。“你好”！（注意）：１２３ OK?",
}


def _codec_range(codec: str, leads: range) -> str:
    out = []
    for lead in leads:
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                out.append(bytes([lead, trail]).decode(codec))
    return "".join(out)


# The everyday characters of Japanese (kana and JIS level 1 kanji) and of Simplified
# Chinese (GB 2312 level 1 hanzi): the sets the subset fonts are promised to cover.
EVERYDAY = {
    "ja": "".join(map(chr, range(0x3041, 0x3097)))
    + "".join(map(chr, range(0x30A1, 0x30FB)))
    + _codec_range("euc_jp", range(0xB0, 0xD0)),
    "zh": _codec_range("gb2312", range(0xB0, 0xD8)),
}


def test_every_language_has_a_sample() -> None:
    assert set(SAMPLES) == set(languages.LANGUAGES)


@pytest.mark.parametrize("code", sorted(languages.LANGUAGES))
def test_the_language_font_draws_every_character_of_its_text(code: str) -> None:
    font = fonts.for_language(code)
    assert font.file.is_file(), font.file
    assert fonts.missing(SAMPLES[code], font.file) == []
    assert undrawable([SAMPLES[code]], font.family) == []
    if code in EVERYDAY:
        lacking = fonts.missing(EVERYDAY[code], font.file)
        assert lacking == [], f"{len(lacking)} everyday characters missing: {lacking[:10]}"


@pytest.mark.parametrize("code", sorted(languages.LANGUAGES))
def test_the_language_font_is_a_static_bold_face_named_as_the_table_says(code: str) -> None:
    font = fonts.for_language(code)
    with TTFont(str(font.file), lazy=True) as ttf:
        assert "fvar" not in ttf  # libass draws a variable font's default weight (Thin, in CJK)
        assert ttf["OS/2"].usWeightClass >= 700
        assert ttf["name"].getBestFamilyName() == font.family  # what libass matches
    assert bundled_fonts()[font.family] == font.file


def test_a_character_no_bundled_font_draws_is_named() -> None:
    # Korean is not a supported language: no bundled font has Hangul.
    assert undrawable(["Hello 안녕"], "DejaVu Sans") == ["안", "녕"]
    assert undrawable(["Hello 🙂 東京"], "DejaVu Sans") == []  # emoji dropped, CJK falls back
