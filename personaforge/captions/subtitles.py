"""Write caption cues as WebVTT and SubRip (SRT) files."""

from __future__ import annotations

from collections.abc import Sequence

from personaforge.captions.cues import Cue, check_order
from personaforge.text.escape import srt_text, vtt_text


def _clock(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def to_vtt(cues: Sequence[Cue], *, language: str | None = None) -> str:
    """A WebVTT file: numbered cues, ``HH:MM:SS.mmm`` timestamps, escaped payloads; with
    ``language`` (BCP-47) the signature line says it ("WEBVTT Language: ja"): the one
    place a W3C-valid file carries it (YouTube's "Language:" header lines fail the
    validator), beside the language a player or upload is told."""
    check_order(cues)
    parts = [f"WEBVTT Language: {language}\n" if language else "WEBVTT\n"]
    for i, cue in enumerate(cues, 1):
        payload = "\n".join(filter(None, (vtt_text(line) for line in cue.lines))) or "\u00a0"
        parts.append(f"{i}\n{_clock(cue.start, '.')} --> {_clock(cue.end, '.')}\n{payload}\n")
    return "\n".join(parts)


def to_srt(cues: Sequence[Cue]) -> str:
    """A SubRip file: numbered cues, ``HH:MM:SS,mmm`` timestamps, tag-proof text."""
    check_order(cues)
    parts = []
    for i, cue in enumerate(cues, 1):
        payload = "\n".join(filter(None, (srt_text(line) for line in cue.lines))) or "\u00a0"
        parts.append(f"{i}\n{_clock(cue.start, ',')} --> {_clock(cue.end, ',')}\n{payload}\n")
    return "\n".join(parts)
