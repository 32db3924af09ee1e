"""lipsync: each shot's picture (a talking head, or a title card) with its captions, encoded
once in final quality as a segment that render joins by stream copy; cached per shot."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from personaforge.backends.base import (
    AnimationRequest,
    FrameSource,
    LipsyncBackend,
    Yuv420Source,
)
from personaforge.backends.cloud import concurrency, run_bounded
from personaforge.core.colour import hex_rgb
from personaforge.core.manifests import (
    CARD_KINDS,
    PERSONA_KINDS,
    Clip,
    LipsyncManifest,
    SpeechManifest,
    SpokenShot,
)
from personaforge.core.specs import FPS
from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_text, canonical_hash, sha256_file
from personaforge.media import compose, ffmpeg
from personaforge.media.encoding import segment_settings_key
from personaforge.media.filtergraph import ClipFile, FramePipe
from personaforge.progress import NullProgress, Progress, StageBar
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    record,
    recorded_fields,
    reusable_shots,
    save_shot,
)
from personaforge.runtime.graph import current
from personaforge.runtime.work import ShotWork, StageWork
from personaforge.stages.parts import brandkit, faces, joins, segments

CLIP_DIR = segments.CLIP_DIR
# What a clip-returning backend made, before captions: kept apart so a caption change
# re-encodes the segment without paying the backend again.
SOURCE_DIR = "clips/source"
TITLE_CARD_VERSION = "4"  # 4: drawn by Pillow (media/cards.py), wrapped and fitted
# Bump when b-roll, picture-in-picture or quote cards are drawn differently.
KINDS_VERSION = "1"


def backend(ctx: Context, *, keyless: bool = False) -> LipsyncBackend:
    return faces.backend(ctx, keyless=keyless)


def inputs(ctx: Context) -> dict[str, str]:
    speech = current(ctx, SpeechManifest, "speak")
    shot = shot_inputs(ctx)
    return {
        "speech": speech.content_hash(),
        **{k: shot[k] for k in ("look", "frame", "lipsync", "title_card")},
        "broll": _broll_hash(ctx, speech),
        "brand": joins.brand_key(brandkit.load(ctx), ctx),
        "captions": canonical_hash(ctx.video.captions.model_dump(mode="json")),
        "segment": shot["segment"],
        "ffmpeg": shot["ffmpeg"],
    }


def shot_inputs(ctx: Context) -> dict[str, str]:
    """The inputs a shot's segment key reads (segment_work), known before the speech is."""
    w, h = ctx.project.frame_size(ctx.video)
    return {
        "look": faces.look_hash(ctx),
        "frame": f"{w}x{h}@{FPS}",
        # Named without building the backend, so `status` needs no cloud key.
        "lipsync": faces.backend_id(ctx),
        "title_card": TITLE_CARD_VERSION,
        "segment": segment_settings_key(ctx.video.quality, w, h, FPS),
        "ffmpeg": ffmpeg.ffmpeg_exe().rsplit("/", 1)[-1],
    }


