"""Preflight of the media a project names (logo, music, b-roll, intro/outro clips, the
portrait, the narration takes): each is found inside the project and decoded a little, before
any work, so a logo that is not an image fails in a second, naming ``file:line: field``, not
after every segment is encoded. make-video, ``--dry-run`` and ``estimate`` run it.

A new kind of input is one more collector in ``COLLECTORS`` (a function from the context to
the inputs it names), as the recorded ``narration:`` takes are."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from personaforge.core.yamlio import line_of
from personaforge.errors import PersonaForgeError
from personaforge.runtime.common import Context, brand_spec
from personaforge.text.normalize import tokenize

Kind = Literal["image", "audio", "video", "image or video"]

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"}
# Bigger than any picture a frame needs; a decompression bomb is refused, not decoded.
MAX_IMAGE_PIXELS = 64_000_000


@dataclass(frozen=True)
class MediaInput:
    rel: str  # as written
    kind: Kind
    source: Path  # the file that names it (video.yaml, brand.yaml, persona.yaml, script.md)
    field: str
    line: int | None = None
    stage: str = "lipsync"  # the stage that uses it, named in the error


Collector = Callable[[Context], Iterable[MediaInput]]


def _yaml_input(rel: str, kind: Kind, source: Path, field: str) -> MediaInput:
    return MediaInput(rel, kind, source, field, line_of(source, tuple(field.split("."))))


def _brand(ctx: Context) -> Iterator[MediaInput]:
    brand, source = brand_spec(ctx)
    if brand is None:
        return
    # In video.yaml the fields sit under brand:, in brand.yaml at the top.
    prefix = "brand." if source == ctx.project.video_path else ""
    if brand.logo is not None:
        yield _yaml_input(brand.logo.file, "image", source, f"{prefix}logo.file")
    for name, bumper in (("intro", brand.intro), ("outro", brand.outro)):
        if bumper is not None and bumper.clip is not None:
            yield _yaml_input(bumper.clip, "video", source, f"{prefix}{name}.clip")


def _music(ctx: Context) -> Iterator[MediaInput]:
    if ctx.video.music is not None:
        music = _yaml_input(ctx.video.music.file, "audio", ctx.project.video_path, "music.file")
        yield dataclasses.replace(music, stage="render")


def _narration(ctx: Context) -> Iterator[MediaInput]:
    take = ctx.video.narration
    if take is None:
        return
    video = ctx.project.video_path
    if take.file is not None:
        yield dataclasses.replace(
            _yaml_input(take.file, "audio", video, "narration.file"), stage="speak"
        )
    for heading, rel in take.files.items():
        item = MediaInput(rel, "audio", video, f"narration.files.{heading}", stage="speak")
        yield dataclasses.replace(item, line=line_of(video, ("narration", "files", heading)))


def _portrait(ctx: Context) -> Iterator[MediaInput]:
    if ctx.persona.look.photo is not None:
        yield _yaml_input(ctx.persona.look.photo, "image", ctx.project.persona_path, "look.photo")


def _broll(ctx: Context) -> Iterator[MediaInput]:
    from personaforge.backends.planner.offline import images

    if ctx.video.script is None:
        source = ctx.project.video_path  # inline script_text: lines are not the file's
        inline = True
    else:
        source = ctx.project.root / ctx.video.script
        inline = False
    try:
        script = ctx.project.script_text(ctx.video)
    except PersonaForgeError:
        return  # plan reports a missing or unreadable script, as the first stage to read it
    for line, rel in images(script):
        where = line_of(source, ("script_text",)) if inline else line
        yield MediaInput(rel, "image or video", source, "b-roll", where)


COLLECTORS: list[Collector] = [_brand, _music, _narration, _portrait, _broll]


def inputs(ctx: Context) -> list[MediaInput]:
    return [item for collect in COLLECTORS for item in collect(ctx)]


def problem(path: Path, kind: Kind) -> str | None:
    """Why ``path`` is not usable as ``kind``, or None."""
    if not path.is_file():
        return "not found" if not path.exists() else "is a folder, not a file"
    if kind == "image" or (kind == "image or video" and path.suffix.lower() in IMAGE_SUFFIXES):
        return _image_problem(path)
    return _av_problem(path, "audio" if kind == "audio" else "video")


def _image_problem(path: Path) -> str | None:
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                if im.width * im.height > MAX_IMAGE_PIXELS:
                    return f"is too large an image ({im.width}x{im.height})"
                im.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "is too large an image"
    except Exception as exc:  # PIL raises many kinds for a file that is not an image
        return f"is not an image ({' '.join(str(exc).split())[:120] or type(exc).__name__})"
    return None


def _av_problem(path: Path, stream: Literal["audio", "video"]) -> str | None:
    import av

    a = "an audio" if stream == "audio" else "a video"
    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio if stream == "audio" else container.streams.video
            if not streams:
                return f"has no {stream} (is it {a} file?)"
            for _ in container.decode(streams[0]):
                return None  # one frame decodes: good enough before the work
            return f"has no {stream} frames"
    except (OSError, av.error.FFmpegError, ValueError) as exc:  # type: ignore[attr-defined]
        # PyAV's text repeats the whole path: its reason alone.
        detail = " ".join(str(getattr(exc, "strerror", None) or exc).split())[:120]
        return f"is not {a} file ({detail})"


def script_located(ctx: Context, exc: PersonaForgeError) -> PersonaForgeError:
    """A ScriptError (a line of the script) pointed at the script's file: script.md, or
    video.yaml's script_text (whose lines are not the file's)."""
    if exc.file is None:
        if ctx.video.script is not None:
            exc.file = str(ctx.project.root / ctx.video.script)
        else:
            exc.file, exc.field = str(ctx.project.video_path), "script_text"
            exc.line = line_of(ctx.project.video_path, ("script_text",))
    return exc.with_stage("plan")


def check_script(ctx: Context) -> None:
    """The script's directives are valid (a bad `<!-- transition: -->` is one line)."""
    from personaforge.backends.planner.offline import ScriptError, blocks

    try:
        script = ctx.project.script_text(ctx.video)
    except PersonaForgeError:
        return  # plan reports it, as the first stage to read it
    try:
        found = blocks(script)
    except ScriptError as exc:
        raise script_located(ctx, exc) from None
    if not any(tok.spoken for block in found for tok in tokenize(block.text)):
        # What plan refuses, estimate and --dry-run refuse too (not "0 words").
        raise PersonaForgeError(
            "the script has no words to speak",
            file=ctx.project.video_path,
            field="script_text" if ctx.video.script_text is not None else "script",
        ).with_stage("plan")


def check(ctx: Context) -> None:
    """Raise the first problem of the script's directives, or the first media input that is
    outside the project, missing or undecodable."""
    check_script(ctx)
    for item in inputs(ctx):
        try:
            path = ctx.project.path(item.rel, file=item.source, field=item.field)
        except PersonaForgeError as exc:
            exc.line = item.line
            raise exc.with_stage(item.stage) from None
        found = problem(path, item.kind)
        if found is not None:
            raise PersonaForgeError(
                f"{item.rel!r} {found}", file=item.source, line=item.line, field=item.field
            ).with_stage(item.stage)
