"""Script text normalisation: what piper is asked to say, and how it maps back to written words."""

from __future__ import annotations

import re

import pytest

from personaforge.text.normalize import Token, spoken_text, tokenize

SPOKEN_RE = re.compile(r"^[A-Za-z\u00C0-\u024F' ,.!?]*$")
WORD_RE = re.compile(r"^[A-Za-z\u00C0-\u024F']+$")


def say(text: str) -> str:
    """Spoken words of all tokens, lower-cased, without pauses."""
    return " ".join(word for token in tokenize(text) for word in token.spoken).lower()


def only(text: str) -> Token:
    tokens = tokenize(text)
    assert len(tokens) == 1, tokens
    return tokens[0]


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("0", "zero"),
        ("7", "seven"),
        ("42", "forty two"),
        ("105", "one hundred and five"),
        ("1,000", "one thousand"),
        ("2,500,000", "two million five hundred thousand"),
        ("3.14", "three point one four"),
        ("0.5", "zero point five"),
        (".5", "point five"),
        ("2.50", "two point five zero"),
        ("-5", "minus five"),
        ("-0.25", "minus zero point two five"),
        ("+3", "plus three"),
        ("007", "zero zero seven"),
        ("1.2.3", "one point two point three"),
        ("1,000th", "one thousandth"),
        ("10,000+", "ten thousand plus"),
        ("~5", "about five"),
        ("~$5", "about five dollars"),
    ],
)
def test_numbers(written: str, spoken: str) -> None:
    assert say(written) == spoken


def test_very_long_digit_runs_are_read_digit_by_digit() -> None:
    assert say("12345678901234567890").split() == [
        "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "zero",
    ] * 2  # fmt: skip


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1st", "first"),
        ("2nd", "second"),
        ("3rd", "third"),
        ("4th", "fourth"),
        ("11th", "eleventh"),
        ("22nd", "twenty second"),
        ("101st", "one hundred and first"),
    ],
)
def test_ordinals(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("2026", "twenty twenty six"),
        ("2000", "two thousand"),
        ("2005", "two thousand and five"),
        ("1905", "nineteen oh five"),
        ("1999", "nineteen ninety nine"),
        ("1100", "eleven hundred"),
        ("2099", "twenty ninety nine"),
        # Outside 1100-2099, or with a separator, a four-digit number is a quantity.
        ("1000", "one thousand"),
        ("2100", "two thousand one hundred"),
        ("2,026", "two thousand and twenty six"),
    ],
)
def test_years(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1990s", "nineteen nineties"),
        ("1800s", "eighteen hundreds"),
        ("2000s", "two thousands"),
        ("2010s", "twenty tens"),
        ("'90s", "nineties"),
        ("’80s", "eighties"),
        ("'00s", "two thousands"),
        ("80s", "eighties"),
        ("1990's", "nineteen nineties"),
        ("100s", "hundreds"),
        ("1000s", "thousands"),
    ],
)
def test_decades_and_plural_numbers(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("1/2", "one half"),
        ("3/4", "three quarters"),
        ("2/3", "two thirds"),
        ("1/10", "one tenth"),
        ("½", "one half"),
        ("2½", "two and a half"),
        ("24/7", "twenty four seven"),
        ("50/50", "fifty fifty"),
    ],
)
def test_fractions_and_slashed_numbers(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("10-20", "ten to twenty"),
        ("2020–2025", "twenty twenty to twenty twenty five"),
        ("$5-$10", "five dollars to ten dollars"),
        ("10-20%", "ten to twenty percent"),
        ("555-1234", "five five five one two three four"),
        ("1-800-555-1234", "one eight zero zero five five five one two three four"),
    ],
)
def test_ranges_and_phone_numbers(written: str, spoken: str) -> None:
    assert say(written) == spoken