def make(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    speech = current(ctx, SpeechManifest, "speak")
    animator = backend(ctx, keyless=True)
    width, height = ctx.project.frame_size(ctx.video)
    clips: list[Clip] = []
    reused = 0
    kit = brandkit.load(ctx)
    cuts = joins.transition_plan(ctx, speech.shots)
    plans, made = segment_work(ctx, ins, speech.shots, kit=kit)
    # The segments made already, by key; the loop below adds each one it makes, so a repeated
    # shot is made once.
    segments = {p.key: segment for p, segment in zip(plans, made, strict=True) if segment}
    todo = [p for p, segment in zip(plans, made, strict=True) if segment is None]
    paid = [] if isinstance(animator, FrameSource) else _clips_to_make(ctx, todo, width, height)
    if paid and isinstance(animator, faces.Keyless):
        raise animator.error  # before any work: a clip must be paid for, and can't be
    _prefetch_sources(ctx, animator, paid, width, height)
    # One bar for the stage; each shot's encode moves it within that shot's step.
    bar = StageBar(ctx.progress, "lipsync", total=len(plans))
    outer, ctx = ctx, dataclasses.replace(ctx, progress=bar)
    for spoken, animation, ass, key, (keep_in, keep_out) in plans:
        out = _segment_path(ctx, key)
        clip = segments.get(key)
        if clip is None:
            ass_path = None
            if ass is not None:
                ass_path = out.with_suffix(".ass")
                atomic_write_text(ass_path, ass)
            pieces = {
                path: frames
                for path, frames in (
                    (joins.piece(out, "head"), keep_in),
                    (joins.piece(out, "tail"), keep_out),
                )
                if frames
            }
            with contextlib.ExitStack() as stack:
                tmp = {path: stack.enter_context(atomic_path(path)) for path in pieces}
                head = (keep_in, tmp[joins.piece(out, "head")]) if keep_in else None
                tail = (keep_out, tmp[joins.piece(out, "tail")]) if keep_out else None
                billing = _encode_segment(
                    ctx, animator, spoken, animation, width, height, ass_path, out, head, tail
                )
            source = None  # the paid clip the segment was made from, if any
            if spoken.kind in PERSONA_KINDS and not isinstance(animator, FrameSource):
                made_from = _framed_source_key(spoken.kind, animation, width, height)
                source = ctx.project.rel(_source_path(ctx, made_from))
            clip = _made(
                ctx, spoken, key, out, billing,
                pieces={ctx.project.rel(p): sha256_file(p) for p in pieces}, source=source,
            )  # fmt: skip
            segments[key] = clip
        else:
            reused += 1
        clips.append(clip.model_copy(update={"id": spoken.id}))
        bar.shot_done()
    try:
        # Transitions and bumpers finish the last step of the same bar.
        joined = joins.join(ctx, clips, cuts, ins)
        intro = joins.bumper(ctx, kit, "intro", width, height, ins)
        outro = joins.bumper(ctx, kit, "outro", width, height, ins)
    finally:
        bar.close()
    ctx = outer
    manifest = LipsyncManifest(
        **recorded_fields(ins, animator.name, animator.version),
        width=width,
        height=height,
        shots=clips,
        segments=[*intro, *joined, *outro],
        intro_frames=sum(s.frames for s in intro),
    )
    path = record(ctx, "lipsync", manifest)
    return StageResult("lipsync", path, True, reason, shots=len(clips), reused=reused)


def segment_work(
    ctx: Context,
    ins: dict[str, str],
    shots: Sequence[SpokenShot],
    *,
    kit: brandkit.BrandKit | None = None,
    fetch: bool = True,
) -> tuple[list[_ShotPlan], list[Clip | None]]:
    """What the stage would make: each shot's segment plan (its key says everything that
    changes its pixels) and the segment already made for it (here, or in the shared cache,
    several asked at a time; fetched only with ``fetch``), None where it must be made. The
    stage runs this; ``estimate`` reads it (with fetch=False) to count the shots reused."""
    width, height = (int(n) for n in ins["frame"].split("@")[0].split("x"))
    kit = brandkit.load(ctx) if kit is None else kit
    cuts = joins.transition_plan(ctx, list(shots))
    plans = [
        _plan_shot(ctx, ins, kit, cuts, index, spoken, width, height)
        for index, spoken in enumerate(shots)
    ]
    records = [(_segment_path(ctx, p.key).with_suffix(".json"), p.key) for p in plans]
    return plans, reusable_shots(ctx, Clip, records, fetch=fetch)


def animation_key(spoken: SpokenShot, ins: Mapping[str, str]) -> str:
    """What the animator is asked to make for a shot (``ins``: the stage's inputs, of which
    ``look``, ``frame``, ``lipsync`` and ``title_card`` count)."""
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
            "backend": _drawn_by(spoken.kind, ins),
        }
    )


def source_clips(
    ctx: Context, spoken: Mapping[int, SpokenShot], ins: Mapping[str, str]
) -> dict[int, tuple[str, bool]]:
    """For each shot (by index) made from a clip-returning (paid) backend's clip: that clip's
    key, and whether it is made already, so that estimates count only the clips a run would
    pay for, each once."""
    width, height = (int(n) for n in ins["frame"].split("@")[0].split("x"))
    persona = [(i, s) for i, s in spoken.items() if s.kind in PERSONA_KINDS]
    keys = [_framed_source_key(s.kind, animation_key(s, ins), width, height) for _, s in persona]
    made = _made_sources(ctx, keys, fetch=False)
    return {
        i: (key, clip is not None) for (i, _), key, clip in zip(persona, keys, made, strict=True)
    }


def _clip_size(kind: str, width: int, height: int) -> tuple[int, int]:
    """The size a clip is asked for: a picture-in-picture inset's, or the frame's."""
    return compose.inset_size(width, height) if kind == "pip" else (width, height)


