"""YouTube chapters from the script's headings: '0:00 Title' lines in a text file."""

from __future__ import annotations

from collections.abc import Sequence


def clock(seconds: float) -> str:
    """M:SS, or H:MM:SS from an hour on, as YouTube writes timestamps (rounded down)."""
    total = int(seconds + 1e-6)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def chapters_text(headings: Sequence[tuple[float, str]], video_title: str) -> str:
    """One line per heading at the second it appears. YouTube wants the first at 0:00: a
    heading in the first second is moved there, else the video's title opens the list.
    Headings landing on the same second as the one before are merged into it."""
    entries: list[tuple[int, str]] = []
    for start, text in headings:
        second = int(start + 1e-6)
        label = " ".join(text.split())
        if entries and entries[-1][0] == second:
            entries[-1] = (second, f"{entries[-1][1]} — {label}")
        else:
            entries.append((second, label))
    if not entries or entries[0][0] > 0:
        entries.insert(0, (0, " ".join(video_title.split())))
    return "".join(f"{clock(second)} {label}\n" for second, label in entries)
