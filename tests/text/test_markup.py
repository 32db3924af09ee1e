"""Script markup: pauses, emphasis and pronunciations."""

from __future__ import annotations

import pytest

from personaforge.text.markup import clean, pieces, pronounce
from personaforge.text.normalize import tokenize


@pytest.mark.parametrize(
    ("mark", "seconds"),
    [("[pause 0.5s]", 0.5), ("[pause 300ms]", 0.3), ("[pause]", 0.5), ("[PAUSE 1.25 s]", 1.25),
     ("[pause 90s]", 5.0), ("[ pause .2s ]", 0.2)],
)  # fmt: skip
def test_pause_marks_split_the_text_with_silence(mark: str, seconds: float) -> None:
    parts = pieces(f"Hello there. {mark} And again.")
    assert [p.text for p in parts] == ["Hello there.", "And again."]
    assert parts[0].pause_after_s == pytest.approx(seconds)
    assert parts[1].pause_after_s == 0.0


def test_leading_and_repeated_pauses_add_up() -> None:
    parts = pieces("[pause 1s] Wait [pause 0.2s] [pause 0.3s] now")
    assert [(p.text, p.pause_after_s) for p in parts] == [("", 1.0), ("Wait", 0.5), ("now", 0.0)]


def test_emphasis_is_marked_and_asterisks_removed() -> None:
    (part,) = pieces('This is *very* important, "*really* *truly* so" and **bold** too.')
    assert part.text == 'This is very important, "really truly so" and bold too.'
    words = part.text.split()
    assert sorted(words[i] for i in part.emphasis) == ['"really', "bold", "truly", "very"]
    (span,) = pieces("*two words* then plain")
    assert span.emphasis == frozenset({0, 1})


def test_a_lone_asterisk_is_not_emphasis() -> None:
    (part,) = pieces("3 * 4 is twelve")
    assert part.emphasis == frozenset()
    assert part.text == "3 * 4 is twelve"


def test_pronunciations_change_what_is_said_not_what_is_shown() -> None:
    tokens = pronounce(tokenize("SQL's rows, and sql too."), {"SQL": "sequel"})
    assert [t.display for t in tokens] == ["SQL's", "rows,", "and", "sql", "too."]
    assert tokens[0].spoken == ("sequel's",)
    assert tokens[3].spoken == ("sequel",)
    assert tokens[4].pause == "."
    (part,) = pieces("Welcome to PersonaForge!", {"PersonaForge": "Persona Forge"})
    assert part.tokens[-1].display == "PersonaForge!"
    assert part.tokens[-1].spoken == ("Persona", "Forge")


def test_clean_is_the_text_as_shown() -> None:
    assert clean("Hi *there* [pause 1s] you.") == "Hi there you."