def _source_key(animation: str, width: int, height: int) -> str:
    """A clip-returning backend's clip is made (and paid for) once per animation and size."""
    return canonical_hash({"animation": animation, "size": [width, height]})


def _framed_source_key(kind: str, animation: str, width: int, height: int) -> str:
    """The key of the clip a shot of ``kind`` is made from, in a ``width`` x ``height``
    frame (the clip is asked for at its own size there)."""
    return _source_key(animation, *_clip_size(kind, width, height))


def _source_path(ctx: Context, key: str) -> Path:
    return ctx.project.build / SOURCE_DIR / f"{key[:24]}.mp4"


def _made_sources(ctx: Context, keys: list[str], *, fetch: bool = True) -> list[Clip | None]:
    """The clip-returning backend's clips made from ``keys``, each if it is made (here, or in
    the shared cache: fetched, or without ``fetch`` only asked for)."""
    records = [(_source_path(ctx, key).with_suffix(".json"), key) for key in keys]
    return reusable_shots(ctx, Clip, records, fetch=fetch)


class _ShotPlan(NamedTuple):
    spoken: SpokenShot
    animation: str  # what the animator is asked for
    ass: str | None  # the captions burned into the segment
    key: str  # the segment's key
    keep: tuple[int, int]  # frames kept apart for the transitions in and out


def _plan_shot(
    ctx: Context,
    ins: dict[str, str],
    kit: brandkit.BrandKit,
    cuts: list[tuple[str, int]],
    index: int,
    spoken: SpokenShot,
    width: int,
    height: int,
) -> _ShotPlan:
    # Frames kept apart for the transitions into and out of this shot.
    keep_in = cuts[index][1]
    keep_out = cuts[index + 1][1] if index + 1 < len(cuts) else 0
    # What the animator (a paid cloud backend, maybe) is asked for: nothing of the brand,
    # the b-roll or the captions, so changing those never pays for the persona again.
    animation = animation_key(spoken, ins)
    picture = canonical_hash(
        {
            "animation": animation,
            "broll": _broll_sha(ctx, spoken),
            "strap": [spoken.name, spoken.role],
            "kinds": KINDS_VERSION,
            "brand": kit.look_key(),
        }
    )
    # A card's words are on it already: its speech is captioned in the .vtt/.srt only.
    cards = spoken.kind in CARD_KINDS
    cues = [] if cards else segments.cues_for(spoken, FPS, ctx.video.captions, width, height)
    strap = (spoken.name or "", spoken.role) if spoken.kind == "lower_third" else None
    looks = ctx.video.captions
    if spoken.captions is not None:
        looks = looks.model_copy(update={"style": spoken.captions})
    # Title and quote cards are text already: the director's on-screen text goes on the
    # shots with a picture.
    headline = spoken.on_screen_text if spoken.kind not in CARD_KINDS else None
    ass = segments.ass_for(
        cues, looks, width, height, strap=strap, headline=headline, end=spoken.frames / FPS,
        kit=kit, language=segments.language_of(spoken),
    )  # fmt: skip
    # Everything that changes the segment's pixels: its picture, the captions burned into
    # it (text, timing, style, size) and how segments are encoded.
    key = canonical_hash(
        {
            "picture": picture,
            "ass": ass or "",
            "encoder": ins["segment"],
            "ffmpeg": ins["ffmpeg"],
            "keep": [keep_in, keep_out],
        }
    )
    return _ShotPlan(spoken, animation, ass, key, (keep_in, keep_out))


def _clips_to_make(
    ctx: Context, plans: list[_ShotPlan], width: int, height: int
) -> list[_ShotPlan]:
    """Of the shots whose segment must be made, those made from a clip-returning backend's
    clip that is not made yet: the clips a run would pay for."""
    persona: dict[str, _ShotPlan] = {}  # by the clip's key: a repeated shot is paid for once
    for p in plans:
        if p.spoken.kind in PERSONA_KINDS:
            key = _framed_source_key(p.spoken.kind, p.animation, width, height)
            persona.setdefault(key, p)
    made = _made_sources(ctx, list(persona))
    return [p for p, clip in zip(persona.values(), made, strict=True) if clip is None]


def _segment_path(ctx: Context, key: str) -> Path:
    return ctx.project.build / CLIP_DIR / f"{key[:24]}.mp4"


