"""Languages as data: one entry per language, looked up in one place.

Every language-dependent choice (how numbers are spelled, how sentences split, which font
draws the script, how lines break, how fast captions may be read, which voices speak it)
reads the entry here; no stage tests a language code itself. A new language is a new entry
and its tests.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from personaforge.errors import PersonaForgeError


@dataclass(frozen=True)
class Language:
    code: str  # BCP-47 primary subtag: "en", "pt", "ja"
    name: str  # English name, for messages: "Japanese"
    # Unicode scripts its text is written in, as `unicodedata.name` starts a letter's name
    # (LATIN, CYRILLIC, ARABIC, DEVANAGARI, HIRAGANA, KATAKANA, CJK: see script_of).
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
    # unicode-rbnf's locale, for the languages num2words cannot spell (hi, zh).
    rbnf: str | None = None
    decimal: str = "."  # the decimal mark as written ("3,5" in Spanish), thousands the other
    # The word said for the decimal mark where num2words says another ("punto" for Spanish
    # written "3,5", which is said "coma"; Arabic, where it writes a bare comma).
    decimal_word: str | None = None
    # How "N%" is said, the number's words where "{}" is; a bare word follows the number.
    percent: str = "percent"
    # How a currency symbol is said after its amount, where the language names it.
    currencies: tuple[tuple[str, str], ...] = ()
    # Ordinal markers written after a number ("1º", "2e"): num2words' ordinal is said.
    ordinals: tuple[str, ...] = ()
    # espeak-ng voice whose phonemes move the mouth, where there is no offline voice
    # (Japanese: espeak reads kana well, kanji as English, so it is no voice, but its mouth
    # shapes for kana beat none).
    phonemes: str | None = None
    # The language's own marks for the pauses the voice is sent (".", ",", "?", "!"):
    # a full stop in Japanese is "。"; a voice reads its own punctuation best.
    stops: tuple[tuple[str, str], ...] = ()
    # Titles whose full stop pysbd takes for a sentence end in this language ("Sr. García").
    titles: tuple[str, ...] = ()


# The facts below were checked against the installed libraries (num2words 0.5: no hi/zh
# converter; pysbd 0.3.4: no pt; unicode-rbnf has hi and zh) and against espeak-ng 1.52's
# data in espeakng-loader: its "ja" voice reads kanji as English ("Chinese letter"), so
# Japanese has no offline voice.
_TABLE: tuple[Language, ...] = (
    Language("en", "English", ("LATIN",), num2words="en", pysbd="en", espeak="en-us"),
    Language(
        "es",
        "Spanish",
        ("LATIN",),
        num2words="es",
        pysbd="es",
        espeak="es",
        decimal=",",
        decimal_word="coma",
        percent="por ciento",
        currencies=(("€", "euros"), ("$", "dólares")),
        ordinals=("º", "ª", ".º", ".ª"),
        titles=("Sr.", "Sra.", "Srta.", "Dr.", "Dra.", "Ud.", "Uds."),
    ),
    Language(
        "de",
        "German",
        ("LATIN",),
        num2words="de",
        pysbd="de",
        espeak="de",
        decimal=",",
        percent="Prozent",
        currencies=(("€", "Euro"), ("$", "Dollar")),
    ),
    Language(
        "fr",
        "French",
        ("LATIN",),
        num2words="fr",
        pysbd="fr",
        espeak="fr",
        decimal=",",
        percent="pour cent",
        currencies=(("€", "euros"), ("$", "dollars")),
        ordinals=("er", "re", "e", "ème", "ᵉ"),
    ),
    # pysbd has no Portuguese; its Spanish rules (Sr., Dra., the same punctuation) are closest.
    Language(
        "pt",
        "Portuguese",
        ("LATIN",),
        num2words="pt",
        pysbd="es",
        espeak="pt",
        decimal=",",
        percent="por cento",
        currencies=(("€", "euros"), ("$", "dólares"), ("R$", "reais")),
        ordinals=("º", "ª", ".º", ".ª"),
        titles=("Sr.", "Sra.", "Srta.", "Dr.", "Dra."),
    ),
    Language(
        "ru",
        "Russian",
        ("CYRILLIC",),
        num2words="ru",
        pysbd="ru",
        espeak="ru",
        decimal=",",
        percent="процентов",
        currencies=(("€", "евро"), ("$", "долларов"), ("₽", "рублей")),
    ),
    Language(
        "ar",
        "Arabic",
        ("ARABIC",),
        num2words="ar",
        pysbd="ar",
        espeak="ar",
        rtl=True,
        reading_cps=15.0,
        decimal_word="فاصلة",
        percent="بالمئة",
        currencies=(("$", "دولار"), ("€", "يورو")),
        stops=((",", "،"), ("?", "؟")),
        font_file="NotoSansArabic-Bold.ttf",
        font_family="Noto Sans Arabic",
        font_scale=1.35,
    ),
    Language(
        "hi",
        "Hindi",
        ("DEVANAGARI",),
        pysbd="hi",
        espeak="hi",
        rbnf="hi",
        percent="प्रतिशत",
        currencies=(("₹", "रुपये"), ("$", "डॉलर")),
        stops=((".", "।"),),
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
        espeak=None,
        phonemes="ja",
        breaking="phrase",
        reading_cps=8.0,
        percent="パーセント",
        currencies=(("¥", "円"), ("$", "ドル")),
        stops=((".", "。"), (",", "、"), ("?", "？"), ("!", "！")),
        font_file="NotoSansCJKjp-Bold.otf",
        font_family="Noto Sans CJK JP",
    ),
    Language(
        "zh",
        "Chinese",
        ("CJK",),
        pysbd="zh",
        espeak="cmn",
        rbnf="zh",
        breaking="phrase",
        reading_cps=8.0,
        percent="百分之{}",
        currencies=(("¥", "元"), ("$", "美元")),
        stops=((".", "。"), (",", "，"), ("?", "？"), ("!", "！")),
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


# The scripts script_of names; a letter of any other script is OTHER.
_SCRIPTS = (
    "LATIN",
    "CYRILLIC",
    "GREEK",
    "ARABIC",
    "HEBREW",
    "DEVANAGARI",
    "BENGALI",
    "TAMIL",
    "THAI",
    "HIRAGANA",
    "KATAKANA",
    "HANGUL",
    "CJK",
    "GEORGIAN",
    "ARMENIAN",
    "ETHIOPIC",
)
_SCRIPT_NAMES = {
    "CJK": "Han (Chinese characters)", "LATIN": "Latin", "OTHER": "another script",
}  # fmt: skip


def script_of(char: str) -> str | None:
    """The script of a letter or combining mark (see _SCRIPTS), None for anything else.

    Read from the character's Unicode name, which starts with its script for every letter
    of these scripts ("CYRILLIC SMALL LETTER A", "CJK UNIFIED IDEOGRAPH-4E03").
    """
    if not unicodedata.category(char).startswith(("L", "M")):
        return None
    name = unicodedata.name(char, "")
    if name.startswith(("HALFWIDTH KATAKANA", "KATAKANA-HIRAGANA")):
        return "KATAKANA"
    if name.startswith("FULLWIDTH LATIN"):
        return "LATIN"
    for script in _SCRIPTS:
        if name.startswith(script):
            return script
    if unicodedata.category(char).startswith("M"):
        return None  # a combining mark belongs to the letter before it
    return "OTHER"


def script_name(script: str) -> str:
    return _SCRIPT_NAMES.get(script, script.title())


def foreign_scripts(text: str, language: Language) -> list[tuple[int, str]]:
    """(offset, script) of the first letter of each run of letters in a script ``language``
    is not written in. Latin is never foreign: names, brands and units are written in it
    everywhere, and every voice here reads them."""
    found: list[tuple[int, str]] = []
    last: str | None = None
    for i, char in enumerate(text):
        script = script_of(char)
        if script is None:
            continue
        if script != "LATIN" and script not in language.scripts and script != last:
            found.append((i, script))
        last = script
    return found


def languages_written_in(script: str) -> list[Language]:
    """The languages of the table written in ``script`` (Han: Chinese, then Japanese)."""
    return [lang for lang in _TABLE if script in lang.scripts]


def guess_language(text: str) -> Language | None:
    """The table's language most likely written in ``text``'s non-Latin letters (kana make
    Han text Japanese), None when it has none of them."""
    scripts = {script_of(c) for c in text} - {None, "LATIN"}
    if scripts & {"HIRAGANA", "KATAKANA"}:
        return LANGUAGES["ja"]
    for script in sorted(s for s in scripts if s is not None):
        # The language written in this script alone first: Han without kana is Chinese.
        written = sorted(languages_written_in(script), key=lambda lang: len(lang.scripts))
        if written:
            return written[0]
    return None
