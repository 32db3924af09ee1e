"""The language table's facts, and what each language's text becomes before a voice."""

from __future__ import annotations

import re

import pytest

from personaforge.core.specs import Persona
from personaforge.text import espeak, languages
from personaforge.text.normalize import spoken_text, tokenize
from personaforge.text.sentences import sentence_ends, split_sentences
from personaforge.text.visemes import place_phonemes, viseme_of, word_visemes

ALL = sorted(languages.LANGUAGES)


def test_the_table_names_what_the_libraries_have() -> None:
    import pysbd.languages
    from num2words import CONVERTER_CLASSES
    from unicode_rbnf import RbnfEngine

    for lang in languages.LANGUAGES.values():
        if lang.num2words:
            assert lang.num2words in CONVERTER_CLASSES, lang.code
        else:
            assert lang.rbnf, f"{lang.code}: no number speller"
            assert RbnfEngine.for_language(lang.rbnf).format_number(7).text
        assert lang.pysbd in pysbd.languages.LANGUAGE_CODES, lang.code
        for voice in {lang.espeak, lang.phonemes} - {None}:
            assert voice is not None
            assert espeak.speak("a", voice).samples, voice
    # Facts the table encodes on purpose: no num2words for Hindi and Chinese, no offline
    # voice for Japanese (espeak-ng reads kanji as English).
    assert languages.get("hi").num2words is None and languages.get("zh").num2words is None
    assert languages.get("ja").espeak is None
    assert languages.get("pt-BR").code == "pt"


NUMBERS = {
    "es": ("Son 1.500 personas y el 3,5% paga 20 €.",
           ["mil quinientos", "tres coma cinco por ciento", "veinte euros"]),
    "de": ("Es sind 21 Leute.", ["einundzwanzig"]),
    "fr": ("Le 1er mai, 80 personnes.", ["premier", "quatre vingts"]),
    "pt": ("O 2º lugar tem 3 pessoas.", ["segundo", "três"]),
    "ru": ("Мне 21 год.", ["двадцать один"]),
    "ar": ("لدي 3 كتب.", ["ثلاثة"]),
    "hi": ("मेरे पास 3 किताबें हैं।", ["तीन"]),
    "ja": ("７時に会いましょう。", ["七時に会いましょう"]),
    "zh": ("我有3本书。", ["我有三本书"]),
}  # fmt: skip


@pytest.mark.parametrize("code", sorted(NUMBERS))
def test_numbers_are_said_in_the_language(code: str) -> None:
    text, expected = NUMBERS[code]
    said = spoken_text(tokenize(text, code))
    for words in expected:
        assert words in said, said
    assert not re.search(r"[0-9]", said), said
    assert not re.search(r"\b(one|two|three|twenty|point)\b", said), said


@pytest.mark.parametrize("code", ALL)
def test_every_token_keeps_its_written_form(code: str) -> None:
    text = "Hola 25 мир 東京 ¿sí? 3,5% — 🚀"
    tokens = tokenize(text, code)
    assert [t.display for t in tokens] == text.split()


def test_other_scripts_are_found_and_named() -> None:
    en = languages.get("en")
    assert languages.foreign_scripts("Hello, Ms. Núñez and café", en) == []
    found = languages.foreign_scripts("Hello Привет мир", en)
    assert [s for _, s in found] == ["CYRILLIC"]
    assert languages.guess_language("Привет").name == "Russian"  # type: ignore[union-attr]
    assert languages.guess_language("東京です").name == "Japanese"  # type: ignore[union-attr]
    assert languages.guess_language("北京").name == "Chinese"  # type: ignore[union-attr]
    assert languages.guess_language("نعم").name == "Arabic"  # type: ignore[union-attr]
    # Latin words inside another language's script are never foreign.
    assert languages.foreign_scripts("PersonaForge のAI", languages.get("ja")) == []


@pytest.mark.parametrize(
    ("code", "text", "sentences"),
    [
        ("en", "Dr. Smith came at 3 p.m. today. Really? Yes… Good.",
         ["Dr. Smith came at 3 p.m. today.", "Really?", "Yes…", "Good."]),
        ("es", "Hola, Sr. García. ¿Cómo está? Bien.",
         ["Hola, Sr. García.", "¿Cómo está?", "Bien."]),
        ("ja", "今日は晴れです。明日は雨！", ["今日は晴れです。", "明日は雨！"]),
        ("hi", "नमस्ते। आप कैसे हैं?", ["नमस्ते।", "आप कैसे हैं?"]),
        ("ru", "Привет. Как дела?", ["Привет.", "Как дела?"]),
    ],
)  # fmt: skip
def test_sentences_split_by_the_language(code: str, text: str, sentences: list[str]) -> None:
    assert split_sentences(text, code) == sentences
    words = text.split()
    ends = sentence_ends(words, code)
    assert ends[-1]
    assert sum(ends) == (len(sentences) if code not in ("ja",) else 1)


def test_pronunciations_follow_the_language() -> None:
    p = Persona(
        name="A", pronunciations={"SQL": "sequel"}, language_pronunciations={"es": {"SQL": "ese"}}
    )
    assert p.pronunciations_for("en") == {"SQL": "sequel"}
    assert p.pronunciations_for("es") == {"SQL": "ese"}
    assert p.pronunciations_for("de") == {}


def test_visemes_come_from_the_languages_phonemes() -> None:
    assert viseme_of("ˈɛ") == "E" and viseme_of("tʃ") == "DD" and viseme_of("ɡ") == "kk"
    assert viseme_of("ˈ") is None
    per_word = word_visemes(["mamá", "papá"], "es")
    assert [v for _, v in per_word[0]][:2] == ["PP", "aa"]
    placed = place_phonemes(per_word, [(0.5, 1.0), (1.4, 2.0)])
    assert placed[0] == (0.0, "sil") and placed[-1] == (2.0, "sil")
    assert any(v == "sil" and 1.0 <= t < 1.4 for t, v in placed)  # a gap closes the mouth
    assert all(0.5 <= t <= 2.0 for t, v in placed[1:])
