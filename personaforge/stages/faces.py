"""What the lipsync stage needs for photo personas and cloud lip-sync: which backend the
persona gets, what its look hashes to, the setup handed to backends, and conforming clips."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.base import AnimationRequest, FrameSource, LipsyncBackend, LipsyncSetup
from personaforge.backends.cloud import concurrency, run_bounded
from personaforge.core.models import Clip, SpokenShot
from personaforge.core.yamlio import line_of
from personaforge.costs import Billing
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.media.conform import conform
from personaforge.progress import NullProgress, Progress
from personaforge.stages.common import Context, reusable_shot, write_shot_record

JOBS_DIR = "jobs"


def backend_name(ctx: Context) -> str:
    """video.yaml's choice; without one, the photo animator for a photo look, else the avatar."""
    if "lipsync" in ctx.video.backends.model_fields_set:
        return ctx.video.backends.lipsync
    return "photo" if ctx.persona.look.photo else ctx.video.backends.lipsync


def setup(ctx: Context) -> LipsyncSetup:
    persona = ctx.project.persona_path
    photo = None
    line = None
    if ctx.persona.look.photo:
        line = line_of(persona, ("look", "photo"))
        photo = ctx.project.path(ctx.persona.look.photo, file=persona, field="look.photo")
    return LipsyncSetup(
        root=ctx.project.root,
        persona_file=persona,
        env=ctx.env if ctx.env is not None else ctx.project.environment(),
        jobs=ctx.project.build / JOBS_DIR,
        storage_target=ctx.video.publish.target,
        photo=photo,
        photo_line=line,
    )


def backend_id(ctx: Context) -> str:
    """``name@version`` of the chosen backend, without building it: what the cache keys on,
    known without keys or network (``status`` needs neither)."""
    cls = registry.resolve("lipsync", backend_name(ctx))
    return f"{getattr(cls, 'name', '?')}@{getattr(cls, 'version', '?')}"


def backend(ctx: Context) -> LipsyncBackend:
    cls = registry.resolve("lipsync", backend_name(ctx))
    make = getattr(cls, "from_setup", None)
    made: LipsyncBackend = make(setup(ctx)) if make is not None else cls()
    return made


def look_hash(ctx: Context) -> str:
    """The look's settings and, for a photo, the portrait's content (not its name)."""
    look = ctx.persona.look.model_dump(mode="json")
    if ctx.persona.look.photo:
        path = ctx.project.path(
            ctx.persona.look.photo, file=ctx.project.persona_path, field="look.photo"
        )
        look["photo_sha256"] = sha256_file(path) if path.is_file() else "missing"
    return canonical_hash(look)


def render_clip(
    animator: LipsyncBackend, request: AnimationRequest, audio: Path, out: Path, progress: Progress
) -> list[Billing]:
    """Render one talking shot to ``out``. A clip from a backend that does not draw our own
    frames (a cloud model) is conformed to the shot's exact frames, size and rate, silent."""
    if isinstance(animator, FrameSource):
        return list(animator.render(request, audio, out, progress) or [])
    # ``out`` is already a unique temporary name, so one beside it is too.
    raw = out.with_name(f"{out.stem}.returned.mp4")
    try:
        billing = list(animator.render(request, audio, raw, progress) or [])
        conform(
            raw, out, width=request.width, height=request.height, fps=request.fps,
            frames=request.frames, progress=progress,
        )  # fmt: skip
    finally:
        raw.unlink(missing_ok=True)
    return billing


def prefetch(
    ctx: Context,
    animator: LipsyncBackend,
    shots: Sequence[tuple[SpokenShot, Path, str]],
    request_for: Callable[[SpokenShot, str], AnimationRequest],
) -> set[str]:
    """Make the missing clips of a remote backend (not a frame source) several at a time, each
    recorded as it finishes; the keys made. The stage's own loop then finds them done."""
    if isinstance(animator, FrameSource):
        return set()
    todo = [
        (spoken, out, key)
        for spoken, out, key in shots
        if reusable_shot(ctx, Clip, out.with_suffix(".json"), key) is None
    ]
    env = ctx.env if ctx.env is not None else ctx.project.environment()
    limit = concurrency(env)
    if len(todo) < 2 or limit < 2:
        return set()
    ctx.progress.log(f"lipsync: {len(todo)} clips from {animator.name}, up to {limit} at a time")

    def make(spoken: SpokenShot, out: Path, key: str) -> str:
        with atomic_path(out) as tmp:
            # Progress bars are not shared between threads: each job reports nothing.
            audio = ctx.project.root / spoken.audio
            request = request_for(spoken, key)
            billing = render_clip(animator, request, audio, tmp, NullProgress())
        clip = Clip(
            id=spoken.id,
            key=key,
            kind=spoken.kind,
            clip=ctx.project.rel(out),
            clip_sha256=sha256_file(out),
            frames=spoken.frames,
            billing=billing,
        )
        write_shot_record(clip, out.with_suffix(".json"))
        return key

    return set(
        run_bounded(
            [lambda s=s, o=o, k=k: make(s, o, k) for s, o, k in todo],  # type: ignore[misc]
            limit,
        )
    )
