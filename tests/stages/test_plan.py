"""The offline director: headings, sentences, stable per-shot choices."""

from __future__ import annotations

from personaforge.backends.planner.offline import OfflinePlanner, split_sentences
from personaforge.core.specs import Persona

P = Persona(name="T")


def test_headings_become_title_cards_and_sentences_shots() -> None:
    shots = OfflinePlanner().plan("# Intro\n\nFirst sentence is here. Second one is here too!\n", P)
    assert [(s.kind, s.text) for s in shots] == [
        ("title", "Intro"),
        ("talking", "First sentence is here."),
        ("talking", "Second one is here too!"),
    ]
    assert shots[2].emotion == "excited" and shots[2].camera == "push_in"
    assert [s.id for s in shots] == ["shot-001", "shot-002", "shot-003"]


def test_abbreviations_and_decimals_do_not_split() -> None:
    assert split_sentences("Dr. Smith paid $3.50 at 9 a.m. today. Then he left.") == [
        "Dr. Smith paid $3.50 at 9 a.m. today.",
        "Then he left.",
    ]


def test_short_sentences_join_the_next() -> None:
    shots = OfflinePlanner().plan("Hi. Welcome to the show, everyone here.\n", P)
    assert [s.text for s in shots] == ["Hi. Welcome to the show, everyone here."]


def test_markdown_markup_is_removed_but_words_kept() -> None:
    shots = OfflinePlanner().plan(
        "- **Bold** claim with a [link](http://x.y) and `code` here.\n", P
    )
    assert shots[0].text == "Bold claim with a link and code here."


def test_one_word_script() -> None:
    shots = OfflinePlanner().plan("Hello", P)
    assert [(s.kind, s.text) for s in shots] == [("talking", "Hello")]


def test_editing_one_sentence_keeps_the_others_choices() -> None:
    a = OfflinePlanner().plan("One sentence stays put. Another sentence changes here.", P)
    b = OfflinePlanner().plan("One sentence stays put. A different sentence entirely now.", P)
    assert (a[0].text, a[0].emotion, a[0].camera) == (b[0].text, b[0].emotion, b[0].camera)


def test_long_unpunctuated_text_is_split_into_bounded_shots() -> None:
    from personaforge.backends.planner.offline import MAX_WORDS

    words = [f"w{i}" for i in range(2000)]
    shots = OfflinePlanner().plan(" ".join(words), P)
    assert all(len(s.text.split()) <= MAX_WORDS for s in shots)
    assert [w for s in shots for w in s.text.split()] == words


def test_long_sentences_split_at_clause_ends() -> None:
    sentence = " ".join(["alpha"] * 20) + ", " + " ".join(["beta"] * 30) + "."
    shots = OfflinePlanner().plan(sentence, P)
    assert len(shots) == 2
    assert shots[0].text.endswith("alpha,") and shots[1].text.startswith("beta")
