"""Turn script text into the plain words a voice should say, in the script's language.

English has its own rules (initialisms, URLs, units, dates); every other language keeps its
words as written and has its numbers, ordinals, percentages and money spelled in that language
(num2words, or unicode-rbnf where num2words has no converter), from the language table.
Every written word stays a Token, so captions can show what was written while timings follow
speech.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from num2words import num2words

from personaforge.text import languages
from personaforge.text.sentences import sentence_ends

__all__ = ["Token", "spoken_text", "tokenize"]


# Bump when the spoken form of any text changes: cached speech is keyed on it.
NORMALIZE_VERSION = "4"


@dataclass(frozen=True)
class Token:
    """One whitespace-separated run of the script, as written and as spoken."""

    display: str
    spoken: tuple[str, ...]
    pause: str


# --------------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------------

_STRENGTH = {"": 0, ",": 1, ".": 2, "!": 3, "?": 4}
_PAUSE_OF = {
    ".": ".", "!": "!", "?": "?", ",": ",", ";": ",", ":": ",", "—": ",", "–": ",",
    "。": ".", "！": "!", "？": "?", "、": ",", "，": ",", "；": ",", "：": ",", "؟": "?",
    "،": ",", "؛": ",", "।": ".", "॥": ".", "…": ".",
}  # fmt: skip

# Typographic variants collapse to one ASCII spelling so the rules below see a single form.
_CHAR_MAP = str.maketrans(
    {
        "’": "'", "‘": "'", "‛": "'", "ʼ": "'", "′": "'", "`": "'",
        "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
        "−": "-", "‐": "-", "‑": "-", "‒": "-", "―": "—", "⸺": "—", "⸻": "—",
        "™": None, "®": None, "©": None, "℠": None, "\u200b": None, "\u200d": None,
        "\ufe0f": None, "\u00ad": None,
    }
)  # fmt: skip

# Vulgar fractions, said after a number or alone; kept out of NFKC, which would make "1⁄2".
_FRACTIONS = {
    "½": (("and", "a", "half"), ("one", "half")),
    "¼": (("and", "a", "quarter"), ("one", "quarter")),
    "¾": (("and", "three", "quarters"), ("three", "quarters")),
    "⅓": (("and", "a", "third"), ("one", "third")),
    "⅔": (("and", "two", "thirds"), ("two", "thirds")),
}

_KEEP_FROM_NFKC = frozenset([*_FRACTIONS, "²", "³"])

_LEAD_STRIP = frozenset("\"'([{<>*_~¿¡•·|#-—–.,;:!?")
_TRAIL_STRIP = frozenset("\"')]}>*_~.,;:!?—–-|")
_SIGN_NEXT = frozenset("0123456789$€£¥₹.")

_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH_NAMES = frozenset(
    [*_MONTHS, "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec"]
)

# Spelled letter names: espeak reads a lone "A" in "A P I" as the article "uh"; "eigh" says "ay".
_LETTER_NAMES = {"A": "eigh"}

# symbol: (one, many, one minor, many minor); no minor unit means decimals are read as "point".
_CURRENCIES = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "", ""),
    "₹": ("rupee", "rupees", "paisa", "paise"),
}
_MULTIPLIERS = {
    "k": "thousand", "K": "thousand", "m": "million", "M": "million", "mn": "million",
    "MM": "million", "b": "billion", "B": "billion", "bn": "billion", "t": "trillion",
    "T": "trillion",
}  # fmt: skip

# unit: (after exactly one, otherwise)
_UNITS = {
    "km": ("kilometer", "kilometers"), "m2": ("square meter", "square meters"),
    "cm": ("centimeter", "centimeters"), "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"), "mg": ("milligram", "milligrams"),
    "ml": ("milliliter", "milliliters"), "mL": ("milliliter", "milliliters"),
    "mph": ("mile per hour", "miles per hour"),
    "kph": ("kilometer per hour", "kilometers per hour"),
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "KB": ("kilobyte", "kilobytes"), "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"), "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"), "Mbps": ("megabit per second", "megabits per second"),
    "Gbps": ("gigabit per second", "gigabits per second"),
    "Hz": ("hertz", "hertz"), "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"), "GHz": ("gigahertz", "gigahertz"),
    "kW": ("kilowatt", "kilowatts"), "kWh": ("kilowatt hour", "kilowatt hours"),
    "ms": ("millisecond", "milliseconds"), "fps": ("frame per second", "frames per second"),
    "px": ("pixel", "pixels"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "ft": ("foot", "feet"),
    "hr": ("hour", "hours"), "hrs": ("hour", "hours"), "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"), "sec": ("second", "seconds"), "secs": ("second", "seconds"),
    "yr": ("year", "years"), "yrs": ("year", "years"),
}  # fmt: skip

# Whole cores that no rule would say well.
_SPECIAL = {
    "C#": ("C", "sharp"), "F#": ("F", "sharp"), "4K": ("four", "K"), "8K": ("eight", "K"),
    "w/": ("with",), "w/o": ("without",), "OK": ("okay",), "Ok": ("okay",), "ok": ("okay",),
    "PhD": ("P", "H", "D"), "iOS": ("I", "O", "S"), "macOS": ("mac", "O", "S"),
    "SaaS": ("sass",), "JSON": ("jason",), "JPEG": ("jay", "peg"), "IEEE": ("I", "triple", "E"),
    "π": ("pi",),
}  # fmt: skip


@dataclass(frozen=True)
class _Abbrev:
    words: tuple[str, ...]
    needs_dot: bool  # "Jan" is a name and "co" a word; only "Jan." and "Co." are abbreviations
    can_end: bool  # "etc." may close a sentence; "Dr." never does
    title: bool = False  # only as "Dr"/"Dr.", so "dr" or "DR" are left to the word rules


def _ab(words: str, *, dot: bool = False, end: bool = False, title: bool = False) -> _Abbrev:
    return _Abbrev(tuple(words.split()), dot, end, title)


# Keys are lower case without the final dot.
_ABBREVIATIONS: dict[str, _Abbrev] = {
    "dr": _ab("doctor", title=True),
    "mr": _ab("mister", title=True),
    "mrs": _ab("missus", title=True),
    "ms": _ab("miz", title=True),
    "prof": _ab("professor", dot=True, title=True),
    "mt": _ab("mount", dot=True, title=True),
    "st": _ab("saint", title=True),
    "jr": _ab("junior", end=True, title=True),
    "sr": _ab("senior", end=True, title=True),
    "vs": _ab("versus"),
    "etc": _ab("et cetera", end=True),
    "e.g": _ab("for example"),
    "i.e": _ab("that is"),
    "approx": _ab("approximately"),
    "a.m": _ab("eigh M", end=True),
    "p.m": _ab("P M", end=True),
    "aka": _ab("also known as"),
    "a.k.a": _ab("also known as"),
    "ph.d": _ab("P H D", end=True),
    "o.k": _ab("okay", end=True),
    "inc": _ab("incorporated", dot=True, end=True),
    "ltd": _ab("limited", end=True),
    "co": _ab("company", dot=True, end=True, title=True),
    "corp": _ab("corporation", dot=True, end=True),
    "dept": _ab("department", dot=True),
    "est": _ab("established", dot=True),
    "fig": _ab("figure", dot=True),
    "vol": _ab("volume", dot=True),
    "ave": _ab("avenue", dot=True, end=True),
    "blvd": _ab("boulevard", end=True),
    "rd": _ab("road", dot=True, end=True, title=True),
    "govt": _ab("government", end=True),
    "intl": _ab("international"),
    "jan": _ab("January", dot=True, end=True, title=True),
    "feb": _ab("February", end=True, title=True),
    "mar": _ab("March", dot=True, end=True, title=True),
    "apr": _ab("April", end=True, title=True),
    "jun": _ab("June", dot=True, end=True, title=True),
    "jul": _ab("July", dot=True, end=True, title=True),
    "aug": _ab("August", end=True, title=True),
    "sep": _ab("September", dot=True, end=True, title=True),
    "sept": _ab("September", end=True, title=True),
    "oct": _ab("October", end=True, title=True),
    "nov": _ab("November", end=True, title=True),
    "dec": _ab("December", end=True, title=True),
}


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Initialisms that look pronounceable but are said letter by letter.
_SPELL = _word_set(
    "AI API USA CEO CTO CFO COO UI UX IO IOU EU UK US UN IP OS ID IQ EV IT IDE SEO ROI IPO "
    "ETA FAQ GPU CPU URL UFO ATM ICU EPA FDA NBA ABC AOL IBM AMD USD EUR AUD AGI OEM UAE HDMI OECD "
    "ASAP ACLU AARP UEFI GUI DIY FYI OMG LOL TBA TBD EOD ETF IRA IRS PTO SUV MBA CIA FBI NSA NIH "
    "NYC AAA IPA EA EQ IV UV AV AP LA PA VA DA PE PO AR VR XR QA OTA ESG UGC"
)
# Capitalised acronyms espeak says as words; lower-cased so they are never spelled.
_SAY_AS_WORD = _word_set(
    "NASA NATO FIFA UEFA COVID SCUBA LASER RADAR UNICEF IKEA LEGO OPEC NAFTA AIDS SWAT GIF RAM ROM "
    "PIN SIM LAN WAN FOMO YOLO UNIX CUDA NAND SARS MIDI TED DOS WHO"
)
# Short words a script writes in capitals for emphasis ("this is NOT a drill").
_COMMON_CAPS = _word_set(
    "AM IS AS AT ON NO SO DO GO TO BE WE ME HE MY BY UP OF IF IN OR OH HI AN YO OK "
    "THE AND BUT FOR NOT YES YOU ARE WAS ALL ANY CAN GET GOT HAS HAD HER HIM HIS HOW ITS LET MAY "
    "NEW NOW OLD ONE OUR OUT SEE SHE TOO TWO USE WAY WHO WHY YET BIG BAD TOP HOT WOW YAY ASK BUY "
    "DAY END EYE FUN GOD JOB KEY LOT MAN OFF OWN PAY PUT RUN SAY SET SIT TRY WIN AGO AGE AIR ART "
    "BAG BED BOX BOY CAR CUT DOG EAT FAR FEW FLY GUY HIT ICE LAW LAY LEG LIE LOW MAD MIX NOR ODD "
    "OIL PEN RED SAD SEA SIX SKY SON SUN TAX TEN TIE TIP TOY WAR WET GYM SHY APP WEB BOT ADD ERA "
    "EGO AIM ACT CAT GAS HEY HUH OUCH BYE FAN FIT FIX MOM DAD YOUR NOPE YEP"
)

_TLDS = _word_set(
    "com org net io ai co dev app edu gov uk de fr tv info xyz ly gg sh ca au jp eu biz tech site "
    "online store blog news cloud ru cn nl es ch se fm gl js ts py md txt json yaml yml csv pdf "
    "png jpg jpeg gif mp3 mp4 wav html css exe zip toml ini log svg webm mov onnx"
)
_URL_LABELS = {"io": ("I", "O"), "ai": ("eigh", "I"), "uk": ("U", "K"), "eu": ("E", "U")}
_URL_SYMBOLS = {
    ".": "dot", "/": "slash", "@": "at", ":": "colon", "_": "underscore", "-": "dash",
    "~": "tilde", "+": "plus",
}  # fmt: skip
_SYMBOLS = {
    "&": "and", "+": "plus", "=": "equals", "@": "at", "%": "percent", "×": "times",
    "÷": "divided by", "°": "degrees", "$": "dollars", "€": "euros", "£": "pounds", "¥": "yen",
    "₹": "rupees", "π": "pi", "≈": "about", "²": "squared", "³": "cubed",
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Patterns (ASCII digits only: \d would accept digits that int() and the tables cannot read)
# --------------------------------------------------------------------------------------------

_NUM = r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?|\.[0-9]+"
_INT = r"[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+"
_CUR = r"[$€£¥₹]"
_MULT = r"bn|mn|MM|[kKmMbBtT]"

_RE_PLAIN = re.compile(rf"([-+]?)({_NUM})")
_RE_ISO_DATE = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")
_RE_US_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4}|[0-9]{2})")
_RE_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_RE_CLOCK_AMPM = re.compile(r"([0-9]{1,2})(?:[:.]([0-9]{2}))?([aApP])\.?[mM]\.?")
_RE_MONEY_PRE = re.compile(rf"([-+]?)({_CUR})({_NUM})({_MULT})?")
_RE_MONEY_POST = re.compile(rf"([-+]?)({_NUM})({_MULT})?({_CUR})")
_RE_PERCENT = re.compile(rf"([-+]?)({_NUM})%")
_RE_ORDINAL = re.compile(rf"({_INT})(st|nd|rd|th|ST|ND|RD|TH)")
_RE_HASH = re.compile(rf"#({_INT})")
_RE_NO_DOT = re.compile(rf"[Nn][Oo]\.#?({_INT})")
_RE_DEGREES = re.compile(rf"([-+]?)({_NUM})°([CFcf])?")
_RE_PLURAL = re.compile(rf"({_INT})'?s'?")
_RE_SHORT_DECADE = re.compile(r"'([0-9])0s")
_RE_SCALED = re.compile(rf"([-+]?)({_NUM})(bn|[kKMB])")
_RE_TIMES = re.compile(rf"({_NUM})[xX×]")
_RE_TIMES_PRE = re.compile(rf"[xX×]({_NUM})")
_RE_BY = re.compile(rf"({_NUM})[xX×]({_NUM})")
_RE_UNIT = re.compile(rf"([-+]?)({_NUM})([A-Za-z]+[0-9]?(?:/[A-Za-z]+)?)")
_RE_INITIALS_AND = re.compile(r"([A-Z]{1,4})&([A-Z]{1,4})")
_RE_RESOLUTION = re.compile(r"(240|360|480|720|1080|1440|2160|4320)([pi])")
_RE_ABOUT = re.compile(r"[~≈](.+)")
_RE_PHONE = re.compile(r"(?:[0-9]-)?(?:[0-9]{3}-)?[0-9]{3}-[0-9]{4}")
_RE_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\.?")
_RE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_RE_URL = re.compile(r"(?:[A-Za-z][A-Za-z0-9+.-]*://|www\.)\S+", re.IGNORECASE)
_RE_DOMAIN = re.compile(
    r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.([A-Za-z][A-Za-z0-9]{1,5})(?::[0-9]+)?(?:/\S*)?"
)
_RE_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_RE_URL_PART = re.compile(r"[A-Za-z]+|[0-9]+|[./@:_~+-]")
# A path segment, a "/" and a lone letter: "a" after a slash is the letter, said "eigh".
_RE_SPLIT = re.compile(r"[-–—]+|\.{2,}")
_RE_SCAN = re.compile(
    r"(?P<num>[0-9]+(?:[.,][0-9]+)*)|(?P<frac>[½¼¾⅓⅔])"
    r"|(?P<word>[^\W\d_²³½¼¾⅓⅔]+(?:'[^\W\d_²³½¼¾⅓⅔]+)*'?)"
    r"|(?P<sym>\S)"
)
_RE_MD_LINK_TARGET = re.compile(r"\]\([^)\s]*\)?")
_RE_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
_RE_CLOCKISH = re.compile(r"[0-9]{1,2}(?::[0-9]{2})?")

# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def tokenize(text: str, language: str = languages.DEFAULT) -> list[Token]:
    """Split on whitespace; every non-whitespace run becomes exactly one Token, in order.

    Joining the displays with single spaces reproduces the text's words in order. A word in
    a script that is not Latin keeps its letters (in an English script too: whether the voice
    can say it is the speak stage's question, never silently dropped here).
    """
    lang = languages.get(language)
    if lang.code != "en":
        return [_generic_token(raw, lang) for raw in text.split()]
    raws = text.split()
    cores = [_split(_prepare(raw))[1] for raw in raws]
    # Whether an abbreviation's full stop also ends the sentence ("etc." last, not "Dr."):
    # the splitter every stage shares decides.
    ends = sentence_ends(raws, lang.code)
    tokens: list[Token] = []
    for i, raw in enumerate(raws):
        prev_core = cores[i - 1] if i else ""
        next_raw = raws[i + 1] if i + 1 < len(raws) else ""
        if _foreign(raw):
            guessed = languages.guess_language(raw) or lang
            tokens.append(_generic_token(raw, guessed))
            continue
        try:
            tokens.append(_make_token(raw, prev_core, next_raw, ends[i]))
        except Exception:
            # One odd word must never stop a whole video; say whatever letters it has.
            tokens.append(Token(raw, _clean(re.findall(r"[^\W\d_]+", raw)), ""))
    return tokens


def spoken_text(tokens: Sequence[Token], language: str = languages.DEFAULT) -> str:
    """Words of all tokens joined by single spaces, each token's pause after its last word.

    A token with no spoken words lends its pause to the previous spoken word, if any, and the word
    after a . ! or ? is capitalised. The result holds only letters, apostrophes, spaces and , . ! ?
    (or ``language``'s own marks for them, "。" in Japanese), so a voice cannot read anything
    else in.
    """
    words: list[str] = []
    pauses: list[str] = []
    for token in tokens:
        for word in _clean(token.spoken):
            words.append(word)
            pauses.append("")
        pause = token.pause if token.pause in _STRENGTH else ""
        if pause and words:
            pauses[-1] = _strongest(pauses[-1], pause)
    stops = dict(languages.get(language).stops)
    # espeak ignores a full stop followed by a lower-case word, so each sentence starts capitalised.
    out: list[str] = []
    for i, (word, pause) in enumerate(zip(words, pauses, strict=True)):
        if i == 0 or pauses[i - 1] in (".", "!", "?"):
            word = word[:1].upper() + word[1:]
        out.append(word + stops.get(pause, pause))
    return " ".join(out)


# --------------------------------------------------------------------------------------------
# Token level: strip decoration, find the pause, apply context rules
# --------------------------------------------------------------------------------------------


def _make_token(raw: str, prev_core: str, next_raw: str, ends: bool) -> Token:
    text = _prepare(raw)
    _, core, trail = _split(text)
    if not core:
        return Token(raw, (), _pause_of(text, lone=True))
    words, pause = _say_top(core, trail, prev_core, next_raw, ends)
    return Token(raw, _clean(words), pause)


def _prepare(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw.translate(_CHAR_MAP))
    # NFKC per character folds ligatures, full-width forms and subscripts, but "x²" is not "x2".
    text = "".join(c if c in _KEEP_FROM_NFKC else unicodedata.normalize("NFKC", c) for c in text)
    # Marks still loose after NFC have no precomposed letter; the bare letter is the best guess.
    text = "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c
        for c in text
        if not unicodedata.combining(c)
    )
    text = _RE_MD_LINK_TARGET.sub("", text)
    return _RE_HTML_TAG.sub("", text)


def _split(text: str) -> tuple[str, str, str]:
    """(stripped lead, core, trailing punctuation) of a prepared token."""
    start = 0
    while start < len(text):
        char = text[start]
        after = text[start + 1 : start + 2]
        keeps_number = (
            (char in "-+" and after != "" and after in _SIGN_NEXT)
            or (char in "'#." and after.isdigit())
            or (char == "~" and after != "" and after in _SIGN_NEXT)
        )
        if keeps_number or char not in _LEAD_STRIP:
            break
        start += 1
    end = len(text)
    while end > start:
        char = text[end - 1]
        if char == "'" and text[end - 2 : end - 1] in ("s", "S") and "'" not in text[:start]:
            break  # possessive plural: "James'"
        if char not in _TRAIL_STRIP:
            break
        end -= 1
    return text[:start], text[start:end], text[end:]


def _pause_of(chars: str, *, lone: bool = False) -> str:
    found = [_PAUSE_OF[c] for c in chars if c in _PAUSE_OF]
    if "--" in chars or (lone and "-" in chars):
        found.append(",")
    return _strongest("", *found)


def _strongest(*pauses: str) -> str:
    return max(pauses, key=lambda p: _STRENGTH[p])


def _starts_upper(raw: str) -> bool:
    for char in raw:
        if char.isalnum():
            return char.isupper()
    return False


def _say_top(
    core: str, trail: str, prev_core: str, next_raw: str, ends: bool
) -> tuple[list[str], str]:
    has_dot = trail.startswith(".") and not trail.startswith("..")
    after_dot = _pause_of(trail[1:]) if has_dot else _pause_of(trail)

    def ended(can_end: bool) -> str:
        return _strongest(after_dot, ".") if has_dot and ends else after_dot

    # "No. 5" is a number; "No." before anything else is the word.
    if has_dot and core.lower() == "no" and next_raw[:1] in tuple("#0123456789"):
        return ["number"], after_dot
    if core == "St" and prev_core.istitle() and not _starts_upper(next_raw):
        return ["street"], ended(True)
    if _RE_CLOCKISH.fullmatch(prev_core) and core.lower() in ("am", "pm"):
        return _spell(core), _pause_of(trail)
    if _RE_PLAIN.fullmatch(prev_core.rstrip("½¼¾⅓⅔")) or prev_core in _FRACTIONS:
        unit = _UNITS.get(core)
        if unit:
            return _phrase(unit[0] if prev_core == "1" else unit[1]), _pause_of(trail)
        if core in ("x", "X"):
            return ["times"], _pause_of(trail)
    if prev_core in _MONTH_NAMES and re.fullmatch(r"[0-9]{1,2}", core) and 1 <= int(core) <= 31:
        return _ordinal(int(core)), _pause_of(trail)
    if has_dot:
        abbrev = _abbreviation(core + ".")
        if abbrev is not None:
            return list(abbrev.words), ended(abbrev.can_end)
        if _RE_DOTTED.fullmatch(core + "."):
            # pysbd never ends a sentence on "U.S." before a capital; a reader does.
            capital_next = not next_raw or _starts_upper(next_raw)
            return _spell(core), ended(True) if not capital_next else _strongest(after_dot, ".")
        if re.fullmatch(r"[B-HJ-Z]", core):
            # An initial: "J. K. Rowling" goes on; only the last word of a script ends on one.
            return _spell(core), ended(True) if not next_raw else after_dot
    return _say(core), _pause_of(trail)


def _abbreviation(text: str) -> _Abbrev | None:
    has_dot = text.endswith(".")
    bare = text[:-1] if has_dot else text
    entry = _ABBREVIATIONS.get(bare.lower())
    if entry is None or (entry.needs_dot and not has_dot):
        return None
    if entry.title and not bare.istitle():
        return None
    if bare.isupper() and len(bare) > 1 and not has_dot:
        return None  # "VS" or "ETC" in capitals are more likely shouting or initialisms
    return entry


# --------------------------------------------------------------------------------------------
# Core level: say one undecorated run, recursively
# --------------------------------------------------------------------------------------------


def _say(core: str) -> list[str]:
    if not core:
        return []
    special = _SPECIAL.get(core)
    if special is not None:
        return list(special)
    abbrev = _abbreviation(core)
    if abbrev is not None:
        return list(abbrev.words)
    if _RE_DOTTED.fullmatch(core) and sum(c.isalpha() for c in core) > 1:
        return _spell(core)
    for rule in _RULES:
        words = rule(core)
        if words is not None:
            return words
    return _scan(core)


def _say_email(core: str) -> list[str] | None:
    if not _RE_EMAIL.fullmatch(core):
        return None
    local, _, domain = core.partition("@")
    return [*_url_words(local), "at", *_url_words(domain)]


def _say_url(core: str) -> list[str] | None:
    if _RE_URL.fullmatch(core):
        return _url_words(_RE_SCHEME.sub("", core))
    match = _RE_DOMAIN.fullmatch(core)
    if match and match.group(1).lower() in _TLDS and not core[0].isdigit():
        return _url_words(core)
    return None


def _url_words(text: str) -> list[str]:
    # Query strings and fragments are noise when read aloud.
    text = re.split(r"[?#]", text, maxsplit=1)[0].rstrip("/")
    words: list[str] = []
    host, slash, path = text.partition("/")
    if slash and path:
        # A path is read segment by segment; a slug of words ("a-guide-to-python") is said as
        # the words it is, so its "a" is the article, not "slash eigh dash guide".
        said = [_url_segment(segment) for segment in path.split("/")]
        return [*_url_words(host), *[w for seg in said for w in ["slash", *seg]]]
    for part in _RE_URL_PART.findall(text):
        if part[0].isalpha():
            words += _url_label(part)
        elif part[0].isdigit():
            words += (
                _digits(part) if len(part) > 4 or part.startswith("0") else _cardinal(int(part))
            )
        else:
            words.append(_URL_SYMBOLS[part])
    return words


def _url_segment(segment: str) -> list[str]:
    parts = re.split(r"[-_]", segment)
    if len(parts) > 1 and all(p.isalpha() for p in parts):
        return [p.lower() for p in parts]
    return _url_words(segment) if segment else []


def _url_label(label: str) -> list[str]:
    lower = label.lower()
    if lower in _URL_LABELS:
        return list(_URL_LABELS[lower])
    if len(lower) == 1 or (len(lower) <= 5 and not _has_vowel(lower)):
        return _spell(lower)
    return [lower]


def _say_number(core: str) -> list[str] | None:
    if match := _RE_PLAIN.fullmatch(core):
        sign, num = match.groups()
        if not sign and re.fullmatch(r"[0-9]{4}", num):
            return _year(int(num))
        return _sign(sign) + _number_words(num)
    if match := _RE_ISO_DATE.fullmatch(core):
        return _date(int(match[1]), int(match[2]), int(match[3]))
    if match := _RE_US_DATE.fullmatch(core):
        year = int(match[3])
        if len(match[3]) == 2:
            year += 2000 if year < 70 else 1900
        return _date(year, int(match[1]), int(match[2]))
    if match := _RE_CLOCK_AMPM.fullmatch(core):
        return _clock(int(match[1]), int(match[2] or 0), match[3].upper())
    if match := _RE_CLOCK.fullmatch(core):
        return _clock(int(match[1]), int(match[2]), "")
    if match := _RE_MONEY_PRE.fullmatch(core):
        return _money(match[1], match[2], match[3], match[4])
    if match := _RE_MONEY_POST.fullmatch(core):
        return _money(match[1], match[4], match[2], match[3])
    if match := _RE_PERCENT.fullmatch(core):
        return [*_sign(match[1]), *_number_words(match[2]), "percent"]
    if match := _RE_ORDINAL.fullmatch(core):
        return _ordinal(int(match[1].replace(",", "")))
    if match := _RE_HASH.fullmatch(core) or _RE_NO_DOT.fullmatch(core):
        return ["number", *_number_words(match[1])]
    return None


def _say_measure(core: str) -> list[str] | None:
    if match := _RE_DEGREES.fullmatch(core):
        unit = "degree" if match[2] == "1" else "degrees"
        scale = {"c": ["celsius"], "f": ["fahrenheit"]}.get((match[3] or "").lower(), [])
        return [*_sign(match[1]), *_number_words(match[2]), unit, *scale]
    if match := _RE_SHORT_DECADE.fullmatch(core):
        decade = int(match[1]) * 10
        return ["two", "thousands"] if decade == 0 else _plural(_cardinal(decade))
    if match := _RE_PLURAL.fullmatch(core):
        num = match[1]
        words = _year(int(num)) if re.fullmatch(r"[0-9]{4}", num) else _number_words(num)
        if len(words) == 2 and words[0] == "one":
            words = words[1:]  # "1000s" is "thousands", not "one thousands"
        return _plural(words)
    if match := _RE_SCALED.fullmatch(core):
        return [*_sign(match[1]), *_number_words(match[2]), _MULTIPLIERS[match[3]]]
    if match := _RE_BY.fullmatch(core):
        return [*_number_words(match[1]), "by", *_number_words(match[2])]
    if match := _RE_TIMES.fullmatch(core):
        return [*_number_words(match[1]), "times"]
    if match := _RE_TIMES_PRE.fullmatch(core):
        return ["times", *_number_words(match[1])]
    if (match := _RE_UNIT.fullmatch(core)) and match[3] in _UNITS:
        one, many = _UNITS[match[3]]
        return [
            *_sign(match[1]),
            *_number_words(match[2]),
            *_phrase(one if match[2] == "1" else many),
        ]
    if match := _RE_RESOLUTION.fullmatch(core):
        number = int(match[1])  # "1080p" is said "ten eighty p"
        return [*_cardinal(number // 100), *_cardinal(number % 100), match[2]]
    if match := _RE_INITIALS_AND.fullmatch(core):
        return [*_spell(match[1]), "and", *_spell(match[2])]  # "AT&T", "R&D", "Q&A"
    if match := _RE_ABOUT.fullmatch(core):
        return ["about", *_say(match[1])]
    return None


def _say_dashed(core: str) -> list[str] | None:
    if not _RE_SPLIT.search(core[1:]):
        return None
    if _RE_PHONE.fullmatch(core):
        return _digits(core)
    parts = [part for part in _RE_SPLIT.split(core) if part]
    said = [_say(part) for part in parts]
    if len(parts) == 2 and all(part[0].isdigit() or part[0] in "$€£¥₹" for part in parts):
        return [*said[0], "to", *said[1]]  # a range: "10-20", "$5-$10", "2020–2025"
    return [word for words in said for word in words]


def _say_slashed(core: str) -> list[str] | None:
    if "/" not in core:
        return None
    parts = [part for part in core.split("/") if part]
    if len(parts) == 2 and all(part.isdigit() for part in parts):
        top, bottom = int(parts[0]), int(parts[1])
        if 0 < top < bottom <= 10:
            return _fraction(top, bottom)
    if len(parts) == 2 and _RE_PLAIN.fullmatch(parts[0].lstrip("$€£¥₹")) and parts[1].isalpha():
        return [*_say(parts[0]), "per", *_say(parts[1])]  # "$5/month"
    return [word for part in parts for word in _say(part)]


_RULES: tuple[Callable[[str], list[str] | None], ...] = (
    _say_email,
    _say_url,
    _say_number,
    _say_measure,
    _say_dashed,
    _say_slashed,
)


def _scan(core: str) -> list[str]:
    """Last resort: letters as words, digits as numbers, known symbols as words, the rest unsaid."""
    words: list[str] = []
    matches = list(_RE_SCAN.finditer(core))
    for i, match in enumerate(matches):
        kind, text = match.lastgroup, match.group()
        if kind == "num":
            words += _digit_group(text)
        elif kind == "word":
            words += _word(text)
        elif kind == "frac":
            after_number = i > 0 and matches[i - 1].lastgroup == "num"
            words += _FRACTIONS[text][0 if after_number else 1]
        elif text == "#":
            if i + 1 < len(matches) and matches[i + 1].lastgroup == "num":
                words.append("number")
        elif text in _SYMBOLS:
            words += _SYMBOLS[text].split()
    return words


def _digit_group(text: str) -> list[str]:
    if re.fullmatch(_NUM, text):
        return _number_words(text)
    if "," not in text:
        # "1.2.3" is a version: "one point two point three".
        said = [_number_words(part) for part in text.split(".")]
        return [word for i, part in enumerate(said) for word in (["point"] if i else []) + part]
    return [word for part in re.split(r"[.,]", text) for word in _number_words(part)]


def _word(text: str) -> list[str]:
    word = _latin(text).lstrip("'")
    if word.endswith("'") and not word[:-1].endswith(("s", "S")):
        word = word.rstrip("'")
    if not any(c.isalpha() for c in word):
        return []
    special = _SPECIAL.get(word)
    if special is not None:
        return list(special)
    abbrev = _abbreviation(word)
    if abbrev is not None and not abbrev.needs_dot:
        return list(abbrev.words)
    plural = re.fullmatch(r"([A-Z]{2,5})(?:'[sS]|s)", word)
    if plural and _is_initialism(plural[1]):
        *first, last = _spell(plural[1])
        return [*first, last + "'s"]
    letters = word.replace("'", "")
    if not letters.isupper():
        return [word]
    if "'" in word:
        return [word.lower()]  # "DON'T"
    if len(letters) == 1:
        return [word]
    return _spell(letters) if _is_initialism(letters) else [word.lower()]


def _is_initialism(upper: str) -> bool:
    if upper in _SAY_AS_WORD:
        return False
    if upper in _SPELL:
        return True
    if not 2 <= len(upper) <= 5:
        return False
    if not _has_vowel(upper):
        return True
    # Unknown short capitals are usually initialisms; longer ones are usually shouted words.
    return len(upper) <= 3 and upper not in _COMMON_CAPS


def _has_vowel(text: str) -> bool:
    base = unicodedata.normalize("NFKD", text).lower()
    return any(c in "aeiouy" for c in base)


def _is_latin_letter(char: str) -> bool:
    return (
        ("A" <= char <= "Z")
        or ("a" <= char <= "z")
        or ("\u00c0" <= char <= "\u024f" and char.isalpha())
    )


def _latin(text: str) -> str:
    """Keep Latin letters; reduce other accented Latin to its base; drop other scripts."""
    out: list[str] = []
    for char in text:
        if char == "'" or _is_latin_letter(char):
            out.append(char)
        elif char.isalpha():
            out.extend(c for c in unicodedata.normalize("NFKD", char) if _is_latin_letter(c))
    return "".join(out)


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


def _phrase(text: str) -> list[str]:
    # num2words writes "twenty-one" and "one thousand, two hundred"; spoken words carry neither.
    return [word for word in re.split(r"[^A-Za-z']+", text) if word]


def _digits(text: str) -> list[str]:
    return [_DIGIT_WORDS[ord(c) - ord("0")] for c in text if "0" <= c <= "9"]


def _cardinal(number: int) -> list[str]:
    if number < 0:
        return ["minus", *_cardinal(-number)]
    if number >= 10**15:
        return _digits(str(number))  # nobody says "one quadrillion ..." for an ID
    return _phrase(num2words(number, lang="en"))


def _ordinal(number: int) -> list[str]:
    if number >= 10**15:
        return _digits(str(number))
    return _phrase(num2words(number, lang="en", to="ordinal"))


def _year(number: int) -> list[str]:
    if 1100 <= number <= 2099:
        return _phrase(num2words(number, lang="en", to="year"))
    return _cardinal(number)


def _sign(sign: str) -> list[str]:
    return {"-": ["minus"], "+": ["plus"]}.get(sign, [])


def _number_words(text: str) -> list[str]:
    """Words for an unsigned decimal that may have thousands separators: "2,500.75"."""
    whole, _, frac = text.replace(",", "").partition(".")
    words: list[str] = []
    if whole:
        # "007" and long IDs are read digit by digit, as people do.
        if len(whole) > 1 and whole.startswith("0"):
            words += _digits(whole)
        else:
            words += _cardinal(int(whole))
    if frac:
        words += ["point", *_digits(frac)]
    return words


def _plural(words: list[str]) -> list[str]:
    if not words:
        return words
    last = words[-1]
    if last.endswith("y"):
        last = last[:-1] + "ies"
    elif last.endswith(("x", "s")):
        last += "es"
    else:
        last += "s"
    return [*words[:-1], last]


def _fraction(top: int, bottom: int) -> list[str]:
    name = {2: "half", 4: "quarter"}.get(bottom) or _ordinal(bottom)[-1]
    if top > 1:
        name = "halves" if bottom == 2 else _plural([name])[0]
    return [*_cardinal(top), name]


def _date(year: int, month: int, day: int) -> list[str] | None:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return None
    return [_MONTHS[month - 1], *_ordinal(day), *_year(year)]


def _clock(hour: int, minute: int, meridiem: str) -> list[str] | None:
    if hour > 23 or minute > 59:
        return None
    if minute == 0:
        minutes: list[str] = []
    elif minute < 10:
        minutes = ["oh", *_cardinal(minute)]
    else:
        minutes = _cardinal(minute)
    if meridiem:
        return [*_cardinal(hour or 12), *minutes, *_spell(meridiem + "M")]
    if minute == 0:
        if hour == 0:
            return ["midnight"]
        return [*_cardinal(hour), "o'clock" if hour <= 12 else "hundred"]
    return [*_cardinal(hour or 12), *minutes]


def _money(sign: str, symbol: str, num: str, scale: str | None) -> list[str]:
    one, many, minor_one, minor_many = _CURRENCIES[symbol]
    words = _sign(sign)
    if scale:
        return [*words, *_number_words(num), _MULTIPLIERS[scale], many]
    whole, _, frac = num.replace(",", "").partition(".")
    if frac and (len(frac) > 2 or not minor_one):
        return [*words, *_number_words(num), many]
    amount = int(whole or "0")
    cents = int(frac.ljust(2, "0")) if frac else 0
    if amount or not cents:
        words += [*_number_words(whole or "0"), one if amount == 1 else many]
    if cents:
        if amount:
            words.append("and")
        words += [*_cardinal(cents), minor_one if cents == 1 else minor_many]
    return words


# --------------------------------------------------------------------------------------------
# Letters and the final guarantee
# --------------------------------------------------------------------------------------------


def _spell(letters: str) -> list[str]:
    return [_LETTER_NAMES.get(c, c) for c in letters.upper() if c.isalpha()]


def _letter_runs(word: str) -> list[str]:
    """Runs of letters, combining marks (Devanagari's vowel signs, Arabic's harakat) and
    apostrophes; digits, symbols and punctuation separate them."""
    runs: list[str] = []
    current: list[str] = []
    for char in word:
        if char == "'" or unicodedata.category(char)[0] in "LM":
            current.append(char)
        elif current:
            runs.append("".join(current))
            current = []
    if current:
        runs.append("".join(current))
    return runs


def _clean(words: Sequence[str]) -> tuple[str, ...]:
    """Whatever a rule produced, only letters (of any script), their marks and inner or
    possessive apostrophes leave."""
    out: list[str] = []
    for word in words:
        for piece in _letter_runs(word):
            piece = piece.lstrip("'")
            if piece.endswith("'") and not piece.rstrip("'").endswith(("s", "S")):
                piece = piece.rstrip("'")
            piece = re.sub("'{2,}", "'", piece)
            if any(c.isalpha() for c in piece):
                out.append(piece)
    return tuple(out)


# --------------------------------------------------------------------------------------------
# Every other language: words as written, numbers spelled from the language table
# --------------------------------------------------------------------------------------------

_GENERIC_LEAD = frozenset("\"'([{<*_~¿¡•·|#-—–.,;:!?«»「『【（〈《“‘")
_GENERIC_TRAIL = frozenset("\"')]}>*_~.,;:!?—–-|»」』】）〉》”’。！？、，；：؟،؛।॥…")
_ORDINAL_SIGNS = frozenset("ºªᵉ")  # NFKC would make "1º" a "1o"


def _foreign(raw: str) -> bool:
    """True for a word written in a script other than Latin; a lone letter among symbols
    (the "ツ" of a shrug, ¯\\_(ツ)_/¯) is a drawing, not a word."""
    foreign = sum(languages.script_of(c) not in (None, "LATIN") for c in raw)
    return foreign > 0 and foreign * 2 >= len(raw)


def _generic_prepare(raw: str) -> str:
    # NFKC folds full-width digits and letters (Japanese text has them) but keeps every mark
    # (Devanagari's virama, Arabic's vowels): the English path's mark stripping would
    # change what the word says.
    text = "".join(
        c if c in _ORDINAL_SIGNS else unicodedata.normalize("NFKC", c)
        for c in unicodedata.normalize("NFC", raw.translate(_CHAR_MAP))
    )
    text = "".join(
        str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in text
    )
    text = _RE_MD_LINK_TARGET.sub("", text)
    return _RE_HTML_TAG.sub("", text)


def _generic_token(raw: str, lang: languages.Language) -> Token:
    text = _generic_prepare(raw)
    start, end = 0, len(text)
    while start < end and text[start] in _GENERIC_LEAD and not _number_next(text, start):
        start += 1
    while end > start and text[end - 1] in _GENERIC_TRAIL:
        end -= 1
    core, trail = text[start:end], text[end:]
    try:
        words = _generic_say(core, lang)
    except Exception:
        # One odd word must never stop a whole video; say whatever letters it has.
        words = _letter_runs(core)
    return Token(raw, _clean(words), _pause_of(trail if core else text, lone=not core))


def _number_next(text: str, i: int) -> bool:
    after = text[i + 1 : i + 2]
    return text[i] in "-+" and after.isdigit()


def _number_pattern(lang: languages.Language) -> re.Pattern[str]:
    dec = re.escape(lang.decimal)
    group = re.escape("." if lang.decimal == "," else ",")
    return re.compile(rf"[0-9]{{1,3}}(?:{group}[0-9]{{3}})+(?:{dec}[0-9]+)?|[0-9]+(?:{dec}[0-9]+)?")


def _generic_say(core: str, lang: languages.Language) -> list[str]:
    if not core:
        return []
    number = _number_pattern(lang)
    sign = ""
    if core[0] in "-+" and core[1:2].isdigit():
        sign, core = core[0], core[1:]
    currencies = dict(lang.currencies)
    if core in currencies:  # "25 €": the amount was the word before
        return [currencies[core]]
    if core == "%":
        return [lang.percent.replace("{}", "").strip()]
    for symbol in sorted(currencies, key=len, reverse=True):
        amount = None
        if core.startswith(symbol):
            amount = core[len(symbol) :]
        elif core.endswith(symbol):
            amount = core[: -len(symbol)]
        if amount and number.fullmatch(amount):
            return [*_generic_sign(sign, lang), *_spell_in(amount, lang), currencies[symbol]]
    if core.endswith("%") and number.fullmatch(core[:-1]):
        return [*_generic_sign(sign, lang), *_percent(_spell_in(core[:-1], lang), lang)]
    for marker in sorted(lang.ordinals, key=len, reverse=True):
        digits = core[: -len(marker)]
        if core.endswith(marker) and digits.isdigit() and lang.num2words:
            return _words(num2words(int(digits), lang=lang.num2words, to="ordinal"))
    # Anything else: letters as written, each number in it spelled where it stands. Inside
    # a word of a language written without spaces ("7時") the spelled number joins the word.
    parts: list[str] = []
    pos = 0
    for match in re.finditer(rf"({number.pattern}|[0-9]+)(%?)", core):
        parts.append(core[pos : match.start()])
        said = _spell_in(match.group(1), lang)
        parts.append(" ".join(_percent(said, lang) if match.group(2) else said))
        pos = match.end()
    parts.append(core[pos:])
    joined = ("" if lang.breaking == "phrase" else " ").join(p for p in parts if p)
    return [*_generic_sign(sign, lang), *joined.split()]


def _percent(number: list[str], lang: languages.Language) -> list[str]:
    if "{}" in lang.percent:
        return lang.percent.replace(
            "{}", "".join(number) if lang.breaking == "phrase" else " ".join(number)
        ).split()
    return [*number, *lang.percent.split()]


def _generic_sign(sign: str, lang: languages.Language) -> list[str]:
    if sign != "-":
        return []
    return _words(num2words(-1, lang=lang.num2words))[:-1] if lang.num2words else ["-"]


def _spell_in(number: str, lang: languages.Language) -> list[str]:
    """An unsigned number as written in ``lang`` ("1.500,5" in Spanish), in its words."""
    from decimal import Decimal

    group = "." if lang.decimal == "," else ","
    plain = number.replace(group, "") if re.search(rf"\{group}[0-9]{{3}}", number) else number
    plain = plain.replace(lang.decimal, ".")
    if plain.count(".") > 1 or (plain.startswith("0") and len(plain) > 1 and "." not in plain):
        # A version or a code: each part or digit said by itself.
        return [w for part in re.findall(r"[0-9]", plain) for w in _spell_in(part, lang)]
    value = Decimal(plain) if "." in plain else int(plain)
    if lang.decimal_word and "." in plain:
        whole, _, fraction = plain.partition(".")
        digits = [w for d in fraction for w in _spell_in(d, lang)]
        return [*_spell_in(whole or "0", lang), lang.decimal_word, *digits]
    if lang.num2words:
        return _words(num2words(value, lang=lang.num2words))
    if lang.rbnf:
        return _words(_rbnf(lang.rbnf).format_number(value).text)
    return [number]  # no speller: left as written, for a voice that says numbers itself


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", text) if w]


@functools.lru_cache(maxsize=8)
def _rbnf(locale: str) -> Any:
    from unicode_rbnf import RbnfEngine

    return RbnfEngine.for_language(locale)