def _prefetch_sources(
    ctx: Context, animator: LipsyncBackend, todo: list[_ShotPlan], width: int, height: int
) -> None:
    """A remote backend's clips still to make (``todo``), several at a time (each recorded as
    it arrives), so the loop that encodes the segments finds them made."""
    env = ctx.environment()
    limit = concurrency(env)
    if len(todo) < 2 or limit < 2:
        return
    ctx.progress.log(f"lipsync: {len(todo)} clips from {animator.name}, up to {limit} at a time")

    def make(p: _ShotPlan) -> Clip:
        w, h = _clip_size(p.spoken.kind, width, height)
        request = _request(ctx, p.spoken, w, h, p.animation)
        # Progress bars are not shared between threads: each job reports nothing.
        return _source_clip(ctx, animator, p.spoken, request, p.animation, NullProgress())

    run_bounded([lambda p=p: make(p) for p in todo], limit)  # type: ignore[misc]


def _encode_segment(
    ctx: Context,
    animator: LipsyncBackend,
    spoken: SpokenShot,
    animation: str,
    width: int,
    height: int,
    ass: Path | None,
    out: Path,
    head: tuple[int, Path] | None = None,
    tail: tuple[int, Path] | None = None,
) -> list[Billing]:
    """Encode the shot's segment once: a frame source is piped straight into it, a title card
    drawn into it, and a clip-returning backend's clip (cached apart) decoded into it."""
    size: dict[str, Any] = {
        "width": width, "height": height, "fps": FPS, "frames": spoken.frames,
        "head": head, "tail": tail, "kit": brandkit.load(ctx), "quality": ctx.video.quality,
    }  # fmt: skip
    with atomic_path(out) as tmp:
        if spoken.kind in CARD_KINDS:
            quote = (spoken.name or "") if spoken.kind == "quote" else None
            segments.encode_title(
                spoken.text, ctx.persona.look, quote=quote, **size, ass=ass, out=tmp,
                progress=ctx.progress, language=segments.language_of(spoken),
            )  # fmt: skip
            return []
        if spoken.kind == "broll":
            pixels = compose.broll_frames(
                _broll_path(ctx, spoken), width, height, spoken.frames, FPS
            )
            segments.encode(
                FramePipe(), **size, ass=ass, out=tmp, progress=ctx.progress, pixels=pixels
            )
            return []
        if spoken.kind == "pip":
            inset_w, inset_h = compose.inset_size(width, height)
            persona, billing = _persona_frames(ctx, animator, spoken, animation, inset_w, inset_h)
            background = compose.broll_frames(
                _broll_path(ctx, spoken), width, height, spoken.frames, FPS
            )
            pixels = compose.picture_in_picture(
                background, persona, width=width, height=height, inset_w=inset_w,
                inset_h=inset_h, border=hex_rgb(size["kit"].accent),
            )  # fmt: skip
            segments.encode(
                FramePipe(), **size, ass=ass, out=tmp, progress=ctx.progress, pixels=pixels
            )
            return billing
        request = _request(ctx, spoken, width, height, animation)
        audio = ctx.project.root / spoken.audio
        if isinstance(animator, FrameSource):
            if isinstance(animator, Yuv420Source) and width % 2 == 0 and height % 2 == 0:
                pipe, pixels = FramePipe("yuv420p"), animator.frames_yuv420p(request, audio)
            else:
                pipe, pixels = FramePipe(), animator.frames(request, audio)
            segments.encode(pipe, **size, ass=ass, out=tmp, progress=ctx.progress, pixels=pixels)
            return []
        source = _source_clip(ctx, animator, spoken, request, animation)
        segments.encode(
            ClipFile(ctx.project.root / source.clip), **size, ass=ass, out=tmp,
            progress=ctx.progress,
        )  # fmt: skip
        return source.billing


def check_media(ctx: Context) -> None:
    """The brand's files, and the b-roll the script names, exist: checked before any work."""
    from personaforge.backends.planner.offline import blocks

    brandkit.load(ctx)
    try:
        script = ctx.project.script_text(ctx.video)
    except PersonaForgeError:
        return  # plan reports a missing or unreadable script, as the first stage to read it
    for block in blocks(script):
        if block.media is not None and not ctx.project.path(block.media).is_file():
            raise PersonaForgeError(
                f"b-roll file {block.media!r} not found",
                file=ctx.project.root / (ctx.video.script or ctx.project.video_path.name),
                hint="put the image or video in the project folder, at the path the script names",
            )


