"""speak: text to speech per shot, with word timings and visemes, cached per shot."""

from __future__ import annotations

import math
import wave
from pathlib import Path
from typing import Any

from personaforge.backends import registry
from personaforge.core.models import (
    FPS,
    PlanManifest,
    SpeechManifest,
    SpokenShot,
    VisemeKey,
    Word,
)
from personaforge.core.yamlio import dump_model
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.stages.common import (
    Context,
    StageResult,
    load_recorded,
    read_shot_record,
    recorded_fields,
    require_upstream,
    why_rerun,
    write_shot_record,
)

SPEECH_DIR = "speech"


def backend(ctx: Context) -> Any:
    name = ctx.video.backends.speak or ctx.persona.voice.backend
    cls = registry.resolve("speak", name)
    return cls(voice=ctx.persona.voice.voice, speed=ctx.persona.voice.speed)


def voice_key(tts: Any) -> str:
    return canonical_hash({"backend": tts.name, **tts.settings_key()})


def inputs(ctx: Context, plan_key: str, tts: Any | None = None) -> dict[str, str]:
    tts = tts or backend(ctx)
    return {"plan": plan_key, "voice": voice_key(tts)}


def frames_for(duration_s: float, fps: int = FPS) -> int:
    return max(1, math.ceil(duration_s * fps - 1e-6))


def run(ctx: Context) -> StageResult:
    project = ctx.project
    plan = require_upstream(PlanManifest, project, "speak", "plan")
    path = project.manifest_path("speak")
    tts = backend(ctx)
    ins = inputs(ctx, plan.key, tts)
    previous = load_recorded(SpeechManifest, path)
    reason = why_rerun(project, previous, ins, force=ctx.force)
    if reason is None:
        assert previous is not None
        return StageResult("speak", path, False, "up to date", shots=len(previous.shots))

    folder = project.build / SPEECH_DIR
    vkey = voice_key(tts)
    shots: list[SpokenShot] = []
    reused = 0
    sample_rate = 0
    ctx.progress.start("speaking", total=len(plan.shots))
    for shot in plan.shots:
        key = canonical_hash({"text": shot.text, "voice": vkey})
        wav = folder / f"{key[:24]}.wav"
        record_path = wav.with_suffix(".json")
        record = None if ctx.force else read_shot_record(SpokenShot, record_path)
        if record is not None and record.key == key and _intact(wav, record.audio_sha256):
            reused += 1
        else:
            record = _synthesize(ctx, tts, shot.text, key, wav)
            write_shot_record(record, record_path)
        sample_rate = sample_rate or _rate(wav)
        shots.append(record.model_copy(update={"id": shot.id}))
        ctx.progress.advance()
    ctx.progress.finish()

    manifest = SpeechManifest(
        **recorded_fields(ins, tts.name, tts.version),
        plan_key=plan.key,
        sample_rate=sample_rate,
        shots=shots,
    )
    dump_model(manifest, path)
    return StageResult("speak", path, True, reason, shots=len(shots), reused=reused)


def _intact(path: Path, sha: str) -> bool:
    return path.is_file() and sha256_file(path) == sha


def _rate(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getframerate()


def _synthesize(ctx: Context, tts: Any, text: str, key: str, wav: Path) -> SpokenShot:
    speech = tts.synthesize(text)
    with atomic_path(wav) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(speech.sample_rate)
        w.writeframes(speech.samples)
    duration = len(speech.samples) / 2 / speech.sample_rate
    return SpokenShot(
        id="",
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
