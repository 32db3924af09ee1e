"""The VoiceDirector: persona + shot -> how to say it (delivery, pauses) and the emotion curve.

Deterministic by construction (no randomness, no clock): the same persona, text and emotion
always give the same direction, so it can be part of the shot's cache key; DIRECTOR_VERSION
changes whenever the rules below change what a shot sounds like.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from personaforge.core.archetypes import offline_delivery, sentence_pause
from personaforge.core.manifests import Word
from personaforge.core.specs import Persona
from personaforge.text.markup import Piece, pieces

DIRECTOR_VERSION = "1"

# ElevenLabs' own defaults for a voice without stored settings.
ELEVENLABS_BASE = {"stability": 0.5, "similarity_boost": 0.75, "style": 0.0}
# piper's joe voice config: noise_scale 0.667, noise_w 0.8.
PIPER_NOISE, PIPER_NOISE_W = 0.667, 0.8


@dataclass(frozen=True)
class Mood:
    """How an emotion shifts delivery, and how strongly it shows on the face."""

    pace: float = 1.0  # speaking-rate factor
    stability: float = 0.0  # ElevenLabs: + steadier, - more expressive
    style: float = 0.0  # ElevenLabs style exaggeration
    variation: float = 1.0  # piper noise factor
    intensity: float = 0.5  # face: 0..1


MOODS: dict[str, Mood] = {
    "neutral": Mood(intensity=0.3),
    "happy": Mood(pace=1.03, stability=-0.05, style=0.2, variation=1.08, intensity=0.6),
    "excited": Mood(pace=1.08, stability=-0.15, style=0.35, variation=1.15, intensity=0.85),
    "calm": Mood(pace=0.94, stability=0.15, style=0.0, variation=0.85, intensity=0.5),
    "serious": Mood(pace=0.97, stability=0.1, style=0.1, variation=0.9, intensity=0.6),
    "curious": Mood(pace=1.0, stability=-0.05, style=0.15, variation=1.05, intensity=0.6),
}


@dataclass
class Direction:
    pieces: list[Piece]
    delivery: dict[str, float | bool | str]
    emotion: str
    # The pronunciations this shot uses (part of its key: editing another word's
    # pronunciation must not re-voice it).
    pronunciations: dict[str, str] = field(default_factory=dict)

    def key(self) -> dict[str, object]:
        return {
            "director": DIRECTOR_VERSION,
            "delivery": self.delivery,
            "pronunciations": self.pronunciations,
            "pauses": [p.pause_after_s for p in self.pieces],
            "emphasis": [sorted(p.emphasis) for p in self.pieces],
        }


def _clamp(x: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return round(min(hi, max(lo, x)), 3)


def direct(
    persona: Persona, text: str, *, emotion: str, kind: str, backend: str, language: str = "en"
) -> Direction:
    """How ``persona`` should say one shot's ``text`` with ``backend``."""
    emotion = emotion if emotion in MOODS else "neutral"
    mood = MOODS[emotion]
    if kind == "title":  # headings are announced, not acted
        mood = Mood(pace=0.97, stability=0.1, intensity=0.3)
    v = persona.voice
    delivery: dict[str, float | bool | str] = {}
    if backend == "elevenlabs":
        stability = v.stability if v.stability is not None else ELEVENLABS_BASE["stability"]
        style = v.style if v.style is not None else ELEVENLABS_BASE["style"]
        delivery = {
            "stability": _clamp(stability + mood.stability),
            "similarity_boost": _clamp(
                v.similarity_boost
                if v.similarity_boost is not None
                else ELEVENLABS_BASE["similarity_boost"]
            ),
            "style": _clamp(style + mood.style),
            "use_speaker_boost": True if v.use_speaker_boost is None else v.use_speaker_boost,
            "speed": _clamp(v.speed * mood.pace, 0.7, 1.2),
        }
    else:
        rate, variation = offline_delivery(persona.archetype)
        if v.variation is not None:
            variation = v.variation
        # variation 0.5 is the voice as trained; 0 flat, 1 lively.
        noise = (0.5 + variation) * mood.variation
        delivery = {
            "length_scale": _clamp(1.0 / (v.speed * rate * mood.pace), 0.4, 2.5),
            "noise_scale": _clamp(PIPER_NOISE * noise, 0.0, 1.5),
            "noise_w": _clamp(PIPER_NOISE_W * noise, 0.0, 1.5),
        }
    said = persona.pronunciations or {}
    parts = pieces(text, said, language)
    breath = sentence_pause(persona.archetype)
    if breath > 0 and kind == "talking":
        parts = [p for part in parts for p in _breathe(part, breath)]
    used = {
        k: said[k] for k in sorted(said) if any(k.casefold() in p.text.casefold() for p in parts)
    }
    return Direction(pieces=parts, delivery=delivery, emotion=emotion, pronunciations=used)


def _breathe(piece: Piece, seconds: float) -> list[Piece]:
    """Split a piece after each sentence inside it, with ``seconds`` of silence there."""
    words = piece.text.split()
    out: list[Piece] = []
    start = 0
    for i, tok in enumerate(piece.tokens):
        last = i == len(piece.tokens) - 1
        if last or tok.pause in (".", "!", "?"):
            emphasis = frozenset(k - start for k in piece.emphasis if start <= k <= i)
            pause = piece.pause_after_s if last else seconds
            out.append(Piece(" ".join(words[start : i + 1]), piece.tokens[start : i + 1],
                             emphasis, pause))  # fmt: skip
            start = i + 1
    return out or [piece]


def emotion_curve(
    direction: Direction, words: Sequence[Word], duration_s: float, emphasised: Sequence[bool]
) -> list[tuple[float, str, float]]:
    """(time s, emotion, intensity) through the shot: the emotion settles in, peaks on
    emphasised words, a question looks curious, an exclamation lifts, and it eases at the end."""
    emotion = direction.emotion
    base = MOODS[emotion].intensity
    points: list[tuple[float, str, float]] = [(0.0, emotion, _clamp(base * 0.7))]
    for word, stressed in zip(words, emphasised, strict=True):
        if stressed:
            points.append((word.start, emotion, _clamp(base + 0.35)))
            points.append((word.end + 0.25, emotion, _clamp(base)))
        if word.text.rstrip("\"')]").endswith("?"):
            points.append((max(0.0, word.start - 0.15), "curious", 0.7))
            points.append((word.end + 0.3, emotion, _clamp(base)))
        elif word.text.rstrip("\"')]").endswith("!"):
            lift = "excited" if emotion in ("neutral", "happy", "excited") else emotion
            points.append((max(0.0, word.start - 0.15), lift, _clamp(max(base, 0.8))))
            points.append((word.end + 0.3, emotion, _clamp(base)))
    if words:
        points.append((words[-1].end, emotion, _clamp(base * 0.8)))
    points.append((duration_s, emotion, _clamp(base * 0.6)))
    out: dict[float, tuple[float, str, float]] = {}
    for t, e, i in points:
        t = round(min(max(t, 0.0), duration_s), 3)
        out[t] = (t, e, i)  # the later rule wins at the same instant
    return [out[t] for t in sorted(out)]
