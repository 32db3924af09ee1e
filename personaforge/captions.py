"""Group timed words into caption cues; write them as WebVTT, SRT and ASS for libass."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from PIL import ImageFont

from personaforge.assets import FONT_NAME, font_path
from personaforge.core.colour import rgb_channels
from personaforge.text import fonts, languages, linebreak
from personaforge.text.caption_rules import (
    MIN_FONT_SCALE,
    NO_LINE_START,
    CaptionRules,
    reading_chars,
    rules_for,
    shape,
)
from personaforge.text.escape import ass_text, srt_text, vtt_text
from personaforge.text.sentences import sentence_ends

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
    # Per word: joined to the one before without a space (CJK, the pieces of a long word).
    glue: tuple[bool, ...] = ()
    # How many of ``words`` each line holds, where the lines spell the words out.
    line_words: tuple[int, ...] = ()

    def joined(self, a: int, b: int) -> str:
        """``words[a:b]`` as written: spaces between them except where glued."""
        return _join([w.text for w in self.words[a:b]], self.glue[a:b] if self.glue else ())


def _join(texts: Sequence[str], glue: Sequence[bool]) -> str:
    out = ""
    for k, t in enumerate(texts):
        out += t if k == 0 or (glue and glue[k]) else " " + t
    return out


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


# A cue shorter than the rules' minimum, or read faster than their ceiling, costs this much
# (scaled by how far it falls short): more than a sentence end inside a cue, so two short
# sentences share a cue rather than flash by.
_COST_TOO_SHORT = 60.0
_COST_TOO_FAST = 10.0
_COST_NOT_A_PHRASE = 1.0  # CJK: a break inside one of budoux's phrases
_CHAIN_MS = 500  # a gap shorter than this between cues is closed to the rules' gap
_TAIL_S = 1.0  # after the shot's last word, assume this much room (shots are padded)
_DEFAULT_RULES = rules_for(1920, 1080, "en", 30)


def _tokens(
    words: Sequence[CaptionWord], rules: CaptionRules
) -> tuple[list[CaptionWord], list[bool]]:
    """``words`` with those wider than a line cut in pieces (a URL after its slashes, a long
    compound with a hyphen), each piece timed by its share of the word's characters, and
    which ones join the word before without a space."""
    out: list[CaptionWord] = []
    glue: list[bool] = []
    for w in _sanitise(words):
        pieces = linebreak.split_long(w.text, rules.line_columns, rules.language)
        total = sum(len(p) for p in pieces)
        t, done = w.start, 0
        for k, piece in enumerate(pieces):
            done += len(piece)
            end = w.start + (w.end - w.start) * done / total
            last = k + 1 == len(pieces)
            out.append(CaptionWord(piece, round(t, 3), w.end if last else round(end, 3)))
            glue.append(rules.phrase or k > 0)
            t = end
    return out, glue


def _greedy_line_count(widths: Sequence[int], seps: Sequence[int], max_chars: int) -> int:
    """Fewest lines that hold these words; a word wider than a line gets one alone."""
    lines, cur = 0, -1
    for w, sep in zip(widths, seps, strict=True):
        if cur >= 0 and cur + sep + w <= max_chars:
            cur += sep + w
        else:
            lines, cur = lines + 1, w
    return lines


def _break_costs(words: Sequence[CaptionWord], rules: CaptionRules) -> list[float]:
    """Per gap after word k: what breaking a line or cue there costs on top (infinite where
    the next word may not start a line; CJK: inside a phrase)."""
    texts = [w.text for w in words]
    costs = [0.0 if linebreak.can_break_before(t) else math.inf for t in texts[1:]]
    if rules.phrase and len(texts) > 1:
        for k, phrase_end in enumerate(linebreak.boundaries(texts, rules.language)):
            if not phrase_end:
                costs[k] += _COST_NOT_A_PHRASE
    return [*costs, 0.0]


def _segment(
    words: Sequence[CaptionWord],
    glue: Sequence[bool],
    rules: CaptionRules,
    until: float | None = None,
) -> list[int]:
    """Return the cue end indices (exclusive) minimising the total cue cost by DP."""
    n = len(words)
    max_chars, max_lines, max_dur = rules.line_columns, rules.max_lines, rules.max_duration_s
    widths = [_width(w.text) for w in words]
    lengths = [len(w.text) for w in words]
    seps = [0 if k == 0 or glue[k] else 1 for k in range(n)]
    sentence = sentence_ends([w.text for w in words], rules.language, glue)
    clause = [_is_clause_end(w.text) for w in words]
    weak = [_is_weak(w.text) and not rules.phrase for w in words]
    extra = _break_costs(words, rules)
    # pause[k]: a long silence follows word k.
    pause = [words[k + 1].start - words[k].end >= _PAUSE for k in range(n - 1)] + [True]
    capacity = max_chars * max_lines
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for i in range(n):
        if i > 0 and extra[i - 1] == math.inf:
            continue  # no cue may start with this word
        width = -1
        chars = 0
        lines, cur = 0, -1
        inner = 0.0  # penalties for what lies inside words[i:j]
        for j in range(i + 1, n + 1):
            w = widths[j - 1]
            sep = seps[j - 1] if j > i + 1 else 0
            width += (1 if j == i + 1 else sep) + w
            chars += lengths[j - 1] + sep
            if cur >= 0 and cur + sep + w <= max_chars:
                cur += sep + w
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
                room_end = words[j].start - rules.gap_s
            else:
                room_end = until if until is not None else words[j - 1].end + _TAIL_S
            room = room_end - words[i].start
            if room < rules.min_duration_s:
                cost += _COST_TOO_SHORT * (1 - max(room, 0.0) / rules.min_duration_s)
            room += rules.lead_in_s  # a cue too fast to read may come a little early
            if room > 0 and chars / room > rules.max_cps:
                cost += _COST_TOO_FAST * min(chars / room / rules.max_cps - 1, 3.0)
            if j < n:
                k = j - 1
                if extra[k] == math.inf:
                    continue
                cost += extra[k]
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


def _layout(
    words: Sequence[CaptionWord], glue: Sequence[bool], rules: CaptionRules
) -> list[tuple[int, int]]:
    """Break one cue's words into the fewest lines, as even as possible, without orphans:
    the (start, end) word index of each line."""
    texts = [w.text for w in words]
    max_chars = rules.line_columns
    widths = [_width(t) for t in texts]
    m = len(texts)
    seps = [0 if k == 0 or glue[k] else 1 for k in range(m)]
    extra = _break_costs(words, rules)
    k = _greedy_line_count(widths, seps, max_chars)
    if k <= 1:
        return [(0, m)]
    k = min(k, rules.max_lines) if m >= rules.max_lines else k
    target = (sum(widths) + sum(seps) - (k - 1)) / k

    def line_cost(a: int, b: int) -> float:
        width = sum(widths[a:b]) + sum(seps[a + 1 : b])
        if width > max_chars and b - a > 1:
            return math.inf
        cost = ((width - target) / max_chars) ** 2
        if b - a == 1 and m > k and widths[a] * 2 < max_chars:
            cost += 0.5  # a lone short word on a line looks like a mistake
        if b < m:
            cost += extra[b - 1]
            last = texts[b - 1]
            if _is_clause_end(last) or _is_sentence_end(last):
                cost -= 0.05
            elif _is_weak(last) and not rules.phrase:
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
    if best[k][m] == math.inf:
        return [(0, m)]  # no allowed break: one (shrunk) line rather than a broken rule
    out: list[tuple[int, int]] = []
    p = m
    for line in range(k, 0, -1):
        a = back[line][p]
        out.append((a, p))
        p = a
    return out[::-1]


def _make_cue(
    start_ms: int, end_ms: int, group: Sequence[CaptionWord], glue: Sequence[bool],
    spans: Sequence[tuple[int, int]],
) -> Cue:  # fmt: skip
    g = tuple(glue)
    lines = tuple(_join([w.text for w in group[a:b]], g[a:b]) for a, b in spans)
    counts = tuple(b - a for a, b in spans)
    return Cue(start_ms / 1000, end_ms / 1000, lines, tuple(group), g, counts)


def _timed(
    groups: Sequence[tuple[int, int]],
    words: Sequence[CaptionWord],
    glue: Sequence[bool],
    rules: CaptionRules,
    *,
    hold_ms: int = 0,
    layout: bool = True,
    until: float | None = None,
) -> list[Cue]:
    """Cues for the word ``groups``, timed by the rules: from the first word (at least the
    rules' gap after the cue before) until the last word is said (plus ``hold_ms``), held
    for the minimum duration and for as long as its characters take to read at the ceiling,
    closing a short gap to the next cue, and never nearer the next cue than the gap nor
    later than ``until``. A cue that would still be too fast to read comes up to the rules'
    lead-in early, into the silence before its first word."""
    gap_ms = math.ceil(rules.gap_s * 1000)
    lead_ms = round(rules.lead_in_s * 1000)
    until_ms = None if until is None else round(until * 1000)
    min_ms = round(rules.min_duration_s * 1000)
    firsts = [round(words[a].start * 1000) for a, _ in groups]
    cues: list[Cue] = []
    prev_end = -gap_ms
    for k, (a, b) in enumerate(groups):
        group, g = words[a:b], glue[a:b]
        spans = _layout(group, g, rules) if layout else [(0, b - a)]
        text = _join([w.text for w in group], g)
        read_ms = round(reading_chars(text) / rules.max_cps * 1000)
        limit = firsts[k + 1] - gap_ms if k + 1 < len(groups) else until_ms
        start = max(firsts[k], prev_end + gap_ms)
        if limit is not None and read_ms > limit - start:
            start = max(firsts[k] - min(lead_ms, read_ms - (limit - start)), prev_end + gap_ms, 0)
        end = max(round(group[-1].end * 1000) + hold_ms, start + min_ms, start + read_ms)
        if k + 1 < len(groups):
            limit = max(firsts[k + 1], start + gap_ms) - gap_ms
            end = limit if limit - end < _CHAIN_MS else min(end, limit)
        elif until_ms is not None:
            end = min(end, until_ms)
        end = max(end, start + _MIN_CUE_MS)
        cues.append(_make_cue(start, end, group, g, spans))
        prev_end = end
    return cues


def _rules(
    rules: CaptionRules | None,
    max_chars_per_line: int | None,
    max_lines: int | None,
    max_duration: float | None,
    min_duration: float | None,
) -> CaptionRules:
    rules = rules or _DEFAULT_RULES
    rules = replace(
        rules,
        line_chars=rules.line_chars if max_chars_per_line is None else max_chars_per_line,
        max_lines=rules.max_lines if max_lines is None else max_lines,
        max_duration_s=rules.max_duration_s if max_duration is None else max_duration,
        min_duration_s=rules.min_duration_s if min_duration is None else min_duration,
    )
    if rules.line_chars < 1 or rules.max_lines < 1:
        raise ValueError("max_chars_per_line and max_lines must be at least 1")
    if not (rules.max_duration_s > 0 and rules.min_duration_s >= 0):
        raise ValueError("max_duration must be > 0 and min_duration >= 0")
    return rules


def build_cues(
    words: Sequence[CaptionWord],
    *,
    rules: CaptionRules | None = None,
    max_chars_per_line: int | None = None,
    max_lines: int | None = None,
    max_duration: float | None = None,
    min_duration: float | None = None,
    until: float | None = None,
) -> list[Cue]:
    """Group ``words`` into sorted, non-overlapping cues; every word lands in exactly one.

    ``rules`` (caption_rules.rules_for: the frame's shape and the language; by default a
    landscape English video at 30 fps) give the line length, line count, minimum and
    maximum duration, the gap between cues and the reading-speed ceiling; the keyword
    arguments override single rules. Cues break at sentence ends and long pauses, and
    preferably after , ; : when full (in CJK between budoux's phrases, never before closing
    punctuation); a cue too short or too fast to read costs more than a sentence end inside
    it, so short sentences share a cue. A word wider than a line is cut in pieces at its
    line-break opportunities (a URL after its slashes), timed by their share of its
    characters. Times are clamped to >= 0, word starts made non-decreasing (the cue's
    ``words`` carry the clamped times) and cue times rounded to milliseconds; in degenerate
    input where words pile up on one instant a cue is still given 40 ms, nudging the next
    one later.
    """
    rules = _rules(rules, max_chars_per_line, max_lines, max_duration, min_duration)
    clean, glue = _tokens(words, rules)
    if not clean:
        return []
    ends = _segment(clean, glue, rules, until)
    starts = [0, *ends[:-1]]
    return _timed(list(zip(starts, ends, strict=True)), clean, glue, rules, until=until)


POP_MAX_WORDS = 3
POP_MAX_CHARS = 18
_POP_HOLD_MS = 400


def pop_cues(
    words: Sequence[CaptionWord], *, rules: CaptionRules | None = None, until: float | None = None
) -> list[Cue]:
    """One to three words per cue, one line, breaking after a sentence or clause end: the
    rapid, punchy captions of short-form video. A cue takes more words (up to its line)
    while it would be too short or too fast to read by the rules; each is held a little past
    its last word, or until the next one starts."""
    rules = _rules(rules, POP_MAX_CHARS if rules is None else None, 1, None, None)
    rules = replace(rules, line_chars=POP_MAX_CHARS // 2 if rules.phrase else POP_MAX_CHARS)
    clean, glue = _tokens(words, rules)
    extra = _break_costs(clean, rules)
    groups: list[list[int]] = []
    for i, w in enumerate(clean):
        group = groups[-1] if groups else None
        if group is None:
            groups.append([i])
            continue
        text = _join([clean[k].text for k in [*group, i]], [glue[k] for k in [*group, i]])
        fits = _width(text) <= POP_MAX_CHARS
        room = w.start - rules.gap_s - clean[group[0]].start
        chars = reading_chars(_join([clean[k].text for k in group], [glue[k] for k in group]))
        starved = room < rules.min_duration_s or (room > 0 and chars / room > rules.max_cps)
        last = clean[group[-1]].text
        full = (
            len(group) >= POP_MAX_WORDS
            or _is_sentence_end(last)
            or _is_clause_end(last)
            or (rules.phrase and extra[group[-1]] == 0.0 and len(group) >= 2)
        )
        if extra[i - 1] == math.inf or (fits and (starved or not full)):
            group.append(i)
        else:
            groups.append([i])
    spans = [(g[0], g[-1] + 1) for g in groups]
    return _timed(spans, clean, glue, rules, hold_ms=_POP_HOLD_MS, layout=False, until=until)


def shot_cues(
    words: Sequence[CaptionWord],
    shot_end: float,
    *,
    style: str = "karaoke",
    rules: CaptionRules | None = None,
    max_chars_per_line: int | None = None,
    max_lines: int | None = None,
) -> list[Cue]:
    """One shot's cues, timed from the shot's first frame and ending the rules' gap before
    ``shot_end`` (so the next shot's first cue keeps its distance): the same list is burned
    into the shot's segment and, shifted, written to the .vtt/.srt."""
    if not words:
        return []
    rules = rules or _DEFAULT_RULES
    last = shot_end - rules.gap_s
    if style == "bold-pop":
        built = pop_cues(words, rules=rules, until=last)
    else:
        built = build_cues(
            words, rules=rules, max_chars_per_line=max_chars_per_line, max_lines=max_lines,
            until=last,
        )  # fmt: skip
    out: list[Cue] = []
    for cue in built:
        if cue.start >= last:
            break  # a word spoken after the shot's last frame (never, with padded audio)
        out.append(replace(cue, end=min(cue.end, last)))
    return out


def shift(cues: Sequence[Cue], offset: float) -> list[Cue]:
    """``cues`` moved ``offset`` seconds later (a shot's cues placed in the whole video)."""
    return [
        replace(
            c,
            start=c.start + offset,
            end=c.end + offset,
            words=tuple(CaptionWord(w.text, w.start + offset, w.end + offset) for w in c.words),
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


def to_vtt(cues: Sequence[Cue], *, language: str | None = None) -> str:
    """A WebVTT file: numbered cues, ``HH:MM:SS.mmm`` timestamps, escaped payloads; with
    ``language`` (BCP-47) the signature line says it ("WEBVTT Language: ja"): the one
    place a W3C-valid file carries it (YouTube's "Language:" header lines fail the
    validator), beside the language a player or upload is told."""
    _check(cues)
    parts = [f"WEBVTT Language: {language}\n" if language else "WEBVTT\n"]
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
# A dropped pictograph between a word and its punctuation leaves no space ("it 🎉." -> "it.").
_CLOSING = frozenset(NO_LINE_START | set("%"))
RLM = "\u200f"  # RIGHT-TO-LEFT MARK


@functools.lru_cache(maxsize=1)
def bundled_fonts() -> dict[str, Path]:
    """Every bundled font by its family name: the Latin default first, then each script's."""
    found = {FONT_NAME: font_path()}
    for lang in languages.LANGUAGES.values():
        font = fonts.for_language(lang.code)
        found.setdefault(font.family, font.file)
    return found


def font_scale(font_name: str) -> float:
    """How much larger a bundled script font is set to read like the Latin one (1 for any
    other font): the language table's ``font_scale``."""
    for lang in languages.LANGUAGES.values():
        if lang.font_family == font_name:
            return lang.font_scale
    return 1.0


def _font_file(font_name: str) -> Path | None:
    return bundled_fonts().get(font_name)


@functools.lru_cache(maxsize=8)
def _metrics_font(file: Path) -> tuple[ImageFont.FreeTypeFont, int]:
    font = ImageFont.truetype(str(file), 1000)
    ascent, descent = font.getmetrics()
    return font, ascent + descent


def _fallback(text: str, font_name: str) -> str | None:
    """The bundled font that draws every letter of ``text`` that ``font_name`` cannot (a
    Japanese name in an English caption), or None."""
    primary = _font_file(font_name)
    if primary is None:
        return None
    lacking = "".join(fonts.missing(text, primary))
    if not lacking:
        return None
    for family, file in bundled_fonts().items():
        if family != font_name and not fonts.missing(lacking, file):
            return family
    return None


def undrawable(texts: Sequence[str], font_name: str) -> list[str]:
    """The letters, digits and punctuation in ``texts`` that neither ``font_name`` (when it is
    bundled) nor any other bundled font can draw: burned in, they would be empty boxes."""
    primary = _font_file(font_name)
    if primary is None:
        return []
    out: list[str] = []
    for text in texts:
        for ch in fonts.missing(text, primary):
            if ch not in out and all(fonts.missing(ch, f) for f in bundled_fonts().values()):
                out.append(ch)
    return out


def drawable(text: str, font_name: str = FONT_NAME) -> str:
    """``text`` without the characters the bundled font has no glyph for (emoji, most CJK).

    libass would draw those as empty boxes; burned captions leave them out, while the
    .vtt/.srt sidecars keep every character for players with fuller fonts. A dropped
    character leaves no stray space before the punctuation after it.
    """
    file = _font_file(font_name)
    if file is None:
        return text
    cmap = fonts.cmap(file)
    marked = "".join(ch if ch.isspace() or ord(ch) in cmap else "\x00" for ch in text)
    if "\x00" not in marked:
        return text
    closing = re.escape("".join(sorted(_CLOSING)))
    marked = re.sub(f" *\x00+ *(?=[{closing}])", "", marked)
    kept = marked.replace("\x00", "")
    return re.sub(" {2,}", " ", kept).strip(" ")


def _shown(word: str, font_name: str) -> str:
    """One word as ASS text: escaped, in a bundled fallback font where ``font_name`` lacks its
    letters, and without what no font draws."""
    family = _fallback(word, font_name)
    if family is None:
        return ass_text(drawable(word, font_name))
    return f"{{\\fn{family}}}{ass_text(drawable(word, family))}{{\\fn{font_name}}}"


def _shown_line(line: str, font_name: str) -> str:
    return " ".join(filter(None, (_shown(w, font_name) for w in line.split(" "))))


def _line_units(line: str, font_name: str) -> float:
    """Width of ``line`` in pixels per unit of ASS font size.

    libass scales a font so that ascent + descent equals the ASS size, so a bundled font's
    advance widths (shaped by raqm) divided by that height give the rendered width exactly.
    """
    file = _font_file(font_name)
    if file is not None:
        font, size_units = _metrics_font(file)
        return font.getlength(drawable(line, font_name)) / size_units
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


def _line_counts(cue: Cue) -> tuple[int, ...]:
    """Words on each of the cue's lines, or () where its lines do not spell its words."""
    if cue.line_words and sum(cue.line_words) == len(cue.words):
        return cue.line_words
    per_line = [line.split(" ") for line in cue.lines]
    if [t for ws in per_line for t in ws] == [w.text for w in cue.words]:
        return tuple(len(ws) for ws in per_line)
    return ()


def _timed_lines(cue: Cue, tags: Sequence[str], font_name: str) -> list[str]:
    """The cue's lines, each word preceded by its timing tag; a word with nothing drawable
    keeps its tag but adds no space, and glued words (CJK) none either."""
    out: list[str] = []
    i = 0
    for count in _line_counts(cue):
        line, has_text = "", False
        for k in range(i, i + count):
            shown = _shown(cue.words[k].text, font_name)
            glued = not has_text or not shown or bool(cue.glue and cue.glue[k])
            glued = glued or drawable(cue.words[k].text, font_name)[:1] in _CLOSING
            line += ("" if glued else " ") + tags[k] + shown
            has_text = has_text or bool(shown)
        out.append(line)
        i += count
    return out


def _ass_dialogue_text(
    cue: Cue, start_cs: int, end_cs: int, highlight: bool, font_name: str, sweep: bool = True
) -> str:
    if not highlight or not _line_counts(cue):
        # Lines that do not spell out the cue's words (hand-made cues) get no per-word timing.
        return "\\N".join(_shown_line(line, font_name) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    if not sweep:  # right to left: \kf would sweep each word from its wrong end
        tags = [t.replace("\\kf", "\\k") for t in tags]
    return "\\N".join(_timed_lines(cue, tags, font_name)) + tail


def side_margin(width: int, height: int) -> int:
    """Each side's caption margin in pixels: title-safe, and clear of a portrait player's
    buttons (caption_rules.SIDE_MARGIN)."""
    from personaforge.text.caption_rules import SIDE_MARGIN

    return math.ceil(width * SIDE_MARGIN[shape(width, height)])


def caption_font_size(
    width: int, height: int, chars_per_line: int, style: str, scale: float = 1.0
) -> int:
    """The font size for a video's captions, from its frame and line length alone (never from
    its words), so every shot's segment draws captions alike and editing one sentence changes
    no other segment; ``scale`` sets a script that draws small (Arabic) larger. A line that
    would not fit at this size is shrunk on its own cue."""
    room = width - 2 * side_margin(width, height)
    if style == "bold-pop":
        fit = room / (POP_MAX_CHARS * _FALLBACK_UNITS_PER_CHAR + _edge(style))
        return max(1, math.floor(min(height / 9, fit) * scale))
    fit = room / (chars_per_line * _TYPICAL_UNITS_PER_CHAR + _edge(style))
    return max(1, math.floor(min(height / 18, fit) * scale))


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
    rtl: bool = False,
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
            # Encoding -1: libass finds each line's base direction (right to left in Arabic).
            "-1" if rtl else "1",
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
    language: str = "en",
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
    margin_lr = side_margin(width, height)
    rtl = languages.get(language).rtl
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
        shadow=shadow, alignment=alignment, margin_lr=margin_lr, margin_v=margin_v, rtl=rtl,
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
            text = _ass_dialogue_text(cue, s, e, karaoke, font_name, sweep=not rtl)
        widest = max((_line_units(line, font_name) for line in cue.lines), default=0.0)
        if (widest + _edge(style)) * font_size > room:
            # Shrunk to fit, to a floor: words wider than a line were cut, so only a hand-made
            # cue or a narrow custom font gets here.
            fit = max(math.floor(room / (widest + _edge(style))), round(font_size * MIN_FONT_SCALE))
            text = f"{{\\fs{max(1, fit)}}}" + text
        if rtl:
            # libass takes a line's direction from its first strong letter: a line that
            # starts with a Latin name would run left to right. A right-to-left mark (drawn
            # as nothing) makes every line of a right-to-left language run right to left.
            text = RLM + text.replace("\\N", "\\N" + RLM)
        events.append(f"Dialogue: 0,{_ass_clock(s)},{_ass_clock(e)},Default,,0,0,0,,{text}\n")
    return head + "".join(events)


def _pop_text(cue: Cue, start_cs: int, end_cs: int, font_name: str) -> str:
    """Words that pop in (a quick scale from 80%) and flip colour as each is said."""
    pop = "{\\fscx80\\fscy80\\t(0,90,\\fscx100\\fscy100)}"
    if not _line_counts(cue):
        return pop + "\\N".join(_shown_line(line, font_name) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    tags = [t.replace("\\kf", "\\k") for t in tags]
    return pop + "\\N".join(_timed_lines(cue, tags, font_name)) + tail


def ellipsize(text: str, fits: float, font_name: str = FONT_NAME) -> str:
    """``text`` if it is at most ``fits`` units wide, else cut (at a word where it has
    spaces, else at a character) and ended with an ellipsis so that it is."""
    if _line_units(text, font_name) <= fits:
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        cut = " ".join(words).rstrip(",;:-–—") + "…"
        if _line_units(cut, font_name) <= fits:
            return cut
    chars = words[0]
    while len(chars) > 1:
        chars = chars[:-1]
        if _line_units(chars + "…", font_name) <= fits:
            return chars + "…"
    return chars + "…"


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
    seconds, or with the shot. A long name shrinks to a floor (three quarters of its size),
    then ends in an ellipsis; a long role takes two lines, then an ellipsis."""
    base = max(8, round(height / 22 * font_scale(font_name)))
    margin_lr = side_margin(width, height)
    room = width * 0.6
    fit = room / (max(_line_units(name, font_name), 1.0) + 0.4)
    size = max(6, round(base * MIN_FONT_SCALE), min(base, math.floor(fit)))
    name = ellipsize(name, room / size - 0.4, font_name)
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
    text = _shown_line(name, font_name)
    if role:
        fits = room / role_size - 0.4
        lines = [ellipsize(line, fits, font_name) for line in two_lines(role, fits, font_name)]
        shown = "\\N".join(_shown_line(line, font_name) for line in lines)
        text += f"\\N{{\\fs{role_size}\\b0\\c{accent}&}}" + shown
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
    base = max(8, round(min(width, height) / 15 * font_scale(font_name)))
    usable = width * 0.8  # 10% side margins
    lines = two_lines(text, usable / base - 0.5, font_name)
    widest = max(_line_units(line, font_name) for line in lines)
    # Shrunk to fit, down to a floor; what still does not fit ends in an ellipsis.
    size = max(6, round(base * MIN_FONT_SCALE), min(base, math.floor(usable / (widest + 0.5))))
    lines = [ellipsize(line, usable / size - 0.5, font_name) for line in lines]
    top = round(height * (0.12 if height > width else 0.08))
    styles = [
        _style_line(
            font_name=font_name, font_size=size, primary=_ass_color(text_colour),
            secondary=_ass_color(text_colour), outline_colour=_ass_color(box_colour, 0x30),
            back=_ass_color(box_colour, 0x30), border_style=3, outline=round(size / 4, 1),
            shadow=0, alignment=8, margin_lr=math.ceil(width * 0.1), margin_v=top,
        ).replace("Default", "Headline", 1)
    ]  # fmt: skip
    body = "\\N".join(_shown_line(line, font_name) for line in lines)
    return _with_event(ass, styles, _overlay(2, "Headline", body, end))
