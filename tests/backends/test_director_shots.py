"""The director's contract without any server: numbering, validation, shots from an answer."""

from __future__ import annotations

import pytest

from personaforge.backends.planner.offline import MAX_WORDS
from personaforge.backends.planner.shots import (
    KINDS,
    NEEDS_MEDIA,
    AnswerError,
    answer_schema,
    build_shots,
    numbered,
    validate_answer,
)
from personaforge.core.manifests import ShotKind


def shot(*numbers: int, **kw: str) -> dict[str, object]:
    return {"sentences": list(numbers), "kind": "talking", "emotion": "neutral",
            "camera": "static", **kw}  # fmt: skip


def test_kinds_come_from_the_shot_kind_type() -> None:
    from typing import get_args

    assert tuple(k for k in get_args(ShotKind) if k not in NEEDS_MEDIA) == KINDS
    assert {"talking", "title"} <= set(KINDS)
    kind_enum = answer_schema()["properties"]["shots"]["items"]["properties"]["kind"]["enum"]
    assert kind_enum == list(KINDS)


def test_a_shot_spanning_a_heading_is_cut_at_it_and_words_are_the_scripts() -> None:
    blocks = numbered("One sentence here. Two sentence here.\n\n# Break\n\nThree sentence here.\n")
    answer = validate_answer({"shots": [shot(1, 2, 3, emotion="happy")]}, blocks)
    shots = build_shots(blocks, answer)
    assert [(s.kind, s.text, s.emotion) for s in shots] == [
        ("talking", "One sentence here. Two sentence here.", "happy"),
        ("title", "Break", "neutral"),
        ("talking", "Three sentence here.", "happy"),
    ]
    assert [s.id for s in shots] == ["shot-001", "shot-002", "shot-003"]


def test_an_over_long_group_is_split_but_keeps_every_word_in_order() -> None:
    sentences = [f"Sentence number {i} has a few more words in it, right here." for i in range(12)]
    blocks = numbered(" ".join(sentences))
    answer = validate_answer({"shots": [shot(*range(1, 13), camera="push_in")]}, blocks)
    shots = build_shots(blocks, answer)
    assert len(shots) > 1 and all(len(s.text.split()) <= MAX_WORDS for s in shots)
    assert " ".join(s.text for s in shots) == " ".join(sentences)
    assert {s.camera for s in shots} == {"push_in"}


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        ({"shots": [shot(1), shot(3)]}, "sentence 2 is missing"),
        ({"shots": [shot(1, 2), shot(2, 3)]}, "sentence 2 is listed twice"),
        ({"shots": [shot(1, 2)]}, "sentences 3 to 3 are in no shot"),
        ({"shots": [shot(1, 2, 3, 4)]}, "only 3 sentences"),
        ({"shots": [shot(1, 2, 3, kind="cartoon")]}, "shots.0.kind"),
        ({"shots": [{**shot(1, 2, 3), "extra": 1}]}, "shots.0.extra"),
        ({"plan": []}, "shots"),
    ],
)
def test_bad_answers_say_what_is_wrong(answer: dict[str, object], words: str) -> None:
    blocks = numbered("A one. B two. C three.")
    with pytest.raises(AnswerError) as info:
        validate_answer(answer, blocks)
    assert words in str(info.value)


def test_without_the_sdk_choosing_claude_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.util
    import sys

    from personaforge.backends import registry
    from personaforge.errors import MissingDependencyError

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "anthropic" else real(name, *a),
    )
    monkeypatch.delitem(sys.modules, "personaforge.backends.planner.claude", raising=False)
    with pytest.raises(MissingDependencyError) as info:
        registry.resolve("plan", "claude")
    assert info.value.hint == "pip install 'personaforge[claude]'"
    assert "anthropic" in info.value.message


def test_the_creators_markup_wins_over_the_directors_kind() -> None:
    script = (
        "Plain talk comes first here.\n\n"
        "![broll](media/city.jpg)\n"
        "The city wakes up slowly. Lights come on one by one.\n\n"
        "> Stay hungry, stay foolish.\n"
        "> — Steve\n"
    )
    blocks = numbered(script)
    assert [b.kind for b in blocks] == ["sentence", "sentence", "sentence", "title"]
    answer = validate_answer({"shots": [shot(1, 2, 3, emotion="happy")]}, blocks)
    shots = build_shots(blocks, answer, "Tess", "host")
    assert [(s.kind, s.text) for s in shots] == [
        ("talking", "Plain talk comes first here."),
        ("broll", "The city wakes up slowly. Lights come on one by one."),
        ("quote", "Stay hungry, stay foolish."),
    ]
    assert shots[1].broll == "media/city.jpg" and shots[1].emotion == "happy"
    assert shots[2].name == "Steve"
