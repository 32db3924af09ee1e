"""The published caption rules PersonaForge times and lays out captions by, in one place.

The cue builder (captions.py) applies them as it builds cues; ``check`` reads the same values
to verify a delivered video. Sources: the Netflix Timed Text Style Guide (minimum duration
5/6 s, two frames between cues, 42 characters a line, two lines, 17-20 characters a second
for adults; CJK 13-16 characters a line), the BBC subtitle guidelines, and the Shorts/Reels
layouts (the action buttons cover the right ~12% of a portrait frame, the title and channel
the bottom fifth).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from personaforge.text import languages

Shape = Literal["landscape", "square", "portrait"]

MIN_DURATION_S = 5 / 6
GAP_FRAMES = 2
MAX_DURATION_S = 7.0
MAX_LINES = 2
# A cue whose words are said faster than they can be read may come up this much before its
# first word, into the silence before it (a few frames early reads as in sync).
LEAD_IN_S = 0.25
# Characters a second, the ceiling for each frame shape (a phone in portrait is read at a
# glance, between swipes: the low end of the adult range); a language's own reading speed
# (languages.py: reading_cps) is lower for some scripts, and the lower one applies.
FORMAT_CPS: dict[Shape, float] = {"landscape": 20.0, "square": 20.0, "portrait": 17.0}
# Characters a line, by how the language breaks lines ("space": between words; "phrase":
# CJK, counted in characters, each of which is drawn twice as wide as a Latin letter).
LINE_CHARS: dict[tuple[str, Shape], int] = {
    ("space", "landscape"): 42,
    ("space", "square"): 32,
    ("space", "portrait"): 22,
    ("phrase", "landscape"): 16,
    ("phrase", "square"): 13,
    ("phrase", "portrait"): 11,
}
# Each side's margin, as a fraction of the width: the title-safe 5%, and in portrait 14%
# (the platform's buttons take the right 12%; both sides alike keep the text centred).
SIDE_MARGIN: dict[Shape, float] = {"landscape": 0.05, "square": 0.05, "portrait": 0.14}
# Where the platform's own controls sit in portrait: no caption box may reach into them.
PORTRAIT_BUTTONS_RIGHT = 0.12  # the right 12% of the width, above the bottom fifth
PORTRAIT_BOTTOM = 0.22  # captions sit above the title, channel name and progress bar
# The smallest a caption may be shrunk to fit, as a fraction of its format's size.
MIN_FONT_SCALE = 0.75
# Closing punctuation no line may start with (kinsoku), and opening that none may end with.
NO_LINE_START = frozenset(
    "、。，．・：；？！」』）］｝〉》】〕”’ー〜…‥"  # closing punctuation, prolonged sound
    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮ"  # small kana
    ",.!?;:)]}»"
)
NO_LINE_END = frozenset("「『（［｛〈《【〔“‘([{«")


def shape(width: int, height: int) -> Shape:
    if width >= height * 1.3:
        return "landscape"
    return "square" if width >= height else "portrait"


@dataclass(frozen=True)
class CaptionRules:
    """The rules for one video: its frame shape, language and frame rate."""

    shape: Shape
    language: str
    fps: int
    line_chars: int  # in characters (CJK: full-width characters)
    max_lines: int
    max_cps: float
    min_duration_s: float = MIN_DURATION_S
    max_duration_s: float = MAX_DURATION_S
    gap_frames: int = GAP_FRAMES
    lead_in_s: float = LEAD_IN_S

    @property
    def gap_s(self) -> float:
        return self.gap_frames / self.fps

    @property
    def phrase(self) -> bool:
        """Written without spaces between words: lines break between phrases (budoux)."""
        return languages.get(self.language).breaking == "phrase"

    @property
    def line_columns(self) -> int:
        """``line_chars`` in columns, a full-width character counting two."""
        return self.line_chars * 2 if self.phrase else self.line_chars

    @property
    def side_margin(self) -> float:
        return SIDE_MARGIN[self.shape]


def rules_for(width: int, height: int, language: str = "en", fps: int = 30) -> CaptionRules:
    """The caption rules for a ``width`` x ``height`` video in ``language``."""
    lang = languages.get(language)
    kind = shape(width, height)
    return CaptionRules(
        shape=kind,
        language=lang.code,
        fps=fps,
        line_chars=LINE_CHARS[(lang.breaking, kind)],
        max_lines=MAX_LINES,
        max_cps=min(FORMAT_CPS[kind], lang.reading_cps),
    )


def reading_chars(text: str) -> int:
    """Characters a reader reads in ``text``: every character but line breaks (Netflix
    counts spaces and punctuation)."""
    return sum(1 for ch in text if ch != "\n")


@dataclass(frozen=True)
class Finding:
    """One cue breaking one rule: which, where, what was measured and the limit."""

    rule: str  # "min_duration", "gap", "reading_speed", "line_length", "line_count"
    cue: int  # 0-based index in the file
    measured: float
    limit: float

    def __str__(self) -> str:
        return f"cue {self.cue + 1}: {self.rule} {self.measured:g} (limit {self.limit:g})"


# Times in caption files are whole milliseconds: a rule is met within one.
_MS = 0.0015


def check_cues(
    cues: Sequence[tuple[float, float, Sequence[str]]], rules: CaptionRules
) -> list[Finding]:
    """Every rule each cue (start s, end s, lines) breaks: what ``check`` reports for a
    caption file read back, and what the cue builder is tested against."""
    found: list[Finding] = []
    for k, (start, end, lines) in enumerate(cues):
        duration = end - start
        if duration < rules.min_duration_s - _MS:
            found.append(
                Finding("min_duration", k, round(duration, 3), round(rules.min_duration_s, 3))
            )
        if k + 1 < len(cues):
            gap = cues[k + 1][0] - end
            if gap < rules.gap_s - _MS:
                found.append(Finding("gap", k, round(gap, 3), round(rules.gap_s, 3)))
        if duration > 0:
            cps = reading_chars("\n".join(lines)) / duration
            if cps > rules.max_cps + 0.05:
                found.append(Finding("reading_speed", k, round(cps, 1), rules.max_cps))
        if len(lines) > rules.max_lines:
            found.append(Finding("line_count", k, len(lines), rules.max_lines))
        widest = max((columns(line) for line in lines), default=0)
        if widest > rules.line_columns:
            found.append(Finding("line_length", k, widest, rules.line_columns))
    return found


def columns(text: str) -> int:
    """Columns ``text`` takes: East Asian wide characters count two (as line_columns)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def safe_box(width: int, height: int) -> tuple[int, int, int]:
    """Where burned captions may reach: (left x, right x, bottom y) in pixels, from the
    side margins and, in portrait, the platform's bottom fifth."""
    side = math.ceil(width * SIDE_MARGIN[shape(width, height)])
    bottom = height - (int(height * PORTRAIT_BOTTOM) if height > width else round(height * 0.08))
    return side, width - side, bottom
