"""Languages as data: one entry per language, looked up in one place.

Every language-dependent choice (how numbers are spelled, how sentences split, which font
draws the script, how lines break, how fast captions may be read, which voices speak it)
reads the entry here; no stage tests a language code itself. A new language is a new entry
and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass

from personaforge.errors import PersonaForgeError


@dataclass(frozen=True)
class Language:
    code: str  # BCP-47 primary subtag: "en", "pt", "ja"
    name: str  # English name, for messages: "Japanese"
    # Unicode scripts its text is written in (ISO 15924 names as `unicodedata` spells them
    # in character names: LATIN, CYRILLIC, ARABIC, DEVANAGARI, HIRAGANA, KATAKANA, CJK, ...).
    scripts: tuple[str, ...]
    num2words: str | None = None  # num2words' code, None where it has none
    pysbd: str | None = None  # pysbd's language code, None where it has none
    espeak: str | None = None  # espeak-ng voice that speaks it offline (a draft voice)
    rtl: bool = False  # written right to left
    # Line breaking: "space" (between words, UAX #14) or "phrase" (no spaces: break
    # between phrases, as budoux does for Japanese and Chinese).
    breaking: str = "space"
    # Captions: the reading-speed ceiling (characters a second) for adults.
    reading_cps: float = 17.0
    # The bold font its on-screen text is drawn in (a file in personaforge/assets/fonts), the
    # family name libass finds it by, and how much larger it is set than the Latin captions so
    # it reads at the same size (Arabic's tall marks make libass draw it small at one size).
    font_file: str = "DejaVuSans-Bold.ttf"
    font_family: str = "DejaVu Sans"
    font_scale: float = 1.0


_TABLE: tuple[Language, ...] = (
    Language("en", "English", ("LATIN",), num2words="en", pysbd="en", espeak="en-us"),
    Language("es", "Spanish", ("LATIN",), num2words="es", pysbd="es", espeak="es"),
    Language("de", "German", ("LATIN",), num2words="de", pysbd="de", espeak="de"),
    Language("fr", "French", ("LATIN",), num2words="fr", pysbd="fr", espeak="fr-fr"),
    Language("pt", "Portuguese", ("LATIN",), num2words="pt", pysbd=None, espeak="pt"),
    Language("ru", "Russian", ("CYRILLIC",), num2words="ru", pysbd="ru", espeak="ru"),
    Language(
        "ar",
        "Arabic",
        ("ARABIC",),
        num2words="ar",
        pysbd="ar",
        espeak="ar",
        rtl=True,
        reading_cps=15.0,
        font_file="NotoSansArabic-Bold.ttf",
        font_family="Noto Sans Arabic",
        font_scale=1.35,
    ),
    Language(
        "hi",
        "Hindi",
        ("DEVANAGARI",),
        num2words=None,
        pysbd="hi",
        espeak="hi",
        font_file="NotoSansDevanagari-Bold.ttf",
        font_family="Noto Sans Devanagari",
        font_scale=1.1,
    ),
    Language(
        "ja",
        "Japanese",
        ("HIRAGANA", "KATAKANA", "CJK"),
        num2words="ja",
        pysbd="ja",
        espeak="ja",
        breaking="phrase",
        reading_cps=8.0,
        font_file="NotoSansCJKjp-Bold.otf",
        font_family="Noto Sans CJK JP",
    ),
    Language(
        "zh",
        "Chinese",
        ("CJK",),
        num2words=None,
        pysbd="zh",
        espeak="cmn",
        breaking="phrase",
        reading_cps=8.0,
        font_file="NotoSansCJKsc-Bold.otf",
        font_family="Noto Sans CJK SC",
    ),
)

LANGUAGES: dict[str, Language] = {lang.code: lang for lang in _TABLE}
DEFAULT = "en"


def primary(code: str) -> str:
    """The primary subtag of a BCP-47 tag, lower case: 'pt-BR' -> 'pt'."""
    return code.replace("_", "-").split("-", 1)[0].lower()


def get(code: str) -> Language:
    """The entry for a BCP-47 tag ('pt-BR' finds 'pt'); a clear error for an unknown one."""
    found = LANGUAGES.get(primary(code))
    if found is None:
        known = ", ".join(sorted(LANGUAGES))
        raise PersonaForgeError(f"language {code!r} is not supported (supported: {known})")
    return found
