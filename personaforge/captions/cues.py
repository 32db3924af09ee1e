"""Group timed words into caption cues by the published caption rules."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args

from personaforge.text import linebreak
from personaforge.text.caption_rules import (
    CaptionRules,
    reading_chars,
    rules_for,
)
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


def display_width(text: str) -> int:
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
    widths = [display_width(w.text) for w in words]
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
    widths = [display_width(t) for t in texts]
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
        fits = display_width(text) <= POP_MAX_CHARS
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


def check_order(cues: Sequence[Cue]) -> None:
    prev_end = 0.0
    for i, cue in enumerate(cues):
        if not (0 <= cue.start < cue.end and cue.start >= prev_end - 1e-9):
            raise ValueError(f"cue {i} ({cue.start}..{cue.end}) is empty, negative or overlaps")
        prev_end = cue.end
