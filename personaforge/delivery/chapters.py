"""YouTube chapters from the script's headings: '0:00 Title' lines in a text file, written only
where YouTube would show them (it drops the whole list when one rule is broken)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# YouTube's rules (https://support.google.com/youtube/answer/9884579): at least three
# chapters, each at least 10 seconds, the first at 0:00.
MIN_CHAPTERS = 3
MIN_CHAPTER_S = 10.0


def clock(seconds: float) -> str:
    """M:SS, or H:MM:SS from an hour on, as YouTube writes timestamps (rounded down)."""
    total = int(seconds + 1e-6)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@dataclass(frozen=True)
class Chapters:
    """The chapters file's text, or None with the reason there is none."""

    text: str | None
    note: str | None = None


def youtube_chapters(
    headings: Sequence[tuple[float, str]], video_title: str, duration_s: float
) -> Chapters:
    """One chapter per heading at the second it appears. The first starts at 0:00: a heading
    within the first 10 s (after a brand intro card, say) is moved there, the intro folded
    into it; else the video's title opens the list. Headings on the same second as the one
    before are merged into it. Where the list breaks one of YouTube's rules, no list."""
    entries: list[tuple[int, str]] = []
    for start, text in headings:
        second = int(start + 1e-6)
        label = " ".join(text.split())
        if entries and entries[-1][0] == second:
            entries[-1] = (second, f"{entries[-1][1]} — {label}")
        else:
            entries.append((second, label))
    if entries and entries[0][0] < MIN_CHAPTER_S:
        entries[0] = (0, entries[0][1])
    elif entries:
        entries.insert(0, (0, " ".join(video_title.split())))
    if len(entries) < MIN_CHAPTERS:
        return Chapters(
            None,
            f"no chapters: {len(entries)} heading(s) give {len(entries)} chapter(s); "
            f"YouTube needs at least {MIN_CHAPTERS}",
        )
    ends = [s for s, _ in entries[1:]] + [int(duration_s + 1e-6)]
    for (start, label), end in zip(entries, ends, strict=True):
        if end - start < MIN_CHAPTER_S:
            return Chapters(
                None,
                f"no chapters: {label!r} at {clock(start)} lasts {end - start} s; YouTube "
                f"needs each chapter to last at least {MIN_CHAPTER_S:.0f} s",
            )
    return Chapters("".join(f"{clock(second)} {label}\n" for second, label in entries))


_LINE = re.compile(r"^(?:(\d+):)?(\d{1,2}):(\d{2})\s+(.+)$")


def parse_chapters(text: str) -> list[tuple[float, str]]:
    """A chapters file's (start in seconds, title) entries; ValueError names a bad line."""
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _LINE.match(line.strip())
        if m is None:
            raise ValueError(f"line {n} is not 'M:SS Title': {line!r}")
        h, mi, s, label = m.groups()
        entries.append((int(h or 0) * 3600 + int(mi) * 60 + float(s), label))
    if not entries:
        raise ValueError("no chapters in the file")
    return entries
