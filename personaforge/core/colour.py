"""Colours as the manifests write them ('#rrggbb', checked in core/models.py), read one way."""

from __future__ import annotations


def hex_value(colour: str) -> int:
    """'#1a2b3c' (or '1a2b3c') as one 0xRRGGBB number."""
    return int(colour.lstrip("#"), 16)


def rgb_channels(value: int) -> tuple[int, int, int]:
    """0xRRGGBB as its (red, green, blue) bytes."""
    return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#1a2b3c' as (red, green, blue)."""
    return rgb_channels(hex_value(colour))
