"""Group timed words into caption cues; write them as WebVTT, SRT and ASS for libass."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from PIL import ImageFont

from personaforge.assets import FONT_NAME, font_path
from personaforge.core.colour import rgb_channels
from personaforge.text.escape import ass_text, srt_text, vtt_text

# karaoke: the spoken word is swept white; clean: no highlight; bold-pop: one to three big
# words at a time in the centre (the Shorts look); boxed: lines on a dark background box.
CaptionStyle = Literal["karaoke", "clean", "bold-pop", "boxed"]
CAPTION_STYLES: tuple[str, ...] = get_args(CaptionStyle)


@dataclass(frozen=True)
class CaptionWord:
    """One spoken word, timed in seconds of the final video; ``start == end`` is allowed."""

    text: str
    start: float
    end: float


@dataclass(frozen=True)
class Cue:
    """One caption on screen: its lines (plain text, unescaped) and the words it shows."""

    start: float
    end: float
    lines: tuple[str, ...]
    words: tuple[CaptionWord, ...]


# A sentence ends at . ! ? … possibly followed by closing quotes or brackets.
_SENTENCE_END = re.compile(r"[.!?…‽。！？]+[\"'”’»)\]]*$")
_CLAUSE_END = re.compile(r"[,;:—–]+[\"'”’»)\]]*$")
# Titles and Latin abbreviations end in "." but almost never end a sentence.
_ABBREVIATIONS = frozenset({"mr.", "mrs.", "ms.", "dr.", "prof.", "st.", "vs.", "e.g.", "i.e."})
# Ending a cue or line on one of these leaves the reader hanging mid-phrase.
_WEAK_WORDS = frozenset(
    {"a", "an", "the", "of", "to", "in", "on", "at", "for", "from", "by", "with"}
    | {"and", "or", "but", "nor", "as", "if", "so", "my", "your", "our", "their", "its"}
)

# Cue-building costs. Breaks dominate so the fewest cues win; squared slack then balances them.
_COST_MID_BREAK = 0.6
_COST_CLAUSE_BREAK = 0.15
_COST_WEAK_END = 0.3
_COST_SENTENCE_INSIDE = 20.0
# A cue whose successor starts at the same instant could only be shown for a flash.
_COST_NO_ROOM = 100.0
_COST_PAUSE_INSIDE = 1.0
_PAUSE = 1.2  # seconds of silence that read as a natural break
# Shortest cue written out: at least one 25 fps frame, and longer than ms/cs rounding.
_MIN_CUE_MS = 40


def _width(text: str) -> int:
    """Columns ``text`` takes: East Asian wide characters count twice, never less than len."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_sentence_end(text: str) -> bool:
    return bool(_SENTENCE_END.search(text)) and text.lower() not in _ABBREVIATIONS


def _is_clause_end(text: str) -> bool:
    return bool(_CLAUSE_END.search(text))


def _is_weak(text: str) -> bool:
    return text.lower() in _WEAK_WORDS


def _sanitise(words: Sequence[CaptionWord]) -> list[CaptionWord]:
    """Clamp times to >= 0, make ``end >= start`` and starts non-decreasing."""
    out: list[CaptionWord] = []
    prev_start = 0.0
    for i, w in enumerate(words):
        if not (math.isfinite(w.start) and math.isfinite(w.end)):
            raise ValueError(f"word {i} ({w.text!r}) has a non-finite time")
        if not w.text or any(ch.isspace() for ch in w.text):
            raise ValueError(f"word {i} ({w.text!r}) is empty or contains whitespace")
        start = max(w.start, 0.0, prev_start)
        end = max(w.end, start)
        prev_start = start
        out.append(w if (start, end) == (w.start, w.end) else CaptionWord(w.text, start, end))
    return out


def _greedy_line_count(widths: Sequence[int], max_chars: int) -> int:
    """Fewest lines that hold these words; a word wider than a line gets one alone."""
    lines, cur = 0, -1
    for w in widths:
        if cur >= 0 and cur + 1 + w <= max_chars:
            cur += 1 + w
        else:
            lines, cur = lines + 1, w
    return lines


