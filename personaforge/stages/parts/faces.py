"""What the lipsync stage needs for photo personas and cloud lip-sync: which backend the
persona gets, what its look hashes to, the setup handed to backends, and conforming clips."""

from __future__ import annotations

from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.base import AnimationRequest, FrameSource, LipsyncBackend, LipsyncSetup
from personaforge.core.manifests import SpokenShot
from personaforge.core.yamlio import line_of
from personaforge.costs import Billing
from personaforge.errors import MissingKeyError, PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_file
from personaforge.media.conform import conform
from personaforge.progress import Progress
from personaforge.runtime.common import Context

JOBS_DIR = "jobs"


# The look decides the animator: these need a real face in every frame (the cloud models fail
# on a cartoon), and this one draws a cartoon in place of any photograph.
NEEDS_PHOTO = frozenset({"photo", "sadtalker", "latentsync"})
DRAWS_ITS_OWN = frozenset({"avatar"})


def backend_name(ctx: Context) -> str:
    """video.yaml's choice; without one, the photo animator for a photo look, else the drawn
    avatar. A choice that contradicts the look is an error naming both files."""
    chosen = ctx.video.backends.lipsync
    photo = bool(ctx.persona.look.photo)
    if chosen is None:
        return "photo" if photo else "avatar"
    clash = None
    if photo and chosen in DRAWS_ITS_OWN:
        clash = (
            f"{chosen!r} draws a cartoon, but the persona's look is a photograph "
            f"({_where(ctx.project.persona_path, ('look', 'photo'))}: look.photo)"
        )
        hint = "remove backends.lipsync (a photo look uses the photo animator) or look.photo"
    elif not photo and chosen in NEEDS_PHOTO:
        clash = (
            f"{chosen!r} animates a photograph, but the persona's look is drawn "
            f"({ctx.project.persona_path.name} has no look.photo)"
        )
        hint = "add look: {photo: portrait.jpg} to persona.yaml or remove backends.lipsync"
    if clash is not None:
        video = ctx.project.video_path
        raise PersonaForgeError(
            clash,
            file=video,
            line=line_of(video, ("backends", "lipsync")),
            field="backends.lipsync",
            hint=hint,
        )
    return chosen


def _where(path: Path, loc: tuple[str, ...]) -> str:
    line = line_of(path, loc)
    return f"{path.name}:{line}" if line is not None else path.name


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
        env=ctx.environment(),
        jobs=ctx.project.build / JOBS_DIR,
        storage_target=ctx.video.publish.target,
        photo=photo,
        photo_line=line,
    )


def backend_id(ctx: Context) -> str:
    """``name@version`` of the chosen backend, without building it: what the cache keys on,
    known without keys or network (``status`` needs neither)."""
    cls = registry.resolve("lipsync", backend_name(ctx))
    # Clips with the debug overlay burnt in are other clips: never reused as plain ones.
    debug = "+debug-overlay" if ctx.debug_overlay else ""
    return f"{cls.name}@{cls.version}{debug}"


def backend(ctx: Context, *, keyless: bool = False) -> LipsyncBackend:
    """The chosen backend, built. With ``keyless``, a cloud backend whose key is not set is
    a ``Keyless`` stand-in instead of an error: the caller checks that it needs no clip."""
    cls = registry.resolve("lipsync", backend_name(ctx))
    try:
        made = cls.from_setup(setup(ctx))
    except MissingKeyError as exc:
        if not keyless:
            raise
        return Keyless(cls, exc)
    return made


class Keyless(LipsyncBackend):
    """A cloud backend without its key, standing in where every clip it would make is made
    already (a caption, brand or transition change re-encodes segments from paid clips): it
    names the backend, and asked for a clip it raises the missing key."""

    def __init__(self, cls: type[LipsyncBackend], error: MissingKeyError) -> None:
        self.name = cls.name
        self.version = cls.version
        self.error = error

    def render(
        self, request: AnimationRequest, audio: Path, out: Path, progress: Progress
    ) -> list[Billing]:
        raise self.error


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


def debug_extra(ctx: Context, spoken: SpokenShot) -> dict[str, object]:
    """What ``make-video --debug-overlay`` hands the animator: the shot's id and words."""
    if not ctx.debug_overlay:
        return {}
    from personaforge.media.overlay import DebugInfo

    words = [(w.start, w.end, w.text) for w in spoken.words]
    return {"debug_overlay": DebugInfo(shot=spoken.id, words=words)}
