"""Text drawn with Pillow (raqm: Arabic joined right to left, Devanagari's conjuncts) on
title cards, quote cards and thumbnails: wrapped per script, shrunk to a floor to fit its
box, refused in one line when even that does not fit."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from personaforge.core.colour import hex_rgb
from personaforge.errors import PersonaForgeError
from personaforge.text import languages, linebreak


@functools.lru_cache(maxsize=32)
def _font(file: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(file), size)


def _direction(language: str) -> str | None:
    """raqm's direction for the language: a right-to-left heading that starts with a Latin
    name still runs right to left (raqm would take it from the first strong letter)."""
    return "rtl" if languages.get(language).rtl else None


# Scripts whose letters change shape with their neighbours: drawn without raqm they come
# out as isolated letters in the wrong order (Arabic) or without conjuncts (Devanagari).
_SHAPED = ("ARABIC", "DEVANAGARI")


def require_shaping(text: str, language: str) -> None:
    """One clear error, before anything is drawn, where ``text`` needs shaping that this
    Pillow cannot do (a build without raqm)."""
    from PIL import features

    needs = set(languages.get(language).scripts) & set(_SHAPED)
    if not needs and not any(unicodedata.name(ch, "").startswith(_SHAPED) for ch in text):
        return
    if not features.check("raqm"):
        raise PersonaForgeError(
            "drawing this text needs Pillow with raqm (text shaping), and this Pillow has none:"
            " pip install --force-reinstall Pillow (its wheels include raqm)"
        )


@dataclass(frozen=True)
class TextBlock:
    """Lines set in one size, ready to draw."""

    lines: tuple[str, ...]
    size: int
    line_height: int
    width: int  # the widest line, in pixels
    # The ink's top below the first line's origin, and its bottom below the last line's:
    # a script with tall marks (Arabic) reaches further than its size suggests.
    ink_top: int = 0
    ink_bottom: int = 0
    direction: str | None = None

    @property
    def height(self) -> int:
        """From the top of the ink to its bottom."""
        return self.line_height * (len(self.lines) - 1) + self.ink_bottom - self.ink_top


def wrap(text: str, font: ImageFont.FreeTypeFont, room: int, language: str) -> list[str]:
    """``text`` in lines at most ``room`` pixels wide, broken where its script allows (UAX
    #14; budoux phrases in CJK; never before closing punctuation); a unit wider than the
    room is cut between characters. Kept as written: spaces between units stay."""
    units = linebreak.phrases(" ".join(text.split()), languages.get(language).code)
    direction = _direction(language)

    def length(line: str) -> float:
        return float(font.getlength(line, direction=direction))

    lines: list[str] = []
    cur = ""
    for unit in units:
        if length((cur + unit).rstrip()) <= room or not cur:
            cur += unit
        else:
            lines.append(cur.rstrip())
            cur = unit
        while length(cur.rstrip()) > room and len(cur.rstrip()) > 1:
            cut = len(cur)
            while cut > 1 and length(cur[:cut]) > room:
                cut -= 1
            lines.append(cur[:cut].rstrip())
            cur = cur[cut:]
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def fit(
    text: str,
    font_file: Path,
    box: tuple[int, int],
    *,
    size: int,
    floor: int,
    language: str = "en",
    max_lines: int = 6,
    spacing: float = 1.2,
) -> TextBlock | None:
    """``text`` wrapped into ``box`` (width, height) at the largest size from ``size`` down to
    ``floor`` that fits in at most ``max_lines`` lines; None if none does."""
    room_w, room_h = box
    s = size
    while s >= floor:
        font = _font(font_file, s)
        direction = _direction(language)
        # Cheap first: lines the text needs at the least, if each were filled to the brim.
        least = font.getlength(text, direction=direction) / room_w
        if least > max_lines or least * s * spacing > room_h:
            s -= max(1, s // 20)
            continue
        lines = wrap(text, font, room_w, language)
        boxes = [font.getbbox(line, direction=direction) for line in lines] or [(0, 0, 0, s)]
        tallest = max(b[3] - b[1] for b in boxes)
        height = max(round(s * spacing), round(tallest * 1.08))
        widest = max((font.getlength(line, direction=direction) for line in lines), default=0.0)
        block = TextBlock(
            tuple(lines),
            s,
            height,
            round(widest),
            int(boxes[0][1]),
            int(boxes[-1][3]),
            direction,
        )
        if len(lines) <= max_lines and widest <= room_w and block.height <= room_h:
            return block
        s -= max(1, s // 20)
    return None


def fit_or_refuse(
    text: str, what: str, font_file: Path, box: tuple[int, int], **options: object
) -> TextBlock:
    """``fit``, or one clear error naming the text (``what``: "heading", "title")."""
    block = fit(text, font_file, box, **options)  # type: ignore[arg-type]
    if block is None:
        short = text if len(text) <= 60 else text[:57] + "..."
        raise PersonaForgeError(
            f"the {what} {short!r} does not fit a {box[0]}x{box[1]} box even at the smallest"
            " readable size: shorten it"
        )
    return block


def draw_block(
    draw: ImageDraw.ImageDraw,
    block: TextBlock,
    font_file: Path,
    origin: tuple[int, int],
    *,
    width: int,
    align: str,
    colour: tuple[int, int, int],
    stroke: int = 0,
    shadow: bool = False,
) -> int:
    """Draw ``block`` from ``origin`` (left, top) in a column ``width`` wide, each line
    aligned left, right or centre; ``origin``'s top is where the ink starts. Returns the y
    where the ink ends."""
    font = _font(font_file, block.size)
    left, y = origin
    y -= block.ink_top
    drop = max(1, block.size // 24)
    for line in block.lines:
        w = font.getlength(line, direction=block.direction)
        x = (
            left
            if align == "left"
            else left + width - w
            if align == "right"
            else left + (width - w) / 2
        )
        if shadow:
            draw.text(
                (x + drop, y + drop), line, font=font, fill=(0, 0, 0), direction=block.direction
            )
        draw.text((x, y), line, font=font, fill=colour, stroke_width=stroke, stroke_fill=(0, 0, 0),
                  direction=block.direction)  # fmt: skip
        y += block.line_height
    return y - block.line_height + block.ink_bottom + stroke


def title_card(
    text: str,
    size: tuple[int, int],
    *,
    font_file: Path,
    background: str,
    accent: str,
    text_colour: str = "#ffffff",
    quote_by: str | None = None,
    language: str = "en",
) -> Image.Image:
    """A heading (or, with ``quote_by``, a quotation and who said it) centred on the card,
    wrapped, shrunk to fit down to half its size, with the accent bar under the heading;
    one line naming the heading when even that does not fit."""
    width, height = size
    require_shaping(text, language)
    canvas = Image.new("RGB", size, hex_rgb(background))
    draw = ImageDraw.Draw(canvas)
    base = max(8, int(min(width, height) / 11))
    portrait = height > width
    room = (round(width * 0.8), round(height * (0.6 if portrait else 0.62)))
    if quote_by is not None:
        base = max(8, round(base * 0.7))
        text = f"\u201c{text}\u201d"
    block = fit_or_refuse(
        text, "quote" if quote_by is not None else "heading", font_file, room,
        size=base, floor=max(6, base // 2), language=language, max_lines=8 if portrait else 4,
    )  # fmt: skip
    credit = None
    if quote_by:
        credit = fit(f"\u2014 {quote_by}", font_file, (room[0], base * 2), size=block.size,
                     floor=max(6, block.size // 2), language=language, max_lines=1)  # fmt: skip
    bar_h = max(2, height // 90)
    gap = round(block.size * 0.6)
    total = block.height + (gap + bar_h if quote_by is None else 0)
    total += credit.height + gap if credit else 0
    top = (height - total) // 2
    column = (width - room[0]) // 2
    y = draw_block(
        draw, block, font_file, (column, top), width=room[0], align="center",
        colour=hex_rgb(text_colour), shadow=True,
    )  # fmt: skip
    if quote_by is None:
        bar_w = round(width * 0.3)
        y += gap
        draw.rectangle(
            ((width - bar_w) // 2, y, (width + bar_w) // 2, y + bar_h - 1), fill=hex_rgb(accent)
        )
    elif credit is not None:
        draw_block(
            draw, credit, font_file, (column, y + gap), width=room[0], align="center",
            colour=hex_rgb(text_colour),
        )  # fmt: skip
    return canvas