def _persona_frames(
    ctx: Context,
    animator: LipsyncBackend,
    spoken: SpokenShot,
    animation: str,
    width: int,
    height: int,
) -> tuple[Iterator[bytes], list[Billing]]:
    """The persona's frames at ``width`` x ``height`` (the picture-in-picture inset)."""
    request = _request(ctx, spoken, width, height, animation)
    audio = ctx.project.root / spoken.audio
    if isinstance(animator, FrameSource):
        return animator.frames(request, audio), []
    source = _source_clip(ctx, animator, spoken, request, animation)
    clip = ctx.project.root / source.clip
    return compose.video_frames(clip, width, height, spoken.frames, FPS), source.billing


def _drawn_by(kind: str, ins: Mapping[str, str]) -> str:
    if kind in PERSONA_KINDS:
        return ins["lipsync"]
    return ins["title_card"]


def _broll_path(ctx: Context, spoken: SpokenShot) -> Path:
    if spoken.broll is None:
        raise PersonaForgeError(f"{spoken.id}: a {spoken.kind} shot needs a b-roll file")
    path = ctx.project.path(spoken.broll)
    if not path.is_file():
        raise PersonaForgeError(
            f"b-roll file {spoken.broll!r} not found (shot {spoken.id})",
            file=ctx.project.root / (ctx.video.script or "video.yaml"),
            hint="put the image or video in the project folder, at the path the script names",
        )
    return path


def _broll_sha(ctx: Context, spoken: SpokenShot) -> str:
    if spoken.kind not in ("broll", "pip"):
        return ""
    return sha256_file(_broll_path(ctx, spoken))


def _broll_hash(ctx: Context, speech: SpeechManifest) -> str:
    """Every b-roll file's content: a changed photo re-renders its shot. Checked before any
    work, so a missing file stops the run at once."""
    return canonical_hash([_broll_sha(ctx, s) for s in speech.shots])


def _source_clip(
    ctx: Context,
    animator: LipsyncBackend,
    spoken: SpokenShot,
    request: AnimationRequest,
    animation: str,
    progress: Progress | None = None,
) -> Clip:
    """A clip-returning backend's clip for the shot, made (and paid for) once per animation
    and size (a picture-in-picture inset is asked for at its own size)."""
    key = _source_key(animation, request.width, request.height)
    out = _source_path(ctx, key)
    found = _made_sources(ctx, [key])[0]
    if found is not None:
        return found
    with atomic_path(out) as tmp:
        # Conformed to the shot's exact frames, size and rate, silent, whatever came back.
        audio = ctx.project.root / spoken.audio
        billing = faces.render_clip(animator, request, audio, tmp, progress or ctx.progress)
    return _made(ctx, spoken, key, out, billing)


def _made(
    ctx: Context, spoken: SpokenShot, key: str, out: Path, billing: list[Billing], **extra: Any
) -> Clip:
    """Record a clip just made at ``out`` (from ``key``) beside it, and share it."""
    clip = Clip(
        id=spoken.id,
        key=key,
        kind=spoken.kind,
        clip=ctx.project.rel(out),
        clip_sha256=sha256_file(out),
        frames=spoken.frames,
        billing=billing,
        **extra,
    )
    save_shot(ctx, clip, out.with_suffix(".json"))
    return clip


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
        extra=faces.debug_extra(ctx, spoken),
    )


# ---------------------------------------------------------------- the plan of work

# Measured (bench/render_bench.py and bench/estimate_bench.py on the 2-core development
# machine, unloaded): drawing and x264-encoding a segment, per frame plus per frame per
# megapixel; around the segments, the soundtrack (loudness passes and AAC, per second of video)
# and the join, made once a run has any segment to make.
SEGMENT_S_PER_FRAME = 0.0017
SEGMENT_S_PER_FRAME_MPX = 0.005
LIPSYNC_S = 0.3
LIPSYNC_S_PER_S = 0.02


def _draft_speech(
    shots: Sequence[ShotWork], spoken: Mapping[int, SpokenShot], planned: Sequence[Any]
) -> list[SpokenShot]:
    """The speech as it would be: the takes made, and those still to speak standing in with
    their estimated length (new audio: a new segment)."""
    return [
        spoken[i]
        if i in spoken
        else SpokenShot.model_construct(
            **shot.model_dump(),
            key="",
            spoken=shot.text,
            audio="",
            audio_sha256=f"not made yet: {i}",
            duration_s=shots[i].seconds,
            frames=max(1, round(shots[i].seconds * FPS)),
            words=[],
            visemes=[],
        )
        for i, shot in enumerate(planned)
    ]