def _segment(
    words: Sequence[CaptionWord], max_chars: int, max_lines: int, max_dur: float
) -> list[int]:
    """Return the cue end indices (exclusive) minimising the total cue cost by DP."""
    n = len(words)
    widths = [_width(w.text) for w in words]
    sentence = [_is_sentence_end(w.text) for w in words]
    clause = [_is_clause_end(w.text) for w in words]
    weak = [_is_weak(w.text) for w in words]
    # pause[k]: a long silence follows word k.
    pause = [words[k + 1].start - words[k].end >= _PAUSE for k in range(n - 1)] + [True]
    capacity = max_chars * max_lines
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        width = -1
        lines, cur = 0, -1
        inner = 0.0  # penalties for what lies inside words[i:j]
        for j in range(i + 1, n + 1):
            w = widths[j - 1]
            width += 1 + w
            if cur >= 0 and cur + 1 + w <= max_chars:
                cur += 1 + w
            else:
                lines, cur = lines + 1, w
            if j > i + 1:
                # Lines, and (starts being sorted) nearly always the span, only grow with j.
                if lines > max_lines or words[j - 1].end - words[i].start > max_dur:
                    break
                inner += (_COST_SENTENCE_INSIDE if sentence[j - 2] else 0.0) + (
                    _COST_PAUSE_INSIDE if pause[j - 2] else 0.0
                )
            slack = max(0.0, 1.0 - width / capacity)
            cost = slack * slack + inner
            if j < n:
                k = j - 1
                if not (sentence[k] or pause[k]):
                    cost += _COST_CLAUSE_BREAK if clause[k] else _COST_MID_BREAK
                    cost += _COST_WEAK_END if weak[k] and not clause[k] else 0.0
                if (words[j].start - words[i].start) * 1000 < _MIN_CUE_MS:
                    cost += _COST_NO_ROOM
            if best[i] + cost < best[j]:
                best[j] = best[i] + cost
                back[j] = i
    ends: list[int] = []
    j = n
    while j > 0:
        ends.append(j)
        j = back[j]
    return ends[::-1]


