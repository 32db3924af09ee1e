"""A shot's segment: its frames encoded once, in final quality, with its captions burned in the
same pass; render joins the segments by stream copy."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

from personaforge.assets import FONT_NAME, fonts_dir
from personaforge.captions.ass import (
    add_headline,
    add_lower_third,
    bundled_fonts,
    caption_font_size,
    to_ass,
    undrawable,
)
from personaforge.captions.cues import CaptionWord, Cue, shot_cues
from personaforge.core.colour import hex_value
from personaforge.core.manifests import SpokenShot
from personaforge.core.specs import Captions, Look
from personaforge.errors import PersonaForgeError
from personaforge.media import cards, ffmpeg, filtergraph
from personaforge.media.encoding import Quality
from personaforge.media.filtergraph import FramePipe, SegmentSpec, Source, TitleCard
from personaforge.progress import Progress
from personaforge.stages.parts.brandkit import BrandKit
from personaforge.text import fonts
from personaforge.text.caption_rules import PORTRAIT_BOTTOM, rules_for

CLIP_DIR = "clips"  # under build/: the segments, and what they were made from


def language_of(spoken: SpokenShot | None) -> str:
    """The language a shot is spoken (and captioned) in; English where none is recorded."""
    return spoken.language if spoken is not None else "en"


def chars_per_line(width: int, height: int, override: int | None, language: str = "en") -> int:
    """Columns a caption line may take: video.yaml's ``max_chars_per_line``, else the rules'
    for the frame's shape and the language's script (caption_rules.LINE_CHARS)."""
    rules = rules_for(width, height, language)
    if override:
        return override * 2 if rules.phrase else override
    return rules.line_columns


def caption_margin(width: int, height: int) -> int | None:
    """Portrait players (Shorts, Reels, TikTok) cover the bottom fifth with their own buttons
    and text, so portrait captions sit above it; others keep the title-safe default."""
    return int(height * PORTRAIT_BOTTOM) if height > width else None


def cues_for(
    spoken: SpokenShot,
    fps: int,
    captions: Captions,
    width: int,
    height: int,
    *,
    sidecar: bool = False,
) -> list[Cue]:
    """The shot's cues, timed from its first frame by the caption rules of its frame and
    language: burned into its segment and, shifted to where the shot starts, written to the
    .vtt/.srt (one list, so they agree). With ``sidecar``, the cues of the .vtt/.srt: the
    same, except that bold-pop's one-to-three-word flashes are a burned effect, not
    subtitles, so its sidecar gets the line cues a subtitle track must have (minimum
    duration, reading speed)."""
    words = [CaptionWord(w.text, w.start, w.end) for w in spoken.words]
    style = spoken.captions or captions.style
    if sidecar and style == "bold-pop":
        style = "clean"
    return shot_cues(
        words,
        spoken.frames / fps,
        style=style,
        rules=rules_for(width, height, language_of(spoken), fps),
        max_chars_per_line=captions.max_chars_per_line,
        max_lines=captions.max_lines,
    )


def caption_font(kit: BrandKit | None, language: str) -> tuple[str, Path, float]:
    """The font burned text is drawn in (family, file, scale): the brand's, else the bundled
    font of the language's script."""
    if kit is not None and kit.font_name != FONT_NAME:
        return kit.font_name, kit.font_file, 1.0
    font = fonts.for_language(language)
    return font.family, font.file, font.scale


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
    language: str = "en",
) -> str | None:
    """The ASS script burned into a segment (its captions, a lower third's ``strap`` of name
    and role, and the shot's on-screen ``headline``, shown until ``end``), or None when
    nothing is burned. Sizes and places come from the frame and settings only, so every
    segment looks alike."""
    if not captions.burn:
        cues = []
    if not cues and strap is None and not headline:
        return None
    per_line = chars_per_line(width, height, captions.max_chars_per_line, language)
    font_name, _, scale = caption_font(kit, language)
    font_size = caption_font_size(width, height, per_line, captions.style, scale)
    margin_v = caption_margin(width, height)
    texts = [line for cue in cues for line in cue.lines]
    texts += [t for t in (*(strap or ()), headline) if t]
    lacking = undrawable(texts, font_name)
    if lacking:
        shown = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in lacking[:5])
        raise PersonaForgeError(
            f"captions: no bundled font draws {shown}; burned in they would be empty boxes"
            " (set captions: {burn: false}, or give brand.font a font that has them)"
        )
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
        language=language,
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
    quality: Quality = "draft",
) -> None:
    """Encode one segment; ``pixels`` feeds a FramePipe source, one frame at a time; the
    ``head``/``tail`` frames (count, file) go to their own files for transitions; the
    brand ``kit`` gives the captions' font and the logo."""
    fonts = (kit.fonts_dir if kit else fonts_dir()) if ass else None
    if source == FramePipe("rgb24") and pixels is not None and not (width % 2 or height % 2):
        source, pixels = FramePipe("yuv420p"), ffmpeg.as_yuv420p(pixels, width, height)
    logo = kit.logo_overlay() if kit else None
    spec = SegmentSpec(source, width, height, fps, frames, ass, fonts, logo, quality)
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


def card_font(text: str, kit: BrandKit | None, language: str) -> Path:
    """The font a card's ``text`` is drawn in: the brand's or the language's, else the first
    bundled font that has every letter of it; one line when none has."""
    _, file, _ = caption_font(kit, language)
    if not fonts.missing(text, file):
        return file
    for other in bundled_fonts().values():
        if not fonts.missing(text, other):
            return other
    lacking = " ".join(f"{ch!r} (U+{ord(ch):04X})" for ch in fonts.missing(text, file)[:5])
    raise PersonaForgeError(f"the card {text[:40]!r}: no bundled font draws {lacking}")


def _card_text(text: str, file: Path) -> str:
    """``text`` without what ``file`` has no glyph for (emoji: the letters are checked)."""
    have = fonts.cmap(file)
    kept = "".join(ch for ch in text if ch.isspace() or ord(ch) in have)
    return " ".join(kept.split())


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
    quality: Quality = "draft",
    language: str = "en",
) -> None:
    """A title card (the heading on the persona's colours) straight into its segment; with
    ``quote`` (who said it, or "") a quote card: the words in quotes, smaller, credited.
    The text is drawn by media/cards.py (shaped, wrapped per script, shrunk to a floor), and
    a heading that does not fit even then is one line naming it, before anything is made."""
    font_file = card_font(f"{text} {quote or ''}", kit, language)
    background, accent = (kit.background, kit.accent) if kit else (look.background, look.accent)
    image = cards.title_card(
        _card_text(text, font_file) or " ", (width, height), font_file=font_file,
        background=background, accent=accent, text_colour=kit.text if kit else "#ffffff",
        quote_by=None if quote is None else _card_text(quote, font_file), language=language,
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="personaforge-title-") as tmp:
        card_file = Path(tmp) / "card.png"
        image.save(card_file, format="PNG")
        encode(
            TitleCard(card_file), width=width, height=height, fps=fps, frames=frames, ass=ass,
            out=out, progress=progress, head=head, tail=tail, kit=kit if logo else None,
            quality=quality,
        )  # fmt: skip
