"""lipsync: a silent clip per shot (a talking head, or a title card), cached per shot."""

from __future__ import annotations

from typing import Any

from personaforge.backends import registry
from personaforge.backends.base import AnimationRequest
from personaforge.core.models import (
    FPS,
    Clip,
    LipsyncManifest,
    PlanManifest,
    SpeechManifest,
    SpokenShot,
)
from personaforge.core.yamlio import dump_model
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.media.titlecard import render_title_card
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

CLIP_DIR = "clips"
TITLE_CARD_VERSION = "1"


def backend(ctx: Context) -> Any:
    return registry.resolve("lipsync", ctx.video.backends.lipsync)()


def inputs(ctx: Context, speech_key: str, animator: Any | None = None) -> dict[str, str]:
    animator = animator or backend(ctx)
    w, h = ctx.project.frame_size(ctx.video)
    return {
        "speech": speech_key,
        "look": canonical_hash(ctx.persona.look.model_dump(mode="json")),
        "frame": f"{w}x{h}@{FPS}",
        "lipsync": f"{animator.name}@{animator.version}",
        "title_card": TITLE_CARD_VERSION,
    }


def run(ctx: Context) -> StageResult:
    project = ctx.project
    speech = require_upstream(SpeechManifest, project, "lipsync", "speak")
    plan = require_upstream(PlanManifest, project, "lipsync", "plan")
    path = project.manifest_path("lipsync")
    animator = backend(ctx)
    ins = inputs(ctx, speech.key, animator)
    previous = load_recorded(LipsyncManifest, path)
    reason = why_rerun(project, previous, ins, force=ctx.force)
    if reason is None:
        assert previous is not None
        return StageResult("lipsync", path, False, "up to date", shots=len(previous.shots))

    kinds = {s.id: s for s in plan.shots}
    width, height = project.frame_size(ctx.video)
    folder = project.build / CLIP_DIR
    clips: list[Clip] = []
    reused = 0
    for index, spoken in enumerate(speech.shots):
        planned = kinds.get(spoken.id)
        kind = planned.kind if planned else "talking"
        emotion = planned.emotion if planned else "neutral"
        camera = planned.camera if planned else "static"
        key = canonical_hash(
            {
                "kind": kind,
                "audio": spoken.audio_sha256,
                "text": spoken.text,
                "frames": spoken.frames,
                "emotion": emotion,
                "camera": camera,
                "look": ins["look"],
                "frame": ins["frame"],
                "backend": ins["lipsync"] if kind == "talking" else ins["title_card"],
            }
        )
        out = folder / f"{key[:24]}.mp4"
        record_path = out.with_suffix(".json")
        record = None if ctx.force else read_shot_record(Clip, record_path)
        if (
            record is not None
            and record.key == key
            and out.is_file()
            and sha256_file(out) == record.clip_sha256
        ):
            reused += 1
        else:
            ctx.progress.log(f"lipsync: shot {index + 1}/{len(speech.shots)} ({kind})")
            with atomic_path(out) as tmp:
                if kind == "title":
                    render_title_card(
                        spoken.text, ctx.persona.look, width=width, height=height, fps=FPS,
                        frames=spoken.frames, out=tmp, progress=ctx.progress,
                    )  # fmt: skip
                else:
                    animator.render(_request(ctx, spoken, width, height, emotion, camera, key),
                                    project.root / spoken.audio, tmp, ctx.progress)  # fmt: skip
            record = Clip(
                id=spoken.id,
                key=key,
                kind=kind,
                clip=project.rel(out),
                clip_sha256=sha256_file(out),
                frames=spoken.frames,
            )
            write_shot_record(record, record_path)
        clips.append(record.model_copy(update={"id": spoken.id}))

    manifest = LipsyncManifest(
        **recorded_fields(ins, animator.name, animator.version),
        speech_key=speech.key,
        width=width,
        height=height,
        shots=clips,
    )
    dump_model(manifest, path)
    return StageResult("lipsync", path, True, reason, shots=len(clips), reused=reused)


def _request(
    ctx: Context, spoken: SpokenShot, width: int, height: int, emotion: str, camera: str, key: str
) -> AnimationRequest:
    return AnimationRequest(
        look=ctx.persona.look,
        width=width,
        height=height,
        fps=FPS,
        frames=spoken.frames,
        visemes=[(v.t, v.v) for v in spoken.visemes],
        emotion=emotion,
        camera=camera,
        seed=int(key[:8], 16),
    )
