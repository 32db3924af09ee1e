"""speak: text to speech per shot, with word timings and visemes, cached per shot."""

from __future__ import annotations

import math
import wave
from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.base import TTSBackend
from personaforge.core.models import FPS, PlanManifest, SpeechManifest, SpokenShot, VisemeKey, Word
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.stages.common import (
    Context,
    StageResult,
    record,
    recorded_fields,
    reusable_shot,
    save_shot,
    skip_if_current,
)
from personaforge.stages.graph import current
from personaforge.text.normalize import NORMALIZE_VERSION

SPEECH_DIR = "speech"


def backend(ctx: Context) -> TTSBackend:
    name = ctx.video.backends.speak or ctx.persona.voice.backend
    cls = registry.resolve("speak", name)
    return cls(voice=ctx.persona.voice.voice, speed=ctx.persona.voice.speed)


def voice_key(tts: TTSBackend) -> str:
    # The text normaliser decides what is said, so its version is part of the voice.
    return canonical_hash(
        {"backend": tts.name, "normalize": NORMALIZE_VERSION, **tts.settings_key()}
    )


def inputs(ctx: Context) -> dict[str, str]:
    plan = current(ctx, PlanManifest, "plan")
    return {"plan": plan.content_hash(), "voice": voice_key(backend(ctx))}


def frames_for(duration_s: float, fps: int = FPS) -> int:
    return max(1, math.ceil(duration_s * fps - 1e-6))


def run(ctx: Context) -> StageResult:
    ins = inputs(ctx)
    skipped, reason = skip_if_current(ctx, "speak", SpeechManifest, ins)
    if skipped:
        return skipped
    plan = current(ctx, PlanManifest, "plan")
    tts = backend(ctx)
    vkey = voice_key(tts)
    folder = ctx.project.build / SPEECH_DIR
    shots: list[SpokenShot] = []
    reused = 0
    ctx.progress.start("speaking", total=len(plan.shots))
    for planned in plan.shots:
        key = canonical_hash({"text": planned.text, "voice": vkey})
        wav = folder / f"{key[:24]}.wav"
        shot = reusable_shot(ctx, SpokenShot, wav.with_suffix(".json"), key)
        if shot is None:
            shot = _synthesize(ctx, tts, planned.text, key, wav)
            save_shot(ctx, shot, wav.with_suffix(".json"))
        else:
            reused += 1
        # Kind, emotion and camera come from this plan, whatever shot first made the audio.
        shots.append(shot.model_copy(update=planned.model_dump()))
        ctx.progress.advance()
    ctx.progress.finish()
    manifest = SpeechManifest(
        **recorded_fields(ins, tts.name, tts.version),
        sample_rate=_rate(ctx.project.root / shots[0].audio),
        shots=shots,
    )
    path = record(ctx, "speak", manifest)
    return StageResult("speak", path, True, reason, shots=len(shots), reused=reused)


def _rate(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getframerate()


def _synthesize(ctx: Context, tts: TTSBackend, text: str, key: str, wav: Path) -> SpokenShot:
    speech = tts.synthesize(text)
    with atomic_path(wav) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(speech.sample_rate)
        w.writeframes(speech.samples)
    duration = len(speech.samples) / 2 / speech.sample_rate
    return SpokenShot(
        id="",
        kind="talking",
        key=key,
        text=text,
        spoken=speech.spoken,
        audio=ctx.project.rel(wav),
        audio_sha256=sha256_file(wav),
        duration_s=round(duration, 4),
        frames=frames_for(duration),
        words=[Word(text=w.text, start=w.start, end=w.end) for w in speech.words],
        visemes=[VisemeKey(t=t, v=v) for t, v in speech.visemes],
    )
