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
    add_headline,
    add_lower_third,
    caption_font_size,
    drawable,
    shot_cues,
    to_ass,
)
from personaforge.core.colour import hex_value
from personaforge.core.models import Captions, Look, SpokenShot
from personaforge.fsutil import atomic_write_text
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.filtergraph import FramePipe, SegmentSpec, Source, TitleCard
from personaforge.progress import Progress
from personaforge.stages.brandkit import BrandKit

CLIP_DIR = "clips"  # under build/: the segments, and what they were made from


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
        style=spoken.captions or captions.style,
        max_chars_per_line=chars_per_line(width, height, captions.max_chars_per_line),
        max_lines=captions.max_lines,
    )


def ass_for(
    cues: list[Cue],
    captions: Captions,
    width: int,
    height: int,
    *,
    strap: tuple[str, str | None] | None = None,
    headline: str | None = None,
    end: float = 0.0,
    kit: BrandKit | None = None,
) -> str | None:
    """The ASS script burned into a segment (its captions, a lower third's ``strap`` of name
    and role, and the shot's on-screen ``headline``, shown until ``end``), or None when
    nothing is burned. Sizes and places come from the frame and settings only, so every
    segment looks alike."""
    if not captions.burn:
        cues = []
    if not cues and strap is None and not headline:
        return None
    per_line = chars_per_line(width, height, captions.max_chars_per_line)
    font_size = caption_font_size(width, height, per_line, captions.style)
    margin_v = caption_margin(width, height)
    font_name = kit.font_name if kit else FONT_NAME
    text_colour = hex_value(kit.text) if kit else 0xFFFFFF
    accent_colour = hex_value(kit.accent) if kit else 0xFFD400
    ass = to_ass(
        cues,
        width=width,
        height=height,
        font_name=font_name,
        font_size=font_size,
        margin_v=margin_v,
        style=captions.style,
        text_colour=text_colour,
        accent_colour=accent_colour,
    )
    if strap is not None:
        bottom = margin_v if margin_v is not None else round(height * 0.08)
        # Above two caption lines (bold-pop's sit in the centre, so just above its margin).
        above = bottom + (0 if captions.style == "bold-pop" else round(font_size * 2.6))
        ass = add_lower_third(
            ass, strap[0], strap[1], width=width, height=height, end=end, above=above,
            font_name=font_name, accent_colour=accent_colour, text_colour=text_colour,
        )  # fmt: skip
    if headline:
        ass = add_headline(
            ass, headline, width=width, height=height, end=end, font_name=font_name,
            text_colour=text_colour,
        )  # fmt: skip
    return ass


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
    head: tuple[int, Path] | None = None,
    tail: tuple[int, Path] | None = None,
    kit: BrandKit | None = None,
) -> None:
    """Encode one segment; ``pixels`` feeds a FramePipe source, one frame at a time; the
    ``head``/``tail`` frames (count, file) go to their own files for transitions; the
    brand ``kit`` gives the captions' font and the logo."""
    fonts = (kit.fonts_dir if kit else fonts_dir()) if ass else None
    if source == FramePipe("rgb24") and pixels is not None and not (width % 2 or height % 2):
        source, pixels = FramePipe("yuv420p"), ffmpeg.as_yuv420p(pixels, width, height)
    logo = kit.logo_overlay() if kit else None
    spec = SegmentSpec(source, width, height, fps, frames, ass, fonts, logo)
    args = filtergraph.segment_args(spec, out, head=head, tail=tail)
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
    quote: str | None = None,
    width: int,
    height: int,
    fps: int,
    frames: int,
    ass: Path | None,
    out: Path,
    progress: Progress,
    head: tuple[int, Path] | None = None,
    tail: tuple[int, Path] | None = None,
    kit: BrandKit | None = None,
    logo: bool = True,
) -> None:
    """A title card (the heading on the persona's colours) straight into its segment; with
    ``quote`` (who said it, or "") a quote card: the words in quotes, smaller, credited."""
    font_size = title_font_size(width, height)
    if quote is not None:
        font_size = max(10, round(font_size * 0.7))
        text = f"\u201c{text}\u201d"
    chars = max(8, int(width * 0.8 / (font_size * 0.6)))
    shown = drawable(text)  # leave out what the bundled font would draw as boxes
    wrapped = "\n".join(textwrap.wrap(shown, chars, break_long_words=True)) or " "
    if quote:
        wrapped += "\n\n\u2014 " + drawable(quote)
    with tempfile.TemporaryDirectory(prefix="personaforge-title-") as tmp:
        # drawtext reads the heading from a file, so no character of it needs escaping.
        text_file = Path(tmp) / "title.txt"
        atomic_write_text(text_file, wrapped)
        if kit is None:
            card = TitleCard(
                text_file, font_path(), font_size, look.background, look.accent,
                bar=quote is None,
            )  # fmt: skip
        else:
            card = TitleCard(
                text_file, kit.font_file, font_size, kit.background, kit.accent, kit.text,
                bar=quote is None,
            )  # fmt: skip
        encode(
            card, width=width, height=height, fps=fps, frames=frames, ass=ass, out=out,
            progress=progress, head=head, tail=tail, kit=kit if logo else None,
        )  # fmt: skip