def _layout(texts: Sequence[str], max_chars: int) -> tuple[str, ...]:
    """Break one cue's words into the fewest lines, as even as possible, without orphans."""
    widths = [_width(t) for t in texts]
    m = len(texts)
    k = _greedy_line_count(widths, max_chars)
    if k <= 1:
        return (" ".join(texts),)
    target = (sum(widths) + m - k) / k

    def line_cost(a: int, b: int) -> float:
        width = sum(widths[a:b]) + (b - a - 1)
        if width > max_chars and b - a > 1:
            return math.inf
        cost = ((width - target) / max_chars) ** 2
        if b - a == 1 and m > k and widths[a] * 2 < max_chars:
            cost += 0.5  # a lone short word on a line looks like a mistake
        if b < m:
            last = texts[b - 1]
            if _is_clause_end(last) or _is_sentence_end(last):
                cost -= 0.05
            elif _is_weak(last):
                cost += 0.2
        return cost

    # best[l][p]: cheapest way to put the first p words on l lines.
    best = [[math.inf] * (m + 1) for _ in range(k + 1)]
    back = [[0] * (m + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for line in range(1, k + 1):
        for p in range(line, m + 1):
            for a in range(line - 1, p):
                c = best[line - 1][a] + line_cost(a, p)
                if c < best[line][p]:
                    best[line][p] = c
                    back[line][p] = a
    out: list[str] = []
    p = m
    for line in range(k, 0, -1):
        a = back[line][p]
        out.append(" ".join(texts[a:p]))
        p = a
    return tuple(out[::-1])


def build_cues(
    words: Sequence[CaptionWord],
    *,
    max_chars_per_line: int = 42,
    max_lines: int = 2,
    max_duration: float = 6.0,
    min_duration: float = 0.7,
) -> list[Cue]:
    """Group ``words`` into sorted, non-overlapping cues; every word lands in exactly one.

    Cues break at sentence ends and long pauses, and preferably after , ; : when full; each
    has at most ``max_lines`` lines of at most ``max_chars_per_line`` columns (a longer word
    sits alone on its line, never split) and lasts at most ``max_duration`` unless it is a
    single word. A cue runs from its first word's start to its last word's end, stretched
    towards ``min_duration`` as far as the next cue allows. Times are clamped to >= 0, word
    starts made non-decreasing (the cue's ``words`` carry the clamped times) and cue times
    rounded to milliseconds; in degenerate input where words pile up on one instant a cue
    is still given 40 ms, nudging the next one later.
    """
    if max_chars_per_line < 1 or max_lines < 1:
        raise ValueError("max_chars_per_line and max_lines must be at least 1")
    if not (max_duration > 0 and min_duration >= 0):
        raise ValueError("max_duration must be > 0 and min_duration >= 0")
    clean = _sanitise(words)
    if not clean:
        return []
    ends = _segment(clean, max_chars_per_line, max_lines, max_duration)
    starts = [0, *ends[:-1]]
    first_ms = [round(clean[a].start * 1000) for a in starts]
    cues: list[Cue] = []
    prev_end = 0
    for k, (a, b) in enumerate(zip(starts, ends, strict=True)):
        group = clean[a:b]
        start = max(first_ms[k], prev_end)
        end = max(round(group[-1].end * 1000), start + round(min_duration * 1000))
        if k + 1 < len(starts):
            end = min(end, first_ms[k + 1])
        end = max(end, start + _MIN_CUE_MS)
        lines = _layout([w.text for w in group], max_chars_per_line)
        cues.append(Cue(start / 1000, end / 1000, lines, tuple(group)))
        prev_end = end
    return cues


POP_MAX_WORDS = 3
POP_MAX_CHARS = 18


def pop_cues(words: Sequence[CaptionWord], *, min_duration: float = 0.3) -> list[Cue]:
    """One to three words per cue, one line, breaking after a sentence or clause end: the
    rapid, punchy captions of short-form video. Each cue lasts until the next one starts."""
    clean = _sanitise(words)
    groups: list[list[CaptionWord]] = []
    for w in clean:
        group = groups[-1] if groups else None
        if (
            group is None
            or len(group) >= POP_MAX_WORDS
            or _is_sentence_end(group[-1].text)
            or _is_clause_end(group[-1].text)
            or _width(" ".join(x.text for x in [*group, w])) > POP_MAX_CHARS
        ):
            groups.append([w])
        else:
            group.append(w)
    cues: list[Cue] = []
    prev_end = 0
    firsts = [round(g[0].start * 1000) for g in groups]
    for k, group in enumerate(groups):
        start = max(firsts[k], prev_end)
        # Held a little past the last word (bridging short gaps), never over the next cue.
        end = max(round(group[-1].end * 1000) + 400, start + round(min_duration * 1000))
        if k + 1 < len(groups):
            end = min(end, firsts[k + 1])
        end = max(end, start + _MIN_CUE_MS)
        text = " ".join(w.text for w in group)
        cues.append(Cue(start / 1000, end / 1000, (text,), tuple(group)))
        prev_end = end
    return cues


def shot_cues(
    words: Sequence[CaptionWord],
    shot_end: float,
    *,
    style: str = "karaoke",
    max_chars_per_line: int = 42,
    max_lines: int = 2,
) -> list[Cue]:
    """One shot's cues, timed from the shot's first frame and ending by ``shot_end``: the
    same list is burned into the shot's segment and, shifted, written to the .vtt/.srt."""
    if not words:
        return []
    if style == "bold-pop":
        built = pop_cues(words)
    else:
        built = build_cues(words, max_chars_per_line=max_chars_per_line, max_lines=max_lines)
    out: list[Cue] = []
    for cue in built:
        if cue.start >= shot_end:
            break  # a word spoken after the shot's last frame (never, with padded audio)
        out.append(replace(cue, end=min(cue.end, shot_end)))
    return out


def shift(cues: Sequence[Cue], offset: float) -> list[Cue]:
    """``cues`` moved ``offset`` seconds later (a shot's cues placed in the whole video)."""
    return [
        Cue(
            c.start + offset,
            c.end + offset,
            c.lines,
            tuple(CaptionWord(w.text, w.start + offset, w.end + offset) for w in c.words),
        )
        for c in cues
    ]


def _check(cues: Sequence[Cue]) -> None:
    prev_end = 0.0
    for i, cue in enumerate(cues):
        if not (0 <= cue.start < cue.end and cue.start >= prev_end - 1e-9):
            raise ValueError(f"cue {i} ({cue.start}..{cue.end}) is empty, negative or overlaps")
        prev_end = cue.end


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _cs(seconds: float) -> int:
    """Centiseconds, via whole milliseconds so ASS and VTT/SRT round the same way."""
    return (round(seconds * 1000) + 5) // 10


def _ass_clock(cs: int) -> str:
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"


def to_vtt(cues: Sequence[Cue]) -> str:
    """A WebVTT file: numbered cues, ``HH:MM:SS.mmm`` timestamps, escaped payloads."""
    _check(cues)
    parts = ["WEBVTT\n"]
    for i, cue in enumerate(cues, 1):
        payload = "\n".join(filter(None, (vtt_text(line) for line in cue.lines))) or "\u00a0"
        parts.append(f"{i}\n{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{payload}\n")
    return "\n".join(parts)


def to_srt(cues: Sequence[Cue]) -> str:
    """A SubRip file: numbered cues, ``HH:MM:SS,mmm`` timestamps, tag-proof text."""
    _check(cues)
    parts = []
    for i, cue in enumerate(cues, 1):
        payload = "\n".join(filter(None, (srt_text(line) for line in cue.lines))) or "\u00a0"
        parts.append(f"{i}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{payload}\n")
    return "\n".join(parts)


def _ass_color(rgb: int, alpha: int = 0) -> str:
    r, g, b = rgb_channels(rgb)
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


# Without the font's metrics, assume a bold sans averages 0.62 px per unit of ASS size
# per character; DejaVu Sans Bold measures about 0.52 on English text.
_FALLBACK_UNITS_PER_CHAR = 0.62
# Size the font as if a line were at least this wide, so a video of short lines does not
# get huge letters (it only matters for portrait frames: landscape is capped by height/18).
_MIN_DESIGN_UNITS = 24 * 0.52


@functools.lru_cache(maxsize=1)
def _bundled_font() -> tuple[ImageFont.FreeTypeFont, int]:
    font = ImageFont.truetype(str(font_path()), 1000)
    ascent, descent = font.getmetrics()
    return font, ascent + descent


@functools.lru_cache(maxsize=1)
def _bundled_cmap() -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(str(font_path()), lazy=True) as font:
        return frozenset(font.getBestCmap())


def drawable(text: str, font_name: str = FONT_NAME) -> str:
    """``text`` without the characters the bundled font has no glyph for (emoji, most CJK).

    libass would draw those as empty boxes; burned captions leave them out, while the
    .vtt/.srt sidecars keep every character for players with fuller fonts.
    """
    if font_name != FONT_NAME:
        return text
    cmap = _bundled_cmap()
    kept = "".join(ch for ch in text if ch.isspace() or ord(ch) in cmap)
    return re.sub(" {2,}", " ", kept).strip(" ") if kept != text else text


def _line_units(line: str, font_name: str) -> float:
    """Width of ``line`` in pixels per unit of ASS font size.

    libass scales a font so that ascent + descent equals the ASS size, so the bundled
    font's advance widths divided by that height give the rendered width exactly.
    """
    if font_name == FONT_NAME:
        font, size_units = _bundled_font()
        return font.getlength(drawable(line)) / size_units
    return _width(line) * _FALLBACK_UNITS_PER_CHAR


def _karaoke(cue: Cue, start_cs: int, end_cs: int) -> tuple[list[str], str]:
    r"""Per-word ``{\kN\kfM}`` tags, and a tail tag, adding up to exactly the cue length.

    ``\k`` covers the silence before a word and ``\kf`` sweeps the highlight across the word
    while it is spoken. Boundaries are rounded once and clamped into the cue, so the sum
    telescopes to ``end_cs - start_cs`` and libass stays in step with the voice.
    """
    tags: list[str] = []
    at = start_cs
    for w in cue.words:
        s = min(max(_cs(w.start), at), end_cs)
        e = min(max(_cs(w.end), s), end_cs)
        gap = f"\\k{s - at}" if s > at else ""
        tags.append(f"{{{gap}\\kf{e - s}}}")
        at = e
    # The trailing silence (and any min_duration stretch) is an empty syllable.
    tail = f"{{\\k{end_cs - at}}}" if at < end_cs else ""
    return tags, tail


def _ass_dialogue_text(
    cue: Cue, start_cs: int, end_cs: int, highlight: bool, font_name: str
) -> str:
    words_per_line = [line.split(" ") for line in cue.lines]
    if not highlight or [t for ws in words_per_line for t in ws] != [w.text for w in cue.words]:
        # Lines that do not spell out the cue's words (hand-made cues) get no per-word timing.
        return "\\N".join(ass_text(drawable(line, font_name)) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    out: list[str] = []
    i = 0
    for ws in words_per_line:
        line = ""
        for k, t in enumerate(ws):
            shown = ass_text(drawable(t, font_name))
            # A word with nothing drawable keeps its timing tag but adds no space.
            line += tags[i + k] + shown if not shown or not line else " " + tags[i + k] + shown
        out.append(line)
        i += len(ws)
    return "\\N".join(out) + tail


def caption_font_size(width: int, height: int, chars_per_line: int, style: str) -> int:
    """The font size for a video's captions, from its frame and line length alone (never from
    its words), so every shot's segment draws captions alike and editing one sentence changes
    no other segment. A line that would not fit at this size is shrunk on its own cue."""
    margin_lr = math.ceil(width * 0.05)
    if style == "bold-pop":
        fit = (width - 2 * margin_lr) / (POP_MAX_CHARS * _FALLBACK_UNITS_PER_CHAR + _edge(style))
        return max(1, math.floor(min(height / 9, fit)))
    fit = (width - 2 * margin_lr) / (chars_per_line * _TYPICAL_UNITS_PER_CHAR + _edge(style))
    return max(1, math.floor(min(height / 18, fit)))


def _edge(style: str) -> float:
    """What a line's outline (size/16 each side) or box padding (size/5 each side) adds to
    its width, per unit of font size: it must stay inside the safe area too."""
    return 0.4 if style == "boxed" else 1 / 8


# DejaVu Sans Bold averages about 0.52 px per unit of size on English text; a little more
# leaves room for wide words before a line needs shrinking.
_TYPICAL_UNITS_PER_CHAR = 0.55


def _style_line(
    *,
    font_name: str,
    font_size: int,
    primary: str,
    secondary: str,
    outline_colour: str,
    back: str,
    border_style: int,
    outline: float,
    shadow: float,
    alignment: int,
    margin_lr: int,
    margin_v: int,
) -> str:
    return ",".join(
        [
            "Default",
            font_name.replace(",", " "),
            str(font_size),
            primary,  # PrimaryColour: spoken / all text
            secondary,  # SecondaryColour: not yet spoken (karaoke)
            outline_colour,  # OutlineColour (the box, with BorderStyle 3)
            back,  # BackColour: the shadow
            "-1",  # Bold
            "0",
            "0",
            "0",
            "100",
            "100",
            "0",
            "0",
            str(border_style),  # 1: outline + drop shadow; 3: opaque box
            f"{outline:g}",
            f"{shadow:g}",
            str(alignment),  # 2: bottom centre; 5: middle centre
            str(margin_lr),
            str(margin_lr),
            str(margin_v),
            "1",
        ]
    )


def to_ass(
    cues: Sequence[Cue],
    *,
    width: int,
    height: int,
    font_name: str = "DejaVu Sans",
    font_size: int | None = None,
    margin_v: int | None = None,
    highlight: bool = True,
    style: str = "karaoke",
    text_colour: int = 0xFFFFFF,
    accent_colour: int = 0xFFD400,
    box_colour: int = 0x000000,
) -> str:
    r"""A complete ASS script for libass: bold captions inside the title-safe area.

    Side margins are 5% of the width and ``margin_v`` defaults to 8% of the height. The
    default font size is height/18, shrunk so the widest line, outline included, fits in the
    90% safe width (measured with the bundled font's metrics when ``font_name`` is that
    font); with an explicit ``font_size`` a cue whose widest line would not fit is shrunk on
    its own. ``WrapStyle: 2`` stops libass re-wrapping our lines.

    Styles: ``karaoke`` (with ``highlight``) sweeps each word from grey (SecondaryColour) to
    ``text_colour`` while it is spoken, by ``\k``/``\kf`` karaoke tags whose centiseconds add
    up to the cue length; ``clean`` is the same without highlight; ``boxed`` sets the lines
    on a translucent ``box_colour`` box; ``bold-pop`` shows big centred words that pop in
    and turn ``accent_colour`` as they are said.
    """
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    if style not in CAPTION_STYLES:
        raise ValueError(f"unknown caption style {style!r}")
    _check(cues)
    margin_lr = math.ceil(width * 0.05)
    if margin_v is None:
        margin_v = round(height * 0.08)
    if font_size is None:
        widest = max(
            (_line_units(line, font_name) for cue in cues for line in cue.lines), default=0.0
        )
        cap = height / 9 if style == "bold-pop" else height / 18
        # The outline (size/16 each side) counts too: it must stay inside the safe area.
        fit = (width - 2 * margin_lr) / (max(widest, _MIN_DESIGN_UNITS) + _edge(style))
        font_size = max(1, math.floor(min(cap, fit)))
    outline = max(1.0, round(font_size / 16, 1))  # keep in step with the fit above
    shadow = max(0.5, round(font_size / 30, 1))
    primary, secondary = _ass_color(text_colour), _ass_color(0xA8A8A8)
    outline_colour, back = _ass_color(0x101010), _ass_color(0x000000, 0x60)
    border_style, alignment = 1, 2
    karaoke = highlight and style == "karaoke"
    if style == "boxed":
        # libass draws BorderStyle 3's box in OutlineColour, ``outline`` pixels of padding.
        border_style, outline, shadow = 3, max(1.0, round(font_size / 5, 1)), 0.0
        outline_colour = _ass_color(box_colour, 0x40)
    elif style == "bold-pop":
        # \k (not \kf) flips each word to the accent the moment it is said.
        primary, secondary = _ass_color(accent_colour), _ass_color(text_colour)
        outline = max(1.0, round(font_size / 12, 1))
        outline_colour, alignment = _ass_color(0x000000), 5
    style_line = _style_line(
        font_name=font_name, font_size=font_size, primary=primary, secondary=secondary,
        outline_colour=outline_colour, back=back, border_style=border_style, outline=outline,
        shadow=shadow, alignment=alignment, margin_lr=margin_lr, margin_v=margin_v,
    )  # fmt: skip
    head = (
        "[Script Info]\n"
        "; Written by PersonaForge\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {width}\n"
        f"PlayResY: {height}\n"
        "WrapStyle: 2\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: None\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: {style_line}\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    room = width - 2 * margin_lr
    events = []
    for cue in cues:
        s, e = _cs(cue.start), _cs(cue.end)
        if style == "bold-pop":
            text = _pop_text(cue, s, e, font_name)
        else:
            text = _ass_dialogue_text(cue, s, e, karaoke, font_name)
        widest = max((_line_units(line, font_name) for line in cue.lines), default=0.0)
        if (widest + _edge(style)) * font_size > room:
            text = f"{{\\fs{max(1, math.floor(room / (widest + _edge(style))))}}}" + text
        events.append(f"Dialogue: 0,{_ass_clock(s)},{_ass_clock(e)},Default,,0,0,0,,{text}\n")
    return head + "".join(events)


def _pop_text(cue: Cue, start_cs: int, end_cs: int, font_name: str) -> str:
    """Words that pop in (a quick scale from 80%) and flip colour as each is said."""
    words = [w.text for w in cue.words]
    pop = "{\\fscx80\\fscy80\\t(0,90,\\fscx100\\fscy100)}"
    if " ".join(words) != " ".join(cue.lines):
        return pop + "\\N".join(ass_text(drawable(line, font_name)) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    parts = [
        t.replace("\\kf", "\\k") + ass_text(drawable(w, font_name))
        for t, w in zip(tags, words, strict=True)
    ]
    return pop + " ".join(parts) + tail


def add_lower_third(
    ass: str,
    name: str,
    role: str | None,
    *,
    width: int,
    height: int,
    end: float,
    above: int,
    font_name: str = "DejaVu Sans",
    accent_colour: int = 0xFFD400,
    text_colour: int = 0xFFFFFF,
    box_colour: int = 0x000000,
) -> str:
    """``ass`` (a script from to_ass) with a name strap: the name in bold over the role,
    on a box with an accent edge, bottom left inside the title-safe area, ``above`` pixels
    from the bottom (clear of the captions); it fades in after a moment and out after a few
    seconds, or with the shot."""
    size = max(8, round(height / 22))
    margin_lr = math.ceil(width * 0.05)
    fit = (width * 0.6) / (max(_line_units(name, font_name), 1.0) + 0.4)
    size = max(6, min(size, math.floor(fit)))
    role_size = max(6, round(size * 0.7))
    styles = [
        _style_line(
            font_name=font_name, font_size=size, primary=_ass_color(text_colour),
            secondary=_ass_color(text_colour), outline_colour=_ass_color(box_colour, 0x30),
            back=_ass_color(accent_colour), border_style=3, outline=round(size / 4, 1),
            shadow=0, alignment=1, margin_lr=margin_lr, margin_v=above,
        ).replace("Default", "LowerThird", 1)
    ]  # fmt: skip
    accent = _ass_color(accent_colour).replace("&H00", "&H", 1)
    text = ass_text(drawable(name, font_name))
    if role:
        text += f"\\N{{\\fs{role_size}\\b0\\c{accent}&}}" + ass_text(drawable(role, font_name))
    return _with_event(ass, styles, _overlay(1, "LowerThird", text, end, last_cs=500))


def _overlay(layer: int, style: str, text: str, end: float, last_cs: int | None = None) -> str:
    """An overlay's event: in a moment after the shot starts (0.3 s, or a quarter of a short
    shot), fading in and out, until ``end`` (or ``last_cs``, if sooner)."""
    start_cs = min(30, _cs(end) // 4)
    end_cs = max(start_cs + 4, _cs(end) if last_cs is None else min(_cs(end), last_cs))
    clock = f"{_ass_clock(start_cs)},{_ass_clock(end_cs)}"
    return f"Dialogue: {layer},{clock},{style},,0,0,0,,{{\\fad(200,200)}}{text}\n"


def _with_event(ass: str, styles: list[str], event: str) -> str:
    """``ass`` with ``styles`` added to its styles and ``event`` to its events."""
    head, _, events = ass.partition("\n[Events]\n")
    head = head.rstrip("\n") + "\n" + "\n".join(f"Style: {s}" for s in styles) + "\n"
    return head + "\n[Events]\n" + events + event


def two_lines(text: str, fits: float, font_name: str = FONT_NAME) -> list[str]:
    """``text`` on one line if it is at most ``fits`` units wide, else on two, split at the
    space that makes the longer line shortest."""
    words = text.split()
    if _line_units(text, font_name) <= fits or len(words) < 2:
        return [text]
    splits = ([" ".join(words[:i]), " ".join(words[i:])] for i in range(1, len(words)))
    return min(splits, key=lambda lines: max(_line_units(ln, font_name) for ln in lines))


def add_headline(
    ass: str,
    text: str,
    *,
    width: int,
    height: int,
    end: float,
    font_name: str = FONT_NAME,
    text_colour: int = 0xFFFFFF,
    box_colour: int = 0x000000,
) -> str:
    """``ass`` with the shot's on-screen text: bold, on a box, top centre inside the
    title-safe area (below the top bar portrait players draw), on one line or two; it fades
    in after a moment and out with the shot."""
    text = drawable(" ".join(text.split()), font_name)
    if not text:
        return ass
    size = max(8, round(min(width, height) / 15))
    usable = width * 0.8  # 10% side margins
    lines = two_lines(text, usable / size - 0.5, font_name)
    widest = max(_line_units(line, font_name) for line in lines)
    size = max(6, min(size, math.floor(usable / (widest + 0.5))))
    top = round(height * (0.12 if height > width else 0.08))
    styles = [
        _style_line(
            font_name=font_name, font_size=size, primary=_ass_color(text_colour),
            secondary=_ass_color(text_colour), outline_colour=_ass_color(box_colour, 0x30),
            back=_ass_color(box_colour, 0x30), border_style=3, outline=round(size / 4, 1),
            shadow=0, alignment=8, margin_lr=math.ceil(width * 0.1), margin_v=top,
        ).replace("Default", "Headline", 1)
    ]  # fmt: skip
    body = "\\N".join(ass_text(line) for line in lines)
    return _with_event(ass, styles, _overlay(2, "Headline", body, end))
