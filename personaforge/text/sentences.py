"""Sentences of a text in its language: the one splitter the planner, captions and the
normaliser share (pysbd, rule-based, with abbreviation rules for 22 languages)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from personaforge.text import languages

__all__ = ["split_sentences"]

# pysbd treats a newline as a sentence end; a paragraph's lines are one flow of text here.
_SPACE = re.compile(r"\s+")
_ELLIPSIS_END = re.compile(r"(?<=…)\s+(?=[A-ZÀ-ÖØ-Þ¿¡])")


@lru_cache(maxsize=16)
def _segmenter(code: str) -> Any:
    import pysbd

    return pysbd.Segmenter(language=code, clean=False, char_span=False)


def split_sentences(text: str, language: str = languages.DEFAULT) -> list[str]:
    """``text``'s sentences in order, each stripped; joined with spaces they give back the
    text's words, each word whole (a sentence never ends inside a whitespace-separated run,
    unless the language writes no spaces between sentences)."""
    flat = _SPACE.sub(" ", text).strip()
    if not flat:
        return []
    lang = languages.get(language)
    code = lang.pysbd or "en"
    pieces = [p.strip() for p in _segmenter(code).segment(flat)]
    pieces = [p for p in pieces if p]
    if lang.breaking == "space":
        pieces = _whole_words(flat, pieces)
    if lang.titles:
        pieces = _after_titles(pieces, lang.titles)
    # pysbd reads "…" as a pause inside a sentence; before a capital it ends one.
    return [part for piece in pieces for part in _ELLIPSIS_END.split(piece) if part]


def _after_titles(pieces: list[str], titles: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for piece in pieces:
        if out and out[-1].rsplit(" ", 1)[-1] in titles:
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _whole_words(text: str, pieces: list[str]) -> list[str]:
    """Merge pieces so that no sentence boundary falls inside a word ("3.5", "e.g." split
    by a rule that misfired): the planner keeps words whole for the captions' sake."""
    out: list[str] = []
    pos = 0
    for piece in pieces:
        at = text.find(piece, pos)
        if at < 0:  # pysbd changed the text (it should not with clean=False): keep it whole
            return [text]
        glued = bool(out) and at > 0 and not text[at - 1].isspace()
        if glued:
            out[-1] = out[-1] + text[pos:at] + piece
        else:
            out.append(piece)
        pos = at + len(piece)
    return out


def sentence_ends(
    words: Sequence[str], language: str = languages.DEFAULT, glue: Sequence[bool] | None = None
) -> list[bool]:
    """For each caption word, whether a sentence ends with it (the captions' question), by
    the same splitter: the words joined as written (``glue[k]``: word k follows the one
    before it with no space, as pieces of Japanese do) and split into sentences."""
    n = len(words)
    ends = [False] * n
    if not n:
        return ends
    spans: list[tuple[int, int]] = []
    parts: list[str] = []
    pos = 0
    for k, word in enumerate(words):
        if k and not (glue is not None and glue[k]):
            parts.append(" ")
            pos += 1
        spans.append((pos, pos + len(word)))
        parts.append(word)
        pos += len(word)
    text = "".join(parts)
    at = 0
    k = 0
    for sentence in split_sentences(text, language):
        found = text.find(sentence, at)
        if found < 0:
            continue
        end = found + len(sentence)
        at = end
        while k < n and spans[k][1] < end:
            k += 1
        if k < n:
            ends[k] = True
    return ends
