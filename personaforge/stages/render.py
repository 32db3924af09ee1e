"""render: join the shots' segments and the soundtrack (soundtrack.py: narration and music,
loudness-normalised in two passes) by stream copy; write the .vtt/.srt from the same cues,
the thumbnail and the chapters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

from PIL import Image, ImageOps

from personaforge.captions.cues import Cue, shift
from personaforge.captions.subtitles import to_srt, to_vtt
from personaforge.core.manifests import (
    LipsyncManifest,
    Output,
    PlanManifest,
    RenderManifest,
    Segment,
    SpeechManifest,
)
from personaforge.core.specs import spoken_language
from personaforge.delivery.chapters import youtube_chapters
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_text, canonical_hash, sha256_file
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.thumbnail import (
    THUMBNAIL_SIZES,
    make_thumbnail,
    persona_box,
    persona_frame,
)
from personaforge.progress import StageBar
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    record,
    recorded_fields,
)
from personaforge.runtime.graph import current
from personaforge.runtime.work import StageWork
from personaforge.stages.parts import brandkit, faces, soundtrack
from personaforge.stages.parts.segments import card_font, cues_for

RENDER_VERSION = "5"  # 5: the soundtrack is encoded apart and copied in
EXTRAS_VERSION = "4"  # the thumbnail and chapters (2: only where YouTube takes them; 3: thumbnails
# at their own size, the VTT language; 4: a bold-pop video's sidecar in line cues)
PHOTO_MAX_ENLARGE = 1.5  # a photo look's portrait, fitted to the thumbnail's persona box
WORK_DIR = soundtrack.WORK_DIR
music_hash = soundtrack.music_hash


def inputs(ctx: Context) -> dict[str, str]:
    lipsync = current(ctx, LipsyncManifest, "lipsync")
    speech = current(ctx, SpeechManifest, "speak")
    return {
        "lipsync": lipsync.content_hash(),
        "speech": speech.content_hash(),
        "title": canonical_hash(ctx.video.title),
        "captions": canonical_hash(ctx.video.captions.model_dump(mode="json")),
        "music": music_hash(ctx),
        "loudness": canonical_hash(ctx.video.loudness.model_dump(mode="json")),
        "format": ctx.video.format,
        "extras": EXTRAS_VERSION,
        "render": RENDER_VERSION,
        "ffmpeg": ffmpeg.ffmpeg_exe().rsplit("/", 1)[-1],
    }


def make(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    project = ctx.project
    lipsync = current(ctx, LipsyncManifest, "lipsync")
    speech = current(ctx, SpeechManifest, "speak")
    slug = current(ctx, PlanManifest, "plan").slug
    if [c.frames for c in lipsync.shots] != [s.frames for s in speech.shots]:
        # Never lay audio over clips timed for other audio.
        raise PersonaForgeError(
            "clips and speech disagree on shot lengths; run `personaforge lipsync --force`",
            file=project.manifest_path("lipsync"),
        )
    work = project.build / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fps = lipsync.fps
    layout = soundtrack.layout_of(lipsync, speech)
    duration = layout.frames / fps
    width, height = lipsync.width, lipsync.height
    cues = _cues(ctx, speech, width, height, lipsync.intro_frames)
    pieces = lipsync.segments or [
        Segment(path=c.clip, sha256=c.clip_sha256, frames=c.frames) for c in lipsync.shots
    ]
    listing = [(f"../{s.path.removeprefix('build/')}", s.frames / fps) for s in pieces]
    atomic_write_text(work / "segments.txt", filtergraph.concat_list(listing))
    video = project.build / f"{slug}.mp4"
    # One bar for the stage: the soundtrack (made already, when make-video ran), then the
    # video assembled from the segments and the soundtrack, both copied.
    bar = StageBar(ctx.progress, "render", total=2)
    outer, ctx = ctx, dataclasses.replace(ctx, progress=bar)
    track = soundtrack.prepare(ctx, speech, layout, bar)
    bar.shot_done()
    with atomic_path(video) as tmp:
        ffmpeg.run(
            filtergraph.assembly_args(
                (work / "segments.txt").resolve(), track.resolve(), tmp.resolve()
            ),
            # In work/, where the segment list's relative paths start.
            cwd=work,
            duration_s=duration,
            progress=ctx.progress,
            task="assembling",
            what="assembling the video failed",
        )
    bar.shot_done()
    bar.close()
    ctx = outer
    # The sidecars are written once the video exists, so a failed render leaves the old
    # video and captions together.
    vtt = project.build / f"{slug}.vtt"
    srt = project.build / f"{slug}.srt"
    lang = spoken_language(ctx.video, ctx.persona)
    atomic_write_text(vtt, to_vtt(cues, language=lang))
    atomic_write_text(srt, to_srt(cues))
    thumbnail = _thumbnail(ctx, lipsync, slug, lang)
    chapters, chapters_note = _chapters(ctx, speech, lipsync.intro_frames, slug, duration)
    manifest = RenderManifest(
        **recorded_fields(ins, "ffmpeg", ffmpeg.ffmpeg_version()),
        slug=slug,
        video=Output(path=project.rel(video), sha256=sha256_file(video)),
        captions_vtt=Output(path=project.rel(vtt), sha256=sha256_file(vtt)),
        captions_srt=Output(path=project.rel(srt), sha256=sha256_file(srt)),
        width=width,
        height=height,
        fps=fps,
        duration_s=round(duration, 4),
        thumbnail=Output(path=project.rel(thumbnail), sha256=sha256_file(thumbnail)),
        chapters=(
            Output(path=project.rel(chapters), sha256=sha256_file(chapters)) if chapters else None
        ),
        chapters_note=chapters_note,
    )
    path = record(ctx, "render", manifest)
    return StageResult("render", path, True, reason, shots=len(lipsync.shots))


def _cues(
    ctx: Context, speech: SpeechManifest, width: int, height: int, intro_frames: int = 0
) -> list[Cue]:
    """Every shot's sidecar cues (those burned into its segment, but line cues for a
    bold-pop shot), placed where it starts."""
    cues: list[Cue] = []
    frame_offset = intro_frames
    for shot in speech.shots:
        own = cues_for(shot, speech.fps, ctx.video.captions, width, height, sidecar=True)
        cues += shift(own, frame_offset / speech.fps)
        frame_offset += shot.frames
    return cues


def _thumbnail(ctx: Context, lipsync: LipsyncManifest, slug: str, language: str) -> Path:
    """<slug>.jpg at the platform's size: the persona and the title, drawn at the
    thumbnail's own size: the drawn avatar drawn again for it, a photo look's portrait
    fitted to it (enlarged at most 1.5x). Otherwise (or a smaller photo) the first frame on
    screen is used as it is, never scaled up."""
    size = THUMBNAIL_SIZES[ctx.video.format]
    kit = brandkit.load(ctx)
    x0, y0, x1, y1 = persona_box(size)
    box = (x1 - x0, y1 - y0)
    photo = ctx.persona.look.photo
    persona: Image.Image | None = None
    if faces.backend_name(ctx) in faces.DRAWS_ITS_OWN:
        from personaforge.media.avatar import AvatarAnimator

        persona = Image.fromarray(AvatarAnimator(ctx.persona.look, *box, 30).frame(0.0))
    elif photo:
        with Image.open(ctx.project.path(photo)) as img:
            portrait = ImageOps.exif_transpose(img).convert("RGB")
        # A clean portrait takes a modest enlargement; a small one keeps its size.
        if max(box[0] / portrait.width, box[1] / portrait.height) <= PHOTO_MAX_ENLARGE:
            persona = ImageOps.fit(portrait, box, Image.Resampling.LANCZOS, centering=(0.5, 0.3))
    drawn = persona is not None
    if persona is None:
        shot = next((c for c in lipsync.shots if c.kind in ("talking", "lower_third")), None)
        shot = shot or next((c for c in lipsync.shots if c.kind == "pip"), lipsync.shots[0])
        persona = persona_frame(ctx.project.root / shot.clip)
    image = make_thumbnail(
        persona, ctx.video.title, size, font_file=card_font(ctx.video.title, kit, language),
        background=kit.background, accent=kit.accent, text=kit.text, drawn=drawn,
        language=language,
    )  # fmt: skip
    out = ctx.project.build / f"{slug}.jpg"
    with atomic_path(out) as tmp:
        image.save(tmp, format="JPEG", quality=90, optimize=True)
    return out


def _chapters(
    ctx: Context, speech: SpeechManifest, intro_frames: int, slug: str, duration_s: float
) -> tuple[Path | None, str | None]:
    """<slug>.chapters.txt from the headings (title cards), where YouTube would show them;
    else no file (an old one is removed) and why not. Shorts show no chapters."""
    out = ctx.project.build / f"{slug}.chapters.txt"
    headings, frame = [], intro_frames
    for shot in speech.shots:
        if shot.kind == "title":
            headings.append((frame / speech.fps, shot.text))
        frame += shot.frames
    note: str | None
    if ctx.video.format == "shorts":
        text, note = None, "no chapters: Shorts show none"
    elif not headings:
        text, note = None, "no chapters: the script has no headings"
    else:
        made = youtube_chapters(headings, ctx.video.title, duration_s)
        text, note = made.text, made.note
    if text is None:
        out.unlink(missing_ok=True)
        return None, note
    atomic_write_text(out, text)
    return out, None


# ---------------------------------------------------------------- the plan of work

# Measured (bench/render_bench.py): the segments are joined without encoding them again, and
# the soundtrack muxed under the video, per second of video.
RENDER_S = 0.3
RENDER_S_PER_S = 0.01


def work(ctx: Context, reason: str | None, before: Mapping[str, StageWork]) -> StageWork:
    """What rendering would do: no shots of its own, a join over the whole video."""
    runs = reason is not None
    duration = before["speak"].duration_s if "speak" in before else 0.0
    out = StageWork("render", "ffmpeg", runs, reason or "up to date", duration_s=duration)
    out.seconds = RENDER_S + RENDER_S_PER_S * duration if runs else 0.0
    return out


STAGE = Stage("render", RenderManifest, inputs, make, work=work)
