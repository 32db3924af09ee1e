"""Word timings that `personaforge transcribe` kept beside the script it wrote, so that the
following `speak` with that take needs no alignment."""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from personaforge.backends.base import AlignedSentence, Alignment, TimedWord
from personaforge.backends.tts.elevenlabs import visemes_from_alignment
from personaforge.errors import MissingDependencyError, MissingKeyError, PersonaForgeError
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


STT_MODEL = "scribe_v2"


def transcribe(
    take: Path, out: Path, *, language: str | None = None, env: Mapping[str, str] | None = None
) -> tuple[Path, int]:
    """Write ``out``, a script of what ``take`` says (one sentence a line), by ElevenLabs
    speech to text, and keep its word timings beside it; returns (out, sentences)."""
    from personaforge.backends.align.elevenlabs import client_for
    from personaforge.backends.cloud import RetryPolicy, call_with_retries
    from personaforge.backends.planner.offline import split_sentences
    from personaforge.backends.tts.elevenlabs import KEY_VAR, Malformed, classify
    from personaforge.fsutil import atomic_write_text, sha256_file
    from personaforge.stages.parts.narration import FORMATS

    env = os.environ if env is None else env
    if not take.is_file():
        raise PersonaForgeError("no such recording", file=take)
    if take.suffix.lower() not in FORMATS.split():
        raise PersonaForgeError(f"not a recording this reads ({FORMATS})", file=take)
    if not env.get(KEY_VAR, "").strip():
        raise MissingKeyError(
            "transcription needs the ElevenLabs backend (no offline recogniser is bundled)",
            hint=f"export {KEY_VAR}=... and pip install 'personaforge[elevenlabs]'",
        )
    if importlib.util.find_spec("elevenlabs") is None:
        raise MissingDependencyError(
            "transcription needs the ElevenLabs SDK", hint="pip install 'personaforge[elevenlabs]'"
        )
    client = client_for(env, "transcription")
    data = take.read_bytes()

    def call() -> list[tuple[str, float, float]]:
        extra: dict[str, Any] = {"language_code": language} if language else {}
        answer = client.speech_to_text.convert(
            file=(take.name, data, "application/octet-stream"),
            model_id=STT_MODEL,
            timestamps_granularity="word",
            tag_audio_events=False,
            request_options={"max_retries": 0, "timeout_in_seconds": 600},
            **extra,
        )
        words = getattr(answer, "words", None)
        if not isinstance(words, list):
            raise Malformed("no words in the transcript")
        out: list[tuple[str, float, float]] = []
        for w in words:
            if getattr(w, "type", "word") != "word" or not str(w.text).strip():
                continue
            if w.start is None or w.end is None:
                raise Malformed("a word without its times")
            out.append((str(w.text).strip(), float(w.start), float(w.end)))
        return out

    secret = env.get(KEY_VAR, "").strip()
    words = call_with_retries(
        call,
        lambda exc: classify(exc, secret=secret),
        what="elevenlabs speech to text",
        policy=RetryPolicy.from_env(env),
    )
    if not words:
        raise PersonaForgeError("no speech found in the recording", file=take)
    sentences = split_sentences(" ".join(w for w, _, _ in words))
    atomic_write_text(out, "\n".join(sentences) + "\n")
    keep(out.parent, sha256_file(take), words)
    return out, len(sentences)
