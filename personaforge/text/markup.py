"""Script markup both voices honour: ``[pause 0.5s]`` and ``*emphasis*``, and pronunciations."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from personaforge.text.normalize import Token, tokenize

__all__ = ["Piece", "clean", "pieces", "pronounce"]

DEFAULT_PAUSE_S = 0.5
MAX_PAUSE_S = 5.0
_RE_PAUSE = re.compile(r"\[\s*pause(?:\s+(\d+(?:\.\d+)?|\.\d+)\s*(ms|s)?)?\s*\]", re.IGNORECASE)
_PUNCT = "\"'“”‘’([{<>)]}.,;:!?…—–-"


@dataclass(frozen=True)
class Piece:
    """A stretch of a shot's text between pauses, ready for a voice."""

    text: str  # as written, markup removed: what captions show
    tokens: tuple[Token, ...]  # as spoken: pronunciations applied
    emphasis: frozenset[int]  # indices into tokens said with stress
    pause_after_s: float  # silence after this piece ([pause] markup)


def _seconds(number: str | None, unit: str | None) -> float:
    if number is None:
        return DEFAULT_PAUSE_S
    value = float(number) / (1000.0 if (unit or "s").lower() == "ms" else 1.0)
    return min(MAX_PAUSE_S, max(0.0, value))


def _strip_stars(text: str) -> tuple[str, frozenset[int]]:
    """The text without emphasis asterisks, and which of its words were emphasised."""
    words: list[str] = []
    emphasis: set[int] = set()
    inside = False
    for raw in text.split():
        core = raw.strip(_PUNCT)
        opens = core.startswith("*")
        closes = core.endswith("*") and (len(core) > 1 or not opens)
        word = raw.replace("*", "")
        if not word.strip(_PUNCT):
            # A lone "*" (3 * 4) or "**" is a symbol, not emphasis: kept as written.
            words.append(raw)
            continue
        if opens or inside:
            emphasis.add(len(words))
        if opens and not closes:
            inside = True
        elif closes:
            inside = False
        words.append(word)
    return " ".join(words), frozenset(emphasis)


def clean(text: str) -> str:
    """The text as captions show it and neighbours hear it: no pause marks, no asterisks."""
    return " ".join(_strip_stars(p)[0] for p in _RE_PAUSE.split(text)[::3] if p.strip())


def pronounce(
    tokens: list[Token], pronunciations: Mapping[str, str], language: str = "en"
) -> list[Token]:
    """Tokens with each word from ``pronunciations`` said as given; captions keep the word."""
    if not pronunciations:
        return tokens
    folded = {k.casefold(): v for k, v in pronunciations.items()}
    out: list[Token] = []
    for tok in tokens:
        core = tok.display.strip(_PUNCT)
        say = pronunciations.get(core)
        if say is None:
            say = folded.get(core.casefold())
        if say is None and core.endswith(("'s", "’s")):
            # The possessive of a word said differently: "SQL's" -> "sequel's".
            base = pronunciations.get(core[:-2]) or folded.get(core[:-2].casefold())
            say = f"{base}'s" if base else None
        if say is None:
            out.append(tok)
            continue
        spoken = tuple(w for t in tokenize(say, language) for w in t.spoken)
        out.append(Token(tok.display, spoken, tok.pause))
    return out


def pieces(
    text: str, pronunciations: Mapping[str, str] | None = None, language: str = "en"
) -> list[Piece]:
    """Split a shot's text at ``[pause]`` marks; strip emphasis; apply pronunciations."""
    parts = _RE_PAUSE.split(text)  # text, number, unit, text, number, unit, ...
    out: list[Piece] = []
    for i in range(0, len(parts), 3):
        chunk = parts[i]
        pause = _seconds(parts[i + 1], parts[i + 2]) if i + 1 < len(parts) else 0.0
        written, emphasis = _strip_stars(chunk)
        if not written.strip():
            if out:  # consecutive pauses add up
                last = out[-1]
                out[-1] = Piece(last.text, last.tokens, last.emphasis, last.pause_after_s + pause)
            elif pause:
                out.append(Piece("", (), frozenset(), pause))
            continue
        tokens = pronounce(tokenize(written, language), pronunciations or {}, language)
        out.append(Piece(written, tuple(tokens), emphasis, pause))
    if not out:
        out.append(Piece("", (), frozenset(), 0.0))
    return out