# --------------------------------------------------------------------------------------------
# Money, percent, measures
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("$5", "five dollars"),
        ("$1", "one dollar"),
        ("$5.99", "five dollars and ninety nine cents"),
        ("$1.01", "one dollar and one cent"),
        ("$0.99", "ninety nine cents"),
        ("$5.00", "five dollars"),
        ("$5.5", "five dollars and fifty cents"),
        ("$5.999", "five point nine nine nine dollars"),
        ("$1,000", "one thousand dollars"),
        ("-$5", "minus five dollars"),
        ("€20", "twenty euros"),
        ("€1", "one euro"),
        ("5€", "five euros"),
        ("£3", "three pounds"),
        ("£3.50", "three pounds and fifty pence"),
        ("¥500", "five hundred yen"),
        ("$1M", "one million dollars"),
        ("$2.5B", "two point five billion dollars"),
        ("$4K", "four thousand dollars"),
        ("$3bn", "three billion dollars"),
        ("$5/month", "five dollars per month"),
        ("5 USD", "five u s d"),
        ("$", "dollars"),
    ],
)
def test_currency(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("5k", "five thousand"),
        ("5K", "five thousand"),
        ("2.5M", "two point five million"),
        ("3B", "three billion"),
        ("50%", "fifty percent"),
        ("12.5%", "twelve point five percent"),
        ("-3%", "minus three percent"),
        ("%", "percent"),
        ("5 %", "five percent"),
        ("30°C", "thirty degrees celsius"),
        ("1°", "one degree"),
        ("5km", "five kilometers"),
        ("1km", "one kilometer"),
        ("5 km", "five kilometers"),
        ("1 kg", "one kilogram"),
        ("2½ hrs", "two and a half hours"),
        ("2.5GB", "two point five gigabytes"),
        ("60fps", "sixty frames per second"),
        ("3x", "three times"),
        ("1.5x", "one point five times"),
        ("x3", "times three"),
        ("3 x 4", "three times four"),
        ("1920x1080", "one thousand nine hundred and twenty by one thousand and eighty"),
        ("1080p", "ten eighty p"),
        ("4K", "four k"),
        ("x²", "x squared"),
        ("E=mc²", "e equals mc squared"),
    ],
)
def test_scales_percent_and_units(written: str, spoken: str) -> None:
    assert say(written) == spoken


# --------------------------------------------------------------------------------------------
# Dates and times
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("2026-11-27", "november twenty seventh twenty twenty six"),
        ("11/27/2026", "november twenty seventh twenty twenty six"),
        ("1/2/2026", "january second twenty twenty six"),
        ("11/27/26", "november twenty seventh twenty twenty six"),
        ("Jan. 5", "january fifth"),
        ("Nov 27, 2026", "november twenty seventh twenty twenty six"),
        ("May 5", "may fifth"),
        ("Dec. 25th", "december twenty fifth"),
        # Not a calendar date: still said, as numbers.
        ("2026-13-45", "twenty twenty six thirteen forty five"),
    ],
)
def test_dates(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("10:30", "ten thirty"),
        ("9:05", "nine oh five"),
        ("12:00", "twelve o'clock"),
        ("14:00", "fourteen hundred"),
        ("00:00", "midnight"),
        ("9am", "nine eigh m"),
        ("9:15pm", "nine fifteen p m"),
        ("9.30am", "nine thirty eigh m"),
        ("12:30AM", "twelve thirty eigh m"),
        ("7 pm", "seven p m"),
        ("7 PM", "seven p m"),
        ("9 a.m.", "nine eigh m"),
        ("9 p.m.", "nine p m"),
    ],
)
def test_times(written: str, spoken: str) -> None:
    assert say(written) == spoken


def test_am_is_a_word_unless_it_follows_a_time() -> None:
    assert say("I am here") == "i am here"
    assert say("I AM here") == "i am here"
    assert say("at 9 am") == "at nine eigh m"


# --------------------------------------------------------------------------------------------
# Symbols, abbreviations, initialisms
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("&", "and"),
        ("Tom & Jerry", "tom and jerry"),
        ("+", "plus"),
        ("a+b", "a plus b"),
        ("=", "equals"),
        ("@", "at"),
        ("@home", "at home"),
        ("#1", "number one"),
        ("#hashtag", "hashtag"),
        ("and/or", "and or"),
        ("w/", "with"),
        ("w/o", "without"),
        ("R&D", "r and d"),
        ("AT&T", "eigh t and t"),
        ("C#", "c sharp"),
        ("×", "times"),
        ("÷", "divided by"),
    ],
)
def test_symbols(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Dr. Smith", "doctor smith"),
        ("Mr. Jones", "mister jones"),
        ("Mrs. Jones", "missus jones"),
        ("Ms. Jones", "miz jones"),
        ("Prof. Lee", "professor lee"),
        ("St. Louis", "saint louis"),
        ("Baker St. is", "baker street is"),
        ("cats vs. dogs", "cats versus dogs"),
        ("cats vs dogs", "cats versus dogs"),
        ("e.g. this", "for example this"),
        ("i.e. this", "that is this"),
        ("apples etc. and", "apples et cetera and"),
        ("approx. 5", "approximately five"),
        ("No. 5", "number five"),
        ("No.5", "number five"),
        ("No. thanks", "no thanks"),
        ("Jan. Feb. Mar. Apr. Jun. Jul. Aug. Sept. Oct. Nov. Dec.",
         "january february march april june july august september october november december"),
        ("Acme Inc.", "acme incorporated"),
        ("a.k.a. Bob", "also known as bob"),
        ("O.K.", "okay"),
        ("U.S.", "u s"),
        ("U.S.-based", "u s based"),
        ("J. K. Rowling", "j k rowling"),
    ],
)  # fmt: skip
def test_abbreviations(written: str, spoken: str) -> None:
    assert say(written) == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("API", ("eigh", "P", "I")),
        ("AI", ("eigh", "I")),
        ("USA", ("U", "S", "eigh")),
        ("CEO", ("C", "E", "O")),
        ("TTS", ("T", "T", "S")),
        ("HTTPS", ("H", "T", "T", "P", "S")),
        ("APIs", ("eigh", "P", "I's")),
        ("CEO's", ("C", "E", "O's")),
        ("LLMs", ("L", "L", "M's")),
        ("HTML5", ("H", "T", "M", "L", "five")),
        ("GPT-4o", ("G", "P", "T", "four", "o")),
    ],
)
def test_initialisms_are_spelled(written: str, spoken: tuple[str, ...]) -> None:
    assert only(written).spoken == spoken


