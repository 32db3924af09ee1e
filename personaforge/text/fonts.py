"""The bundled fonts each language's on-screen text is drawn in, and what each font can draw."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from personaforge.assets import fonts_dir
from personaforge.text import languages


@dataclass(frozen=True)
class Font:
    file: Path
    family: str  # the family name libass finds the file by, in ``fonts_dir``
    scale: float  # set this much larger than the Latin captions, to read at the same size


def for_language(code: str) -> Font:
    """The bundled bold font that draws ``code``'s script ('pt-BR' finds Portuguese's)."""
    lang = languages.get(code)
    return Font(fonts_dir() / lang.font_file, lang.font_family, lang.font_scale)


@functools.lru_cache(maxsize=16)
def cmap(file: Path) -> frozenset[int]:
    """The code points ``file`` has a glyph for (its character map)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(file), lazy=True) as font:
        return frozenset(font.getBestCmap())


# What no caption font is expected to draw: emoji and other pictographs, joiners and
# variation selectors (they only style the emoji beside them).
_DECORATION = frozenset({"So", "Sk", "Cf", "Mn", "Co", "Cn"})


def missing(text: str, file: Path) -> list[str]:
    """The letters, digits and punctuation of ``text`` that ``file`` has no glyph for, each
    once, in order (pictographs and whitespace are not asked for)."""
    have = cmap(file)
    out: list[str] = []
    for ch in text:
        if ch.isspace() or ord(ch) in have or ch in out:
            continue
        # A combining mark is shaped onto its base letter, which is checked itself.
        if unicodedata.category(ch) not in _DECORATION:
            out.append(ch)
    return out
