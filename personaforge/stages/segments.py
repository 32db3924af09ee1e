"""A shot's segment: its frames encoded once, in final quality, with its captions burned in the
same pass; render joins the segments by stream copy."""

from __future__ import annotations

import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

from personaforge.assets import FONT_NAME, font_path, fonts_dir
from personaforge.captions import (
    CaptionWord,
    Cue,
    caption_font_size,
    drawable,
    shot_cues,
    to_ass,
)
from personaforge.core.models import Captions, Look, SpokenShot
from personaforge.fsutil import atomic_write_text
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.filtergraph import FramePipe, SegmentSpec, Source, TitleCard
from personaforge.progress import Progress


def chars_per_line(width: int, height: int, override: int | None) -> int:
    if override:
        return override
    if width >= height * 1.3:
        return 42
    return 32 if width >= height else 26


def caption_margin(width: int, height: int) -> int | None:
    """Portrait players (Shorts, Reels, TikTok) cover the bottom fifth with their own buttons
    and text, so portrait captions sit above it; others keep the title-safe default."""
    return int(height * 0.22) if height > width else None


def cues_for(
    spoken: SpokenShot, fps: int, captions: Captions, width: int, height: int
) -> list[Cue]:
    """The shot's cues, timed from its first frame: burned into its segment and, shifted to
    where the shot starts, written to the .vtt/.srt (one list, so they always agree)."""
    words = [CaptionWord(w.text, w.start, w.end) for w in spoken.words]
    return shot_cues(
        words,
        spoken.frames / fps,
        style=captions.style,
        max_chars_per_line=chars_per_line(width, height, captions.max_chars_per_line),
        max_lines=captions.max_lines,
    )


def ass_for(cues: list[Cue], captions: Captions, width: int, height: int) -> str | None:
    """The ASS script burned into a segment, or None when nothing is burned. Its size and
    placement come from the frame and settings only, so every segment looks alike."""
    if not captions.burn or not cues:
        return None
    per_line = chars_per_line(width, height, captions.max_chars_per_line)
    return to_ass(
        cues,
        width=width,
        height=height,
        font_name=FONT_NAME,
        font_size=caption_font_size(width, height, per_line, captions.style),
        margin_v=caption_margin(width, height),
        style=captions.style,
    )


def title_font_size(width: int, height: int) -> int:
    return max(12, int(min(width, height) / 11))


def encode(
    source: Source,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    ass: Path | None,
    out: Path,
    progress: Progress,
    pixels: Iterator[bytes] | None = None,
) -> None:
    """Encode one segment; ``pixels`` feeds a FramePipe source, one frame at a time."""
    spec = SegmentSpec(source, width, height, fps, frames, ass, fonts_dir() if ass else None)
    args = filtergraph.segment_args(spec, out)
    if isinstance(source, FramePipe):
        assert pixels is not None, "a FramePipe needs its frames"
        ffmpeg.pipe_frames(
            pixels, args, n_frames=frames, progress=progress, task="animating",
            what="encoding the shot failed",
        )  # fmt: skip
    else:
        ffmpeg.run(
            args, duration_s=frames / fps, progress=progress, task="encoding",
            what="encoding the shot failed",
        )  # fmt: skip


def encode_title(
    text: str,
    look: Look,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    ass: Path | None,
    out: Path,
    progress: Progress,
) -> None:
    """A title card (the heading on the persona's colours) straight into its segment."""
    font_size = title_font_size(width, height)
    chars = max(8, int(width * 0.8 / (font_size * 0.6)))
    shown = drawable(text)  # leave out what the bundled font would draw as boxes
    wrapped = "\n".join(textwrap.wrap(shown, chars, break_long_words=True)) or " "
    with tempfile.TemporaryDirectory(prefix="personaforge-title-") as tmp:
        # drawtext reads the heading from a file, so no character of it needs escaping.
        text_file = Path(tmp) / "title.txt"
        atomic_write_text(text_file, wrapped)
        card = TitleCard(text_file, font_path(), font_size, look.background, look.accent)
        encode(
            card, width=width, height=height, fps=fps, frames=frames, ass=ass, out=out,
            progress=progress,
        )  # fmt: skip