def test_spelled_a_is_never_the_article() -> None:
    # espeak reads a lone "A" as the unstressed article; the letter is written so it says "ay".
    assert "A" not in only("API").spoken
    assert only("A").spoken == ("A",)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("NASA", "nasa"),
        ("NATO", "nato"),
        ("COVID-19", "covid nineteen"),
        ("GIF", "gif"),
        ("I", "i"),
        ("A", "a"),
        ("OK", "okay"),
        ("THIS IS NOT A DRILL", "this is not a drill"),
        ("HUGE", "huge"),
        ("NVIDIA", "nvidia"),
        ("DON'T", "don't"),
        ("iPhone", "iphone"),
        ("PhD", "p h d"),
    ],
)
def test_capitals_that_are_words(written: str, spoken: str) -> None:
    assert say(written) == spoken


# --------------------------------------------------------------------------------------------
# Decoration, letters, apostrophes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ('"Hello"', ("Hello",)),
        ("“Hello,”", ("Hello",)),
        ("'quoted'", ("quoted",)),
        ("‘single’", ("single",)),
        ("(paren)", ("paren",)),
        ("[1]", ("one",)),
        ("{brace}", ("brace",)),
        ("back\\slash", ("back", "slash")),
        ("**bold**", ("bold",)),
        ("_italic_", ("italic",)),
        ("`code`", ("code",)),
        ("~~strike~~", ("strike",)),
        ("snake_case", ("snake", "case")),
        ("[link](https://example.com)", ("link",)),
        ("<b>bold</b>", ("bold",)),
        ("Brand™", ("Brand",)),
        ("Hello🚀", ("Hello",)),
        ("ﬁne", ("fine",)),
        ("ＡＢＣ", ("eigh", "B", "C")),
    ],
)
def test_decoration_is_kept_in_display_and_not_spoken(
    written: str, spoken: tuple[str, ...]
) -> None:
    token = only(written)
    assert token.display == written
    assert token.spoken == spoken


@pytest.mark.parametrize("written", ["🚀", "👍🏽", "*", "•", "#", "##", "—", "–", "--", "...", "/"])
def test_tokens_with_nothing_to_say(written: str) -> None:
    token = only(written)
    assert token.display == written
    assert token.spoken == ()


@pytest.mark.parametrize("word", ["café", "naïve", "résumé", "Zürich", "façade", "São", "Øresund"])
def test_accented_letters_are_kept(word: str) -> None:
    assert only(word).spoken == (word,)


