"""The video's thumbnail: a frame of the persona beside (or, in portrait, above) the title."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

from personaforge.core.colour import hex_rgb
from personaforge.errors import PersonaForgeError

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


def make_thumbnail(
    frame: Image.Image,
    title: str,
    size: tuple[int, int],
    *,
    font_file: Path,
    background: str,
    accent: str,
    text: str = "#ffffff",
) -> Image.Image:
    """The persona (the top of ``frame``, clear of captions) and the title in big type on the
    brand's colours: side by side in landscape, stacked in portrait and square."""
    width, height = size
    canvas = Image.new("RGB", size, hex_rgb(background))
    persona = frame.crop((0, 0, frame.width, round(frame.height * PERSONA_CROP)))
    landscape = width > height * 1.2
    if landscape:
        box = (round(width * 0.45), 0, width, height)  # the right 55%
        text_box = (round(width * 0.05), round(height * 0.1), round(width * 0.43), height)
    else:
        box = (0, 0, width, round(height * 0.6))
        text_box = (round(width * 0.06), round(height * 0.63), round(width * 0.94), height)
    fitted = ImageOps.fit(persona, (box[2] - box[0], box[3] - box[1]), Image.Resampling.LANCZOS)
    canvas.paste(fitted, box[:2])
    draw = ImageDraw.Draw(canvas)
    _title(draw, title, text_box, font_file=font_file, colour=hex_rgb(text), accent=hex_rgb(accent))
    return canvas


def _title(
    draw: ImageDraw.ImageDraw,
    title: str,
    box: tuple[int, int, int, int],
    *,
    font_file: Path,
    colour: tuple[int, int, int],
    accent: tuple[int, int, int],
) -> None:
    """The title as large as fits ``box`` in at most four lines, with an accent bar under it."""
    left, top, right, bottom = box
    room_w, room_h = right - left, bottom - top
    for size in range(max(12, room_h // 3), 11, -2):
        font = ImageFont.truetype(str(font_file), size)
        chars = max(4, int(room_w / (size * 0.55)))
        lines = textwrap.wrap(title, chars, break_long_words=True)[:4]
        widest = max(font.getlength(line) for line in lines)
        tall = len(lines) * size * 1.2 + size * 0.6
        if widest <= room_w and tall <= room_h:
            break
    y = top
    stroke = max(2, size // 14)
    for line in lines:
        draw.text((left, y), line, font=font, fill=colour, stroke_width=stroke,
                  stroke_fill=(0, 0, 0))  # fmt: skip
        y += round(size * 1.2)
    bar = max(4, size // 8)
    draw.rectangle((left, y + bar, left + round(room_w * 0.35), y + 2 * bar), fill=accent)
