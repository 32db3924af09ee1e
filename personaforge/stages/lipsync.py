"""lipsync: a silent clip per shot (a talking head, or a title card), cached per shot."""

from __future__ import annotations

from personaforge.backends.base import AnimationRequest, LipsyncBackend
from personaforge.core.models import FPS, Clip, LipsyncManifest, SpeechManifest, SpokenShot
from personaforge.costs import Billing
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.media.titlecard import render_title_card
from personaforge.stages import faces
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

CLIP_DIR = "clips"
TITLE_CARD_VERSION = "2"


def backend(ctx: Context) -> LipsyncBackend:
    return faces.backend(ctx)


def inputs(ctx: Context) -> dict[str, str]:
    speech = current(ctx, SpeechManifest, "speak")
    w, h = ctx.project.frame_size(ctx.video)
    return {
        "speech": speech.content_hash(),
        "look": faces.look_hash(ctx),
        "frame": f"{w}x{h}@{FPS}",
        "lipsync": faces.backend_id(ctx),
        "title_card": TITLE_CARD_VERSION,
    }


def run(ctx: Context) -> StageResult:
    ins = inputs(ctx)
    skipped, reason = skip_if_current(ctx, "lipsync", LipsyncManifest, ins)
    if skipped:
        return skipped
    speech = current(ctx, SpeechManifest, "speak")
    animator = backend(ctx)
    width, height = ctx.project.frame_size(ctx.video)
    folder = ctx.project.build / CLIP_DIR
    clips: list[Clip] = []
    reused = 0
    keys = [_shot_key(spoken, ins) for spoken in speech.shots]
    # A remote backend's clips are made several at a time, before the loop below collects them.
    made = faces.prefetch(
        ctx,
        animator,
        [
            (s, folder / f"{k[:24]}.mp4", k)
            for s, k in zip(speech.shots, keys, strict=True)
            if s.kind == "talking"
        ],
        lambda spoken, key: _request(ctx, spoken, width, height, key),
    )
    for index, spoken in enumerate(speech.shots):
        key = keys[index]
        out = folder / f"{key[:24]}.mp4"
        clip = reusable_shot(ctx, Clip, out.with_suffix(".json"), key)
        if clip is None:
            ctx.progress.log(f"lipsync: shot {index + 1}/{len(speech.shots)} ({spoken.kind})")
            billing: list[Billing] = []
            with atomic_path(out) as tmp:
                if spoken.kind == "title":
                    render_title_card(
                        spoken.text, ctx.persona.look, width=width, height=height, fps=FPS,
                        frames=spoken.frames, out=tmp, progress=ctx.progress,
                    )  # fmt: skip
                else:
                    request = _request(ctx, spoken, width, height, key)
                    billing = faces.render_clip(
                        animator, request, ctx.project.root / spoken.audio, tmp, ctx.progress
                    )
            clip = Clip(
                id=spoken.id,
                key=key,
                kind=spoken.kind,
                clip=ctx.project.rel(out),
                clip_sha256=sha256_file(out),
                frames=spoken.frames,
                billing=billing,
            )
            save_shot(ctx, clip, out.with_suffix(".json"))
        elif key not in made:
            reused += 1
        clips.append(clip.model_copy(update={"id": spoken.id}))
    manifest = LipsyncManifest(
        **recorded_fields(ins, animator.name, animator.version),
        width=width,
        height=height,
        shots=clips,
    )
    path = record(ctx, "lipsync", manifest)
    return StageResult("lipsync", path, True, reason, shots=len(clips), reused=reused)


def _shot_key(spoken: SpokenShot, ins: dict[str, str]) -> str:
    return canonical_hash(
        {
            "kind": spoken.kind,
            "audio": spoken.audio_sha256,
            "visemes": canonical_hash([v.model_dump() for v in spoken.visemes]),
            "text": spoken.text,
            "frames": spoken.frames,
            "emotion": spoken.emotion,
            "emotion_curve": [p.model_dump() for p in spoken.emotion_curve],
            "camera": spoken.camera,
            "look": ins["look"],
            "frame": ins["frame"],
            "backend": ins["lipsync"] if spoken.kind == "talking" else ins["title_card"],
        }
    )


def _request(
    ctx: Context, spoken: SpokenShot, width: int, height: int, key: str
) -> AnimationRequest:
    return AnimationRequest(
        look=ctx.persona.look,
        width=width,
        height=height,
        fps=FPS,
        frames=spoken.frames,
        visemes=[(v.t, v.v) for v in spoken.visemes],
        emotion=spoken.emotion,
        camera=spoken.camera,
        seed=int(key[:8], 16),
        emotion_curve=[(p.t, p.emotion, p.intensity) for p in spoken.emotion_curve],
    )