def test_letters_outside_latin_are_reduced_or_kept() -> None:
    assert only("ṭest").spoken == ("test",)  # a Latin letter with a mark espeak may not know
    assert only("e\u0301te\u0301").spoken == ("été",)  # combining marks are composed
    # Another script's words are kept as written, never dropped: whether the voice can say
    # them is the speak stage's question (it refuses in one line where it cannot).
    assert only("Москва").spoken == ("Москва",)
    assert only("東京").spoken == ("東京",)
    assert only("¯\\_(ツ)_/¯").spoken == ()  # a drawing, not a Japanese word


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("it's", ("it's",)),
        ("it’s", ("it's",)),
        ("James'", ("James'",)),
        ("James’", ("James'",)),
        ("O'Brien", ("O'Brien",)),
        ("rock'n'roll", ("rock'n'roll",)),
        ("'tis", ("tis",)),
    ],
)
def test_apostrophes(written: str, spoken: tuple[str, ...]) -> None:
    assert only(written).spoken == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("state-of-the-art", ("state", "of", "the", "art")),
        ("twenty-one", ("twenty", "one")),
        ("word—word", ("word", "word")),
        ("wait...what", ("wait", "what")),
    ],
)
def test_joined_words_split(written: str, spoken: tuple[str, ...]) -> None:
    assert only(written).spoken == spoken


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("example.com", "example dot com"),
        ("https://www.example.com/path?q=1", "w w w dot example dot com slash path"),
        ("www.bbc.co.uk", "w w w dot b b c dot co dot u k"),
        ("github.io", "github dot i o"),
        ("a@b.co", "eigh at b dot co"),
        ("john.doe+news@gmail.com", "john dot doe plus news at gmail dot com"),
        ("Node.js", "node dot j s"),
        # A missing space after a full stop is not a web address.
        ("end.Start", "end start"),
    ],
)
def test_urls_and_emails(written: str, spoken: str) -> None:
    assert say(written) == spoken


# --------------------------------------------------------------------------------------------
# Pauses
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "pause"),
    [
        ("word", ""),
        ("word,", ","),
        ("word.", "."),
        ("word!", "!"),
        ("word?", "?"),
        ("word;", ","),
        ("word:", ","),
        ("word…", "."),
        ("word...", "."),
        ("word—", ","),
        ("word--", ","),
        ("Really?!", "?"),
        ("Wow!!!", "!"),
        ('said,"', ","),
        ('"Hello?"', "?"),
        ("(end.)", "."),
        ("—", ","),
        ("–", ","),
        ("...", "."),
        ("*", ""),
    ],
)
def test_pause(written: str, pause: str) -> None:
    assert only(written).pause == pause


@pytest.mark.parametrize(
    ("text", "pauses"),
    [
        ("Dr. Smith", ["", ""]),
        ("Mr. Jones arrived.", ["", "", "."]),
        ("see e.g. this", ["", "", ""]),
        ("e.g., this", [",", ""]),
        ("apples etc. and", ["", "", ""]),
        ("apples etc. Then", ["", ".", ""]),
        ("apples etc.", ["", "."]),
        ("at 9 a.m. Then", ["", "", ".", ""]),
        ("the U.S. The", ["", ".", ""]),
        ("J. K. Rowling", ["", "", ""]),
        ("Plan B.", ["", "."]),
        ("No. 5", ["", ""]),
        ("I said No. Then", ["", "", ".", ""]),
        ("on Main St.", ["", "", "."]),
        ("$5.99.", ["."]),
    ],
)
def test_abbreviation_dots_are_not_sentence_pauses(text: str, pauses: list[str]) -> None:
    assert [token.pause for token in tokenize(text)] == pauses


# --------------------------------------------------------------------------------------------
# spoken_text
# --------------------------------------------------------------------------------------------


def test_spoken_text_appends_pauses_to_last_word() -> None:
    assert spoken_text(tokenize("He paid $5.99, then left!")) == (
        "He paid five dollars and ninety nine cents, then left!"
    )


def test_spoken_text_moves_a_wordless_pause_back() -> None:
    assert spoken_text(tokenize("Wait — what 🚀? Yes")) == "Wait, what? Yes"
    # Nothing before it: the pause has nowhere to go.
    assert spoken_text(tokenize("— Hello")) == "Hello"


def test_spoken_text_keeps_the_strongest_of_merged_pauses() -> None:
    assert spoken_text(tokenize("Really, ?")) == "Really?"
    assert spoken_text(tokenize("Really? ,")) == "Really?"


def test_spoken_text_capitalises_each_sentence() -> None:
    # espeak-ng drops a full stop that is followed by a lower-case word.
    assert spoken_text(tokenize("ok. 2 apples! then? e.g. this")) == (
        "Okay. Two apples! Then? For example this"
    )
    assert spoken_text(tokenize("It ended. Dr. Smith came")) == "It ended. Doctor Smith came"


def test_spoken_text_of_hand_made_tokens_is_still_safe() -> None:
    tokens = [Token("x", ("5", "a-b", "ok"), ";"), Token("y", ("fine",), "?")]
    assert spoken_text(tokens) == "A b ok fine?"


def test_spoken_text_of_nothing() -> None:
    assert spoken_text([]) == ""
    assert spoken_text(tokenize("🚀 — *")) == ""


# --------------------------------------------------------------------------------------------
# Whole-script properties
# --------------------------------------------------------------------------------------------

