"""The video's thumbnail: the persona beside (or, in portrait, above) the title, drawn at the
thumbnail's own size (never a low-resolution frame scaled up)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

from personaforge.core.colour import hex_rgb
from personaforge.errors import PersonaForgeError
from personaforge.media import cards
from personaforge.text import languages

# What the platforms ask for: YouTube 1280x720 (16:9), Shorts/Reels a 9:16 cover.
THUMBNAIL_SIZES = {"youtube": (1280, 720), "shorts": (1080, 1920), "square": (1080, 1080)}
# The bottom of a frame may carry burned captions: the persona is taken from above them.
PERSONA_CROP = 0.76


def persona_frame(segment: Path, at_frame: int = 0) -> Image.Image:
    """Frame ``at_frame`` of a shot's segment, as RGB."""
    import av

    try:
        with av.open(str(segment)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                if index >= at_frame:
                    image: Image.Image = frame.to_image().convert("RGB")
                    return image
    except (OSError, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
        raise PersonaForgeError(
            f"cannot read the shot for the thumbnail ({exc})", file=segment
        ) from None
    raise PersonaForgeError("the shot has no frames for the thumbnail", file=segment)


def _landscape(size: tuple[int, int]) -> bool:
    return size[0] > size[1] * 1.2


def persona_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Where the persona goes on a thumbnail of ``size``: the right 55% in landscape, the
    top 60% in portrait and square."""
    width, height = size
    if _landscape(size):
        return (round(width * 0.45), 0, width, height)
    return (0, 0, width, round(height * 0.6))


def _text_box(size: tuple[int, int]) -> tuple[int, int, int, int]:
    width, height = size
    if _landscape(size):
        return (round(width * 0.05), round(height * 0.1), round(width * 0.43), round(height * 0.9))
    return (round(width * 0.06), round(height * 0.63), round(width * 0.94), round(height * 0.95))


def make_thumbnail(
    persona: Image.Image,
    title: str,
    size: tuple[int, int],
    *,
    font_file: Path,
    background: str,
    accent: str,
    text: str = "#ffffff",
    drawn: bool = False,
    language: str = "en",
) -> Image.Image:
    """The persona and the title in big type on the brand's colours: side by side in
    landscape, stacked in portrait and square. ``drawn``: ``persona`` was drawn at the
    persona box's size; else it is a video frame, whose top (clear of captions) is fitted
    to the box, but never scaled up: a smaller frame is centred on the background."""
    cards.require_shaping(title, language)
    canvas = Image.new("RGB", size, hex_rgb(background))
    box = persona_box(size)
    box_w, box_h = box[2] - box[0], box[3] - box[1]
    if drawn and persona.size == (box_w, box_h):
        canvas.paste(persona, box[:2])
    else:
        top = persona.crop((0, 0, persona.width, round(persona.height * PERSONA_CROP)))
        scale = max(box_w / top.width, box_h / top.height)
        if scale <= 1.0:
            canvas.paste(ImageOps.fit(top, (box_w, box_h), Image.Resampling.LANCZOS), box[:2])
        else:
            x = box[0] + (box_w - top.width) // 2
            y = box[1] + (box_h - top.height) // 2
            canvas.paste(top, (x, y))
    _title(ImageDraw.Draw(canvas), title, _text_box(size), font_file=font_file,
           colour=hex_rgb(text), accent=hex_rgb(accent), language=language)  # fmt: skip
    return canvas


def _title(
    draw: ImageDraw.ImageDraw,
    title: str,
    box: tuple[int, int, int, int],
    *,
    font_file: Path,
    colour: tuple[int, int, int],
    accent: tuple[int, int, int],
    language: str,
) -> None:
    """The title as large as fits ``box`` in at most five lines, with an accent bar under it;
    one line naming the title when even the smallest readable size does not fit."""
    left, top, right, bottom = box
    room_w, room_h = right - left, bottom - top
    size = max(12, room_h // 3)
    bar_room = max(8, size // 4)
    block = cards.fit_or_refuse(
        title, "title", font_file, (room_w, room_h - bar_room * 3), size=size,
        floor=max(12, room_h // 14), language=language, max_lines=5,
    )  # fmt: skip
    rtl = languages.get(language).rtl
    stroke = max(2, block.size // 14)
    y = cards.draw_block(
        draw, block, font_file, (left, top), width=room_w, align="right" if rtl else "left",
        colour=colour, stroke=stroke,
    )  # fmt: skip
    bar = max(4, block.size // 8)
    bar_w = round(room_w * 0.35)
    x0 = right - bar_w if rtl else left
    y += max(bar, block.size // 4)  # clear of the last line's descenders
    draw.rectangle((x0, y, x0 + bar_w, y + bar), fill=accent)
