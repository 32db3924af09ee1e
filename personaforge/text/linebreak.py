"""Where a line of on-screen text may break, per script: Unicode line breaking (UAX #14, by
uniseg) everywhere, phrases for Japanese and Chinese (budoux), and no line starting with
closing punctuation or ending with opening punctuation (kinsoku)."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from personaforge.text.caption_rules import NO_LINE_END, NO_LINE_START, columns

# budoux's models, by language: those that write without spaces between words.
__all__ = ["boundaries", "can_break_before", "columns", "phrases", "split_long"]

_BUDOUX = {"ja": "load_default_japanese_parser", "zh": "load_default_simplified_chinese_parser"}


@functools.lru_cache(maxsize=4)
def _parser(language: str) -> Any:
    import budoux

    return getattr(budoux, _BUDOUX[language])()


def phrases(text: str, language: str) -> list[str]:
    """``text`` cut into the phrases a line may break between: budoux's for Japanese and
    Chinese, else UAX #14's break units (a word with its trailing space and punctuation)."""
    if not text:
        return []
    if language in _BUDOUX:
        found: list[str] = _parser(language).parse(text)
        return _kinsoku(found)
    from uniseg.linebreak import line_break_units

    return _kinsoku(list(line_break_units(text)))


def _kinsoku(parts: Sequence[str]) -> list[str]:
    """Parts merged so none starts with closing punctuation or ends with opening."""
    out: list[str] = []
    for part in parts:
        if out and (part[0] in NO_LINE_START or out[-1][-1] in NO_LINE_END):
            out[-1] += part
        else:
            out.append(part)
    return out


def can_break_before(text: str) -> bool:
    """Whether a line may start with ``text`` (not with closing punctuation)."""
    return bool(text) and text[0] not in NO_LINE_START


def boundaries(texts: Sequence[str], language: str) -> list[bool]:
    """For each gap between ``texts[k]`` and ``texts[k + 1]`` (joined without spaces, as CJK
    is written): whether a phrase boundary falls there."""
    joined = "".join(texts)
    at: set[int] = set()
    offset = 0
    for part in phrases(joined, language):
        offset += len(part)
        at.add(offset)
    out: list[bool] = []
    offset = 0
    for t in texts[:-1]:
        offset += len(t)
        out.append(offset in at)
    return out


def split_long(text: str, max_columns: int, language: str) -> list[str]:
    """``text`` (one word) in pieces of at most ``max_columns``: at UAX #14 / phrase breaks
    (a URL after its slashes and dots), and where a piece has none, cut with a hyphen (or,
    in CJK, between characters). Joined, the pieces are ``text`` again, hyphens aside."""
    if columns(text) <= max_columns or max_columns < 2:
        return [text]
    parts = phrases(text, language)
    # URLs and paths: UAX #14 keeps "example.com/" whole; break after its dots too.
    fine: list[str] = []
    for part in parts:
        if columns(part) > max_columns and ("/" in part or "." in part):
            fine += _after(part, "./")
        else:
            fine.append(part)
    out: list[str] = []
    for part in fine:
        if out and columns(out[-1] + part) <= max_columns:
            out[-1] += part
        elif columns(part) <= max_columns:
            out.append(part)
        else:
            out += _hard_cut(part, max_columns, hyphen=language not in _BUDOUX)
    return out


def _after(text: str, marks: str) -> list[str]:
    out, cur = [], ""
    for ch in text:
        cur += ch
        if ch in marks:
            out.append(cur)
            cur = ""
    return [*out, cur] if cur else out


def _hard_cut(text: str, max_columns: int, *, hyphen: bool) -> list[str]:
    out, cur = [], ""
    room = max_columns - 1 if hyphen else max_columns
    for ch in text:
        if cur and columns(cur + ch) > room and ch not in NO_LINE_START:
            out.append(cur + ("-" if hyphen and cur[-1].isalnum() and ch.isalnum() else ""))
            cur = ""
        cur += ch
    return [*out, cur] if cur else out