MESSY = """# Launch day!

“Honestly,” said Dr. Ng—our CTO—“the API’s p95 fell 40% (from 250ms to 150ms) in Q3 2025.”
It costs $19.99/month, or €199 a year; that's ~$2.5M ARR by 11/27/2026 at 9:15pm!!! 🚀🚀
See https://example.com/pricing?ref=abc, email sales@example.io & ask for No. 7.
**Why?** Because 1st-class TTS -- the state-of-the-art kind -- beats the 1990s' robots…
We're #1 in the U.S., e.g. NYC, and 3x faster than v2.0.1 — AT&T, R&D, Q&A... 2½ hrs, 30°C.
Zürich's café naïveté costs CHF 5, not £3.50 [1]; x² + y² = z². Москва? 東京! ¯\\_(ツ)_/¯
"""


def test_every_token_is_kept_in_order() -> None:
    tokens = tokenize(MESSY)
    assert [token.display for token in tokens] == MESSY.split()
    assert " ".join(token.display for token in tokens) == " ".join(MESSY.split())


FOREIGN = ("Москва", "東京")


def test_every_spoken_word_is_plain() -> None:
    for token in tokenize(MESSY):
        if token.spoken and token.spoken[0] in FOREIGN:
            continue
        assert token.pause in ("", ",", ".", "!", "?"), token
        for word in token.spoken:
            assert WORD_RE.match(word), token
            assert any(c.isalpha() for c in word), token


def test_spoken_text_of_a_messy_paragraph_is_clean() -> None:
    text = spoken_text(tokenize(MESSY))
    assert text.endswith("Москва? 東京!"), text
    text = text.removesuffix(" Москва? 東京!")
    assert SPOKEN_RE.match(text), text
    assert "  " not in text
    assert text == text.strip()
    # Each pause follows a word, never a space or another pause.
    assert not re.search(r"(^|[ ,.!?])[,.!?]", text), text
    for expected in (
        "said doctor Ng",
        "forty percent",
        "nineteen dollars and ninety nine cents per month",
        "about two point five million dollars",
        "November twenty seventh twenty twenty six",
        "nine fifteen P M!",
        "example dot com slash pricing",
        "sales at example dot I O",
        "number seven. Why?",
        "nineteen nineties",
        "number one",
        "three times faster",
        "Q and eigh. Two and a half hours",
        "thirty degrees celsius",
        "three pounds and fifty pence",
        "x squared plus y squared equals z squared",
    ):
        assert expected in text, (expected, text)


def test_seventy_word_sentence() -> None:
    words = [f"word{i}" if i % 10 == 0 else "speech" for i in range(70)]
    text = " ".join(words) + "."
    tokens = tokenize(text)
    assert len(tokens) == 70
    assert [token.display for token in tokens] == text.split()
    assert all(token.pause == "" for token in tokens[:-1])
    assert tokens[-1].pause == "."
    assert tokens[10].spoken == ("word", "ten")
    spoken = spoken_text(tokens)
    assert SPOKEN_RE.match(spoken)
    assert spoken.endswith("speech.")
    assert spoken.count("speech") == 63


def test_one_word_script() -> None:
    assert tokenize("Hello.") == [Token("Hello.", ("Hello",), ".")]
    assert spoken_text(tokenize("Hello.")) == "Hello."


@pytest.mark.parametrize("text", ["", " ", "\n\t  \n"])
def test_empty_script(text: str) -> None:
    assert tokenize(text) == []
    assert spoken_text(tokenize(text)) == ""


def test_whitespace_of_any_kind_separates_tokens() -> None:
    tokens = tokenize("one\ttwo\nthree\u00a0four  five")
    assert [token.display for token in tokens] == ["one", "two", "three", "four", "five"]


@pytest.mark.parametrize(
    "text",
    [
        "\u0301\u0301",
        "$$$ %%% @@@ ###",
        "1,2,3,4 ..5 5.. 5,, ,5 -.5 +-5 -- ++",
        "99999999999999999999999999999999999999999999999999999999999999999999999999st",
        "$99999999999999999999999999999 1e10 0x1F 0b1010 NaN inf -inf",
        "'''''' \"\"\"\"\" ’’’’ s' 's '",
        "25:99 99:99pm 0am 13/13/13 0000-00-00 9999-99-99",
        "http:// @ .com a@ @b ..com www.",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 \ufe0f \u200b",
    ],
)
def test_odd_input_never_raises_and_stays_clean(text: str) -> None:
    tokens = tokenize(text)
    assert [token.display for token in tokens] == text.split()
    assert SPOKEN_RE.match(spoken_text(tokens))
    for token in tokens:
        assert all(WORD_RE.match(word) for word in token.spoken), token
