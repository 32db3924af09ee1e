"""The director's contract, without any SDK: the script's own sentences, numbered; the answer
a director gives (shots as groups of sentence numbers, annotated); its validation; and the
planned shots built from it, whose words are always the script's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from personaforge.backends.planner.offline import paragraphs, split_long, split_sentences
from personaforge.core.models import PlannedShot, ShotKind
from personaforge.media.avatar import CAMERA_MOVES, EMOTIONS

# From the type, so kinds the render learns (b-roll, quote cards, ...) are offered at once.
KINDS: tuple[str, ...] = tuple(get_args(ShotKind))
ON_SCREEN_MAX = 80


@dataclass(frozen=True)
class Block:
    """A heading (a title card, not numbered) or a sentence numbered from 1."""

    kind: str  # "title" or "sentence"
    text: str
    number: int = 0
    section: int = 0  # sentences under different headings never share a shot


def numbered(script: str) -> list[Block]:
    """The script as headings and numbered sentences, split as the offline director does."""
    blocks: list[Block] = []
    number = section = 0
    for kind, text in paragraphs(script):
        if kind == "title":
            section += 1
            blocks.append(Block("title", text, section=section))
            continue
        for sentence in split_sentences(text):
            number += 1
            blocks.append(Block("sentence", sentence, number, section))
    return blocks


def prompt_text(blocks: list[Block]) -> str:
    """The user message: the numbered sentences, with headings for context."""
    lines = []
    for b in blocks:
        lines.append(f"[heading] {b.text}" if b.kind == "title" else f"{b.number}. {b.text}")
    return "\n".join(lines)


class DirectedShot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sentences: list[int] = Field(min_length=1)
    kind: str
    emotion: str
    camera: str
    on_screen_text: str | None = Field(default=None, max_length=ON_SCREEN_MAX)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v: str) -> str:
        return _one_of(v, KINDS)

    @field_validator("emotion")
    @classmethod
    def _emotion(cls, v: str) -> str:
        return _one_of(v, EMOTIONS)

    @field_validator("camera")
    @classmethod
    def _camera(cls, v: str) -> str:
        return _one_of(v, CAMERA_MOVES)

    @field_validator("on_screen_text")
    @classmethod
    def _text(cls, v: str | None) -> str | None:
        v = " ".join(v.split()) if v else None
        return v or None


class DirectorAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shots: list[DirectedShot] = Field(min_length=1)


def _one_of(value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"must be one of {', '.join(allowed)}")
    return value


def answer_schema() -> dict[str, Any]:
    """The JSON schema of the answer, for structured outputs (written out, and within what
    they accept: enums and required keys, no numeric or length limits; pydantic checks those)."""
    return {
        "type": "object",
        "properties": {
            "shots": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "properties": {
                        "sentences": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "minItems": 1,
                            "description": "Numbers of the consecutive sentences this shot says.",
                        },
                        "kind": {"type": "string", "enum": list(KINDS)},
                        "emotion": {"type": "string", "enum": list(EMOTIONS)},
                        "camera": {"type": "string", "enum": list(CAMERA_MOVES)},
                        "on_screen_text": {
                            "type": "string",
                            "description": f"A few words, at most {ON_SCREEN_MAX} characters.",
                        },
                    },
                    "required": ["sentences", "kind", "emotion", "camera"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["shots"],
        "additionalProperties": False,
    }


class AnswerError(ValueError):
    """The director's answer does not fit: the message is sent back to it, so it says what."""


def validate_answer(data: object, blocks: list[Block]) -> DirectorAnswer:
    """Parse and check an answer: valid fields, and every sentence exactly once, in order."""
    try:
        answer = DirectorAnswer.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()
        ]
        raise AnswerError("; ".join(problems[:8])) from None
    total = sum(1 for b in blocks if b.kind == "sentence")
    expected = 1
    for i, shot in enumerate(answer.shots, start=1):
        for n in shot.sentences:
            if n < expected:
                raise AnswerError(
                    f"shot {i}: sentence {n} is listed twice or out of order; "
                    "each sentence belongs to exactly one shot, in order"
                )
            if n > expected:
                missing = expected if expected <= total else n
                raise AnswerError(
                    f"shot {i}: sentence {missing} is missing before sentence {n}; "
                    "shots must cover every sentence in order"
                )
            expected += 1
    if expected - 1 > total:
        raise AnswerError(f"there are only {total} sentences, the answer lists {expected - 1}")
    if expected - 1 < total:
        raise AnswerError(
            f"sentences {expected} to {total} are in no shot; every sentence must be in one"
        )
    return answer


def build_shots(blocks: list[Block], answer: DirectorAnswer) -> list[PlannedShot]:
    """Planned shots in script order: headings as title cards, sentences grouped as directed.

    The text of each shot is the script's sentences joined, never the director's words. A
    shot that spans a heading is cut at it, and an over-long one at a clause end, keeping its
    annotations.
    """
    by_number = {b.number: b for b in blocks if b.kind == "sentence"}
    owner = {n: shot for shot in answer.shots for n in shot.sentences}
    shots: list[PlannedShot] = []
    group: list[Block] = []

    def flush() -> None:
        if not group:
            return
        directed = owner[group[0].number]
        text = " ".join(b.text for b in group)
        for piece in split_long(text):
            shots.append(
                PlannedShot(
                    id="",
                    kind=directed.kind,  # type: ignore[arg-type]  # checked against ShotKind
                    text=piece,
                    emotion=directed.emotion,
                    camera=directed.camera,
                    on_screen_text=directed.on_screen_text,
                )
            )
        group.clear()

    for block in blocks:
        if block.kind == "title":
            flush()
            shots += [
                PlannedShot(id="", kind="title", text=piece, camera="static")
                for piece in split_long(block.text)
            ]
            continue
        if group and (owner[block.number] is not owner[group[0].number]):
            flush()
        group.append(by_number[block.number])
    flush()
    for i, shot in enumerate(shots, start=1):
        shot.id = f"shot-{i:03d}"
    return shots
