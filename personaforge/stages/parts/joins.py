"""What render joins besides the shots' own segments: the transitions across cuts, each
encoded once as its own segment from frames the two shots set aside, and the brand's intro
and outro."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from personaforge.core.manifests import Clip, Segment, SpokenShot
from personaforge.core.specs import FPS
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.filtergraph import ClipFile
from personaforge.media.probe import probe
from personaforge.runtime.common import Context, reusable_shot, write_shot_record
from personaforge.stages.parts import brandkit, segments

CLIP_DIR = segments.CLIP_DIR
MAX_BUMPER_S = 10.0


def transition_plan(ctx: Context, shots: list[SpokenShot]) -> list[tuple[str, int]]:
    """For each shot, how it follows the one before: (style, frames taken from each side
    of the cut); ("cut", 0) for the first shot and plain cuts. A transition never takes
    more than a third of either shot."""
    settings = ctx.video.transitions
    plan: list[tuple[str, int]] = [("cut", 0)]
    for before, shot in itertools.pairwise(shots):
        style = shot.transition or settings.style
        half = min(round(settings.duration_s * FPS / 2), before.frames // 3, shot.frames // 3)
        plan.append((style, half) if style != "cut" and half >= 1 else ("cut", 0))
    return plan


def piece(out: Path, part: str) -> Path:
    return out.with_name(f"{out.stem}.{part}.mp4")


def join(
    ctx: Context, clips: list[Clip], cuts: list[tuple[str, int]], ins: dict[str, str]
) -> list[Segment]:
    """What render joins, in order: each shot's segment, and the transitions between them,
    each encoded once (and cached) from the frames its two shots kept for it."""
    folder = ctx.project.build / CLIP_DIR
    colour = ctx.video.transitions.colour
    joined: list[Segment] = []
    for index, clip in enumerate(clips):
        style, half = cuts[index]
        if half:
            before = clips[index - 1]
            tail = piece(ctx.project.root / before.clip, "tail")
            head = piece(ctx.project.root / clip.clip, "head")
            key = canonical_hash(
                {"style": style, "colour": colour if style == "dip" else "", "frames": half,
                 "tail": before.pieces[ctx.project.rel(tail)],
                 "head": clip.pieces[ctx.project.rel(head)], "encoder": ins["segment"]}
            )  # fmt: skip
            out = folder / f"{key[:24]}.mp4"
            segment = reusable_shot(ctx, Segment, out.with_suffix(".json"), key)
            if segment is None:
                with atomic_path(out) as tmp:
                    ffmpeg.run(
                        filtergraph.transition_args(
                            style, tail, head, frames_out=half, frames_in=half, fps=FPS,
                            colour=colour, out=tmp, quality=ctx.video.quality,
                            size=ctx.project.frame_size(ctx.video),
                        ),
                        duration_s=2 * half / FPS, progress=ctx.progress, task=style,
                        what=f"encoding the {style} failed",
                    )  # fmt: skip
                segment = Segment(
                    key=key, path=ctx.project.rel(out), sha256=sha256_file(out), frames=2 * half
                )
                write_shot_record(segment, out.with_suffix(".json"))
            joined.append(segment)
        keep_out = cuts[index + 1][1] if index + 1 < len(cuts) else 0
        joined.append(
            Segment(
                key=clip.key, path=clip.clip, sha256=clip.clip_sha256,
                frames=clip.frames - half - keep_out,
            )
        )  # fmt: skip
    return joined


def brand_key(kit: brandkit.BrandKit, ctx: Context) -> str:
    bumpers = [kit.bumper_key(b, brandkit.clip_path(ctx, b)) for b in (kit.intro, kit.outro) if b]
    return canonical_hash({"look": kit.look_key(), "bumpers": bumpers})


def bumper_frames(ctx: Context, kit: brandkit.BrandKit, which: str) -> int:
    """How many frames the brand's intro or outro lasts (0: there is none)."""
    bumper = kit.intro if which == "intro" else kit.outro
    if bumper is None:
        return 0
    clip = brandkit.clip_path(ctx, bumper)
    if clip is not None:
        seconds = min(probe(clip).duration_s, MAX_BUMPER_S)
        if seconds <= 0:
            raise PersonaForgeError(f"the brand's {which} clip has no duration", file=clip)
    else:
        seconds = bumper.duration_s
    return max(1, round(seconds * FPS))


def bumper(
    ctx: Context,
    kit: brandkit.BrandKit,
    which: str,
    width: int,
    height: int,
    ins: dict[str, str],
) -> list[Segment]:
    """The brand's intro or outro as a segment of its own (silent, uncaptioned), or none."""
    bumper = kit.intro if which == "intro" else kit.outro
    if bumper is None:
        return []
    clip = brandkit.clip_path(ctx, bumper)
    frames = bumper_frames(ctx, kit, which)
    key = canonical_hash(
        {"bumper": kit.bumper_key(bumper, clip), "frames": frames, "frame": ins["frame"],
         "encoder": ins["segment"], "ffmpeg": ins["ffmpeg"]}
    )  # fmt: skip
    out = ctx.project.build / CLIP_DIR / f"{key[:24]}.mp4"
    found = reusable_shot(ctx, Segment, out.with_suffix(".json"), key)
    if found is not None:
        return [found]
    size: dict[str, Any] = {"width": width, "height": height, "fps": FPS, "frames": frames,
                            "quality": ctx.video.quality}  # fmt: skip
    with atomic_path(out) as tmp:
        if clip is not None:
            segments.encode(ClipFile(clip), **size, ass=None, out=tmp, progress=ctx.progress)
        else:
            segments.encode_title(
                bumper.card or "", ctx.persona.look, **size, ass=None, out=tmp,
                progress=ctx.progress, kit=kit, logo=False,
            )  # fmt: skip
    segment = Segment(key=key, path=ctx.project.rel(out), sha256=sha256_file(out), frames=frames)
    write_shot_record(segment, out.with_suffix(".json"))
    return [segment]
