"""Voices without a project: speak text to a WAV with word timings, list voices and archetypes."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.planner.offline import emotion_for
from personaforge.backends.tts import director
from personaforge.commands.init import make_persona
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.specs import Persona
from personaforge.core.yamlio import load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text
from personaforge.stages.speak import make_backend, voice_text


@dataclass
class SpokenText:
    wav: Path
    timings: Path
    duration_s: float
    words: int
    backend: str

    def as_json(self) -> dict[str, object]:
        return {
            "audio": str(self.wav),
            "timings": str(self.timings),
            "duration_s": self.duration_s,
            "words": self.words,
            "backend": self.backend,
        }


def persona_for(
    persona_file: Path | None, archetype: str | None, backend: str | None = None
) -> Persona:
    """The persona from a persona.yaml, or an archetype's preset (narrator by default)."""
    if persona_file is not None:
        if archetype is not None:
            raise PersonaForgeError("give --persona or --archetype, not both")
        persona = load_model(Persona, persona_file)
        if backend and backend != persona.voice.backend:
            raise PersonaForgeError(
                f"the persona speaks with {persona.voice.backend}, not {backend}",
                file=persona_file,
                field="voice.backend",
            )
        return persona
    return make_persona("Speaker", archetype or "narrator", backend=backend or "piper")


def speak_text(
    text: str,
    out: Path,
    persona: Persona,
    *,
    env: Mapping[str, str] | None = None,
    language: str | None = None,
) -> SpokenText:
    """Voice ``text`` as ``persona`` into ``out`` (WAV) and its timings into ``out``.json,
    in ``language`` (default: the persona's, else English)."""
    if not text.strip():
        raise PersonaForgeError("there is no text to speak")
    if out.suffix.lower() != ".wav":
        raise PersonaForgeError("the output must be a .wav file", file=out)
    env = dict(os.environ) if env is None else env
    language = language or persona.language or "en"
    tts = make_backend(persona, env=env, state_dir=None, language=language)
    tts.check()
    direction = director.direct(
        persona,
        text,
        emotion=emotion_for(text),
        kind="talking",
        backend=tts.name,
        language=language,
    )
    voiced = voice_text(tts, direction, label="the text")
    out.parent.mkdir(parents=True, exist_ok=True)
    voiced.write_wav(out)
    timings = out.with_suffix(".json")
    record = {
        "audio": out.name,
        "sample_rate": voiced.sample_rate,
        "duration_s": round(voiced.duration_s, 4),
        "text": text,
        "spoken": voiced.spoken,
        "backend": tts.name,
        "language": language,
        "words": [w.model_dump() for w in voiced.words],
        "visemes": [v.model_dump() for v in voiced.visemes],
        "emotion_curve": [p.model_dump() for p in voiced.emotion_curve],
        "delivery": direction.delivery,
        "billing": [b.model_dump(exclude_none=True) for b in voiced.billing],
    }
    atomic_write_text(timings, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return SpokenText(out, timings, round(voiced.duration_s, 4), len(voiced.words), tts.name)


def list_voices(
    backend: str = "piper", env: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """The voices ``backend`` offers: the bundled ones offline, the account's in the cloud."""
    registry.resolve("speak", backend)  # a clear error for an unknown or uninstalled backend
    if backend == "piper":
        from personaforge.backends.tts.piper import list_voices as piper_voices

        return piper_voices()
    if backend == "espeak":
        from personaforge.backends.tts.espeak import list_voices as espeak_voices

        return espeak_voices()
    from personaforge.backends.tts.elevenlabs import ElevenLabsTTS

    return ElevenLabsTTS(env=dict(os.environ) if env is None else env).voices()


def list_archetypes() -> dict[str, dict[str, object]]:
    return {name: a.as_json() for name, a in ARCHETYPES.items()}