def _segments_to_make(ctx: Context, draft: list[SpokenShot]) -> dict[int, str]:
    """The shots (by index) whose segment the stage would make, each key once (segment_work,
    the call the stage runs), and why; or every shot where it cannot tell (the run will say
    what is wrong)."""
    try:
        plans, made = segment_work(ctx, shot_inputs(ctx), draft, fetch=False)
    except PersonaForgeError:
        return {i: "cannot check" for i in range(len(draft))}
    first: dict[str, int] = {}
    out: dict[int, str] = {}
    for i, (plan, segment) in enumerate(zip(plans, made, strict=True)):
        if segment is None and first.setdefault(plan.key, i) == i:
            out[i] = "new audio" if draft[i].audio_sha256.startswith("not made") else "new segment"
    return out


def _repeats(identity: Mapping[int, str]) -> set[int]:
    """The shots (by index) whose identity an earlier shot has: made (and paid for) once."""
    first: dict[str, int] = {}
    return {i for i, key in sorted(identity.items()) if first.setdefault(key, i) != i}


def _clips_not_to_pay(
    ctx: Context, planned: Sequence[Any], spoken: Mapping[int, SpokenShot], takes: Mapping[int, str]
) -> set[int]:
    """Shots (by index) whose paid clip is already made, or made for an earlier shot in the
    run: keyed as the stage keys them (source_clips) where the speech is known, else by the
    take and what else the clip is asked to show."""
    identity = {
        i: canonical_hash([takes[i], shot.kind, shot.emotion, shot.camera])
        for i, shot in enumerate(planned)
        if i in takes and i not in spoken and shot.kind in PERSONA_KINDS
    }
    made: set[int] = set()
    if spoken:
        w, h = ctx.project.frame_size(ctx.video)
        try:
            ins = {
                "look": faces.look_hash(ctx),
                "frame": f"{w}x{h}@{FPS}",
                "lipsync": faces.backend_id(ctx),
                "title_card": TITLE_CARD_VERSION,
            }
        except PersonaForgeError:
            return _repeats(identity)
        for i, (key, done) in source_clips(ctx, spoken, ins).items():
            identity[i] = key
            if done:
                made.add(i)
    return made | _repeats(identity)


def work(ctx: Context, reason: str | None, before: Mapping[str, StageWork]) -> StageWork:
    """What lip-sync would do: per shot, its segment reused or made (and why), a paid
    backend's clip paid for only where no clip for it is made; the time to draw and encode
    what is made, and to wait for a hosted model."""
    from personaforge.backends import registry

    runs = reason is not None
    speech = before["speak"]
    spoken, takes = speech.draft
    planned = before["plan"].draft
    name = faces.backend_name(ctx)
    rates = registry.rates("lipsync", name)
    out = StageWork("lipsync", name, runs, reason or "up to date", paid=rates.paid)
    out.shots = [ShotWork(s.text, s.kind, s.seconds) for s in speech.shots]
    out.duration_s = speech.duration_s
    if not runs:
        return out
    segments = _segments_to_make(ctx, _draft_speech(out.shots, spoken, planned))
    clipped = _clips_not_to_pay(ctx, planned, spoken, takes) if rates.paid else set()
    for i, w in enumerate(out.shots):
        if i in segments:
            w.make, w.reason = True, segments[i]
            w.paid = rates.paid and w.kind in PERSONA_KINDS and i not in clipped
        else:
            w.reason = "segment made already"
    todo = out.to_make
    paid = [w.paid_shot() for w in todo if w.paid]
    out.bills = rates.bills(paid, {}) if rates.paid else []
    out.calls = len(paid)
    width, height = ctx.project.frame_size(ctx.video)
    mpx = width * height / 1e6
    frames = sum(w.seconds for w in todo) * FPS
    out.seconds = frames * (SEGMENT_S_PER_FRAME + SEGMENT_S_PER_FRAME_MPX * mpx)
    if todo:
        out.seconds += LIPSYNC_S + LIPSYNC_S_PER_S * out.duration_s
    # A hosted model is waited for per persona shot made (a clip reused is conformed only).
    talking = [w.paid_shot() for w in todo if w.kind in PERSONA_KINDS]
    out.seconds += rates.seconds(talking) if rates.paid else 0.0
    return out


STAGE = Stage("lipsync", LipsyncManifest, inputs, make, work=work)
