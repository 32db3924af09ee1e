"""Files shipped inside the package: the caption font and its licence."""

from __future__ import annotations

from pathlib import Path

FONT_FILE = "DejaVuSans-Bold.ttf"
FONT_NAME = "DejaVu Sans"


def fonts_dir() -> Path:
    return Path(__file__).resolve().parent / "fonts"


def font_path() -> Path:
    return fonts_dir() / FONT_FILE
