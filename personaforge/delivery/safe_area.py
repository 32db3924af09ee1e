"""Where burned captions land in the frame, read from the ASS scripts libass burned (their
styles, margins, alignments and \\pos), with each line's width measured in the bundled font:
the box a platform's own buttons and text must not cover."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from personaforge.assets import font_path

# libass sizes a font so that its ascent plus descent (OS/2 win metrics) is the ASS font
# size; for DejaVu Sans Bold that is 1.164 em.
_EM_PER_SIZE = 1 / 1.164
_TAGS = re.compile(r"\{[^}]*\}")
_POS = re.compile(r"\\pos\(\s*([-\d.]+)\s*,\s*([-\d.]+)\s*\)")
_AN = re.compile(r"\\an(\d)")


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float


@dataclass(frozen=True)
class _Style:
    size: float
    outline: float
    alignment: int
    margins: tuple[int, int, int]  # L, R, V


def caption_boxes(ass: Path) -> tuple[list[Box], int, int]:
    """Every event's box (in the script's pixels) and the script's width and height."""
    styles: dict[str, _Style] = {}
    width = height = 0
    style_fields: list[str] = []
    event_fields: list[str] = []
    boxes = []
    fonts: dict[int, ImageFont.FreeTypeFont] = {}
    for raw in ass.read_text(encoding="utf-8").splitlines():
        key, _, value = raw.partition(":")
        value = value.strip()
        if key == "PlayResX":
            width = int(value)
        elif key == "PlayResY":
            height = int(value)
        elif key == "Format" and "Fontsize" in value:
            style_fields = [f.strip() for f in value.split(",")]
        elif key == "Format":
            event_fields = [f.strip() for f in value.split(",")]
        elif key == "Style":
            row = dict(zip(style_fields, (v.strip() for v in value.split(",")), strict=False))
            styles[row["Name"]] = _Style(
                float(row["Fontsize"]), float(row.get("Outline", 0)), int(row["Alignment"]),
                (int(row["MarginL"]), int(row["MarginR"]), int(row["MarginV"])),
            )  # fmt: skip
        elif key == "Dialogue":
            parts = value.split(",", len(event_fields) - 1)
            row = dict(zip(event_fields, parts, strict=False))
            style = styles.get(row.get("Style", "").strip())
            if style is None:
                continue
            text = row.get("Text", "")
            lines = [line for line in _TAGS.sub("", text).split("\\N") if line.strip()]
            if not lines:
                continue
            size = round(style.size * _EM_PER_SIZE)
            font = fonts.setdefault(size, ImageFont.truetype(str(font_path()), max(1, size)))
            w = max(font.getlength(line) for line in lines) + 2 * style.outline
            h = len(lines) * style.size + 2 * style.outline
            boxes.append(_place(text, style, w, h, width, height, row))
    return boxes, width, height


def _place(
    text: str, style: _Style, w: float, h: float, width: int, height: int, row: dict[str, str]
) -> Box:
    an = _AN.search(text)
    alignment = int(an[1]) if an else style.alignment
    margin_l, margin_r, margin_v = (
        int(row.get(name, "0") or 0) or default
        for name, default in zip(("MarginL", "MarginR", "MarginV"), style.margins, strict=True)
    )
    column, band = (alignment - 1) % 3, (alignment - 1) // 3  # 0 left/bottom .. 2 right/top
    pos = _POS.search(text)
    if pos:
        x, y = float(pos[1]), float(pos[2])
    else:
        x = (margin_l, (margin_l + width - margin_r) / 2, width - margin_r)[column]
        y = (height - margin_v, height / 2, margin_v)[band]
    left = x - (0, w / 2, w)[column]
    top = y - (h, h / 2, 0)[band]
    return Box(left, top, left + w, top + h)
