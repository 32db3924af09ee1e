"""The director's contract, without any SDK: the script's own sentences, numbered; the answer
a director gives (shots as groups of sentence numbers, annotated); its validation; and the
planned shots built from it, whose words are always the script's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from personaforge.backends.planner import offline
from personaforge.backends.planner.offline import split_long, split_sentences
from personaforge.core.manifests import PlannedShot, ShotKind
from personaforge.media.avatar import CAMERA_MOVES, EMOTIONS

# Kinds that need a file only the creator can name (script markup: ![broll](file)).
NEEDS_MEDIA = frozenset({"broll", "pip"})
# From the type, so kinds the render learns are offered at once.
KINDS: tuple[str, ...] = tuple(k for k in get_args(ShotKind) if k not in NEEDS_MEDIA)
# Blocks the creator made a card of (headings, quotes): shots as they are, not numbered.
FIXED = ("title", "quote")
ON_SCREEN_MAX = 80


@dataclass(frozen=True)
class Block:
    """A heading (a title card, not numbered) or a sentence numbered from 1."""

    kind: str  # "title" (a fixed card: heading or quote) or "sentence"
    text: str
    number: int = 0
    section: int = 0  # the script block it is in: sentences of two blocks never share a shot
    source: offline.Block | None = None  # that block, with the creator's shot markup


def numbered(script: str, language: str = "en") -> list[Block]:
    """The script as fixed cards and numbered sentences, split as the offline director does."""
    out: list[Block] = []
    number = 0
    for section, block in enumerate(offline.blocks(script), start=1):
        if block.kind in FIXED:
            out.append(Block("title", block.text, section=section, source=block))
            continue
        for sentence in split_sentences(block.text, language):
            number += 1
            out.append(Block("sentence", sentence, number, section, block))
    return out


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


def build_shots(
    blocks: list[Block], answer: DirectorAnswer, persona_name: str = "", role: str = ""
) -> list[PlannedShot]:
    """Planned shots in script order: cards as the creator wrote them, sentences grouped as
    directed.

    The text of each shot is the script's sentences joined, never the director's words. A
    shot that spans two script blocks is cut between them, an over-long one at a clause end,
    keeping its annotations; the creator's markup (b-roll, a lower third, transitions, caption
    styles) wins over the director's kind.
    """
    owner = {n: shot for shot in answer.shots for n in shot.sentences}
    shots: list[PlannedShot] = []
    group: list[Block] = []
    started: set[int] = set()  # blocks whose first shot is made

    def first_of(block: Block, made: list[PlannedShot]) -> None:
        src = block.source
        if src is None or not made:
            return
        if block.section not in started:
            started.add(block.section)
            if src.transition:
                made[0].transition = src.transition  # type: ignore[assignment]
            if src.kind == "lower_third":
                made[0].kind = "lower_third"
                made[0].name = src.name or persona_name or None
                made[0].role = src.role if src.name else (src.role or role or None)
        for shot in made:
            if src.captions:
                shot.captions = src.captions  # type: ignore[assignment]
            if src.kind in NEEDS_MEDIA:
                shot.kind, shot.broll = src.kind, src.media  # type: ignore[assignment]

    def flush() -> None:
        if not group:
            return
        directed = owner[group[0].number]
        text = " ".join(b.text for b in group)
        made = [
            PlannedShot(
                id="",
                kind=directed.kind,  # type: ignore[arg-type]  # checked against ShotKind
                text=piece,
                emotion=directed.emotion,
                camera=directed.camera,
                on_screen_text=directed.on_screen_text,
            )
            for piece in split_long(text)
        ]
        if directed.kind == "lower_third":
            for shot in made:
                shot.name, shot.role = persona_name or None, role or None
        first_of(group[0], made)
        shots.extend(made)
        group.clear()

    for block in blocks:
        if block.kind == "title":
            flush()
            src = block.source
            made = [
                PlannedShot(
                    id="", kind=src.kind if src else "title", text=piece, camera="static",
                    name=src.name if src else None,
                )
                for piece in split_long(block.text)
            ]  # fmt: skip
            first_of(block, made)
            shots += made
            continue
        if group and (
            owner[block.number] is not owner[group[0].number] or block.section != group[0].section
        ):
            flush()
        group.append(block)
    flush()
    for i, shot in enumerate(shots, start=1):
        shot.id = f"shot-{i:03d}"
    return shots
