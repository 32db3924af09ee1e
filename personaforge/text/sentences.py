"""Sentences of a text in its language: the one splitter the planner, captions and the
normaliser share (pysbd, rule-based, with abbreviation rules for 22 languages)."""

from __future__ import annotations

import re
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


def sentence_ends(words: list[str], language: str = languages.DEFAULT) -> list[bool]:
    """For each whitespace-separated word, whether a sentence ends with it (the captions'
    question), by the same splitter: the words' text split into sentences."""
    ends = [False] * len(words)
    if not words:
        return ends
    k = 0
    for sentence in split_sentences(" ".join(words), language):
        k += len(sentence.split())
        if 0 < k <= len(words):
            ends[k - 1] = True
    # Text in a language written without spaces may end a sentence inside a word; the last
    # word always closes the text.
    ends[-1] = ends[-1] or bool(re.search(r"[.!?…。！？]\W*$", words[-1]))
    return ends
