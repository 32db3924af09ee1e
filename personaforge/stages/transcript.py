"""Word timings that `personaforge transcribe` kept beside the script it wrote, so that the
following `speak` with that take needs no alignment."""

from __future__ import annotations

import json
from pathlib import Path

from personaforge.backends.base import AlignedSentence, Alignment, TimedWord
from personaforge.backends.tts.elevenlabs import visemes_from_alignment
from personaforge.text.normalize import tokenize

TIMINGS = ".personaforge-timings.json"  # beside the script: {take sha256: [words]}


def timings_path(folder: Path) -> Path:
    return folder / TIMINGS


def keep(folder: Path, take_sha: str, words: list[tuple[str, float, float]]) -> Path:
    """Record a take's transcribed words (text, start, end in seconds) in ``folder``."""
    from personaforge.fsutil import atomic_write_text

    path = timings_path(folder)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = {}
    data[take_sha] = [[w, round(s, 3), round(e, 3)] for w, s, e in words]
    atomic_write_text(path, json.dumps(data, indent=1))
    return path


def alignment_for(folder: Path, take_sha: str, sentences: list[str]) -> Alignment | None:
    """The take's sentences aligned from its transcript, if one was kept and the script's
    words are still the transcript's, one for one; else None (the take is aligned)."""
    try:
        data = json.loads(timings_path(folder).read_text(encoding="utf-8"))
        words = [(str(w), float(s), float(e)) for w, s, e in data[take_sha]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    out: list[AlignedSentence] = []
    k = 0
    for sentence in sentences:
        timed: list[TimedWord] = []
        for tok in tokenize(sentence):
            if k >= len(words) or _bare(words[k][0]) != _bare(tok.display):
                return None
            timed.append(TimedWord(tok.display, words[k][1], words[k][2]))
            k += 1
        out.append(AlignedSentence(words=timed, visemes=_visemes(timed)))
    return Alignment(sentences=out) if k == len(words) else None


def _bare(word: str) -> str:
    return "".join(c for c in word.lower() if c.isalnum())


def _visemes(words: list[TimedWord]) -> list[tuple[float, str]]:
    """Mouth shapes from the letters, spread over each word's time."""
    chars: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    for w in words:
        n = max(1, len(w.text))
        step = (w.end - w.start) / n
        for i, c in enumerate(w.text):
            chars.append(c)
            starts.append(w.start + i * step)
            ends.append(w.start + (i + 1) * step)
        chars.append(" ")
        starts.append(w.end)
        ends.append(w.end)
    return visemes_from_alignment(chars, starts, ends)
