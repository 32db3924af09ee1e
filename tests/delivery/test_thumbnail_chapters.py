"""The thumbnail and the chapters: made by render, listed in its manifest, published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from personaforge.delivery.chapters import clock, parse_chapters, youtube_chapters


def test_chapters_in_youtube_format() -> None:
    made = youtube_chapters(
        [(0.0, "Intro"), (65.4, "The  middle"), (3700.0, "End")], "Video", 3800.0
    )
    assert made.text == "0:00 Intro\n1:05 The middle\n1:01:40 End\n" and made.note is None
    assert parse_chapters(made.text) == [(0.0, "Intro"), (65.0, "The middle"), (3700.0, "End")]
    # The first chapter is at 0:00: the title opens the list if no heading comes early.
    made = youtube_chapters([(12.0, "One"), (30.0, "Two")], "My video", 60.0)
    assert made.text == "0:00 My video\n0:12 One\n0:30 Two\n"
    # A heading after a one-second intro card takes the intro into its chapter.
    made = youtube_chapters([(1.0, "One"), (20.0, "Two"), (40.0, "Three")], "T", 60.0)
    assert made.text == "0:00 One\n0:20 Two\n0:40 Three\n"
    # Headings on the same second become one chapter.
    made = youtube_chapters([(0.0, "A"), (0.5, "B"), (20.0, "C"), (40.0, "D")], "T", 60.0)
    assert made.text == "0:00 A — B\n0:20 C\n0:40 D\n"
    assert clock(59.999) == "0:59" and clock(600) == "10:00"


def test_no_chapters_where_youtube_would_drop_them() -> None:
    # Fewer than three.
    made = youtube_chapters([(0.0, "Hello")], "Hello", 19.0)
    assert made.text is None and "at least 3" in (made.note or "")
    # One under 10 s (the showcase's second heading, 7.6 s before the end).
    made = youtube_chapters([(1.0, "A"), (17.0, "B"), (30.0, "C")], "T", 37.6)
    assert made.text is None and "'C' at 0:30 lasts 7 s" in (made.note or "")
    with pytest.raises(ValueError, match="line 2"):
        parse_chapters("0:00 A\nsoon B\n")


@pytest.mark.slow
def test_render_makes_and_publishes_a_thumbnail_and_chapters(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    render = yaml.safe_load((folder / "build/render.yaml").read_text())
    thumb = folder / render["thumbnail"]["path"]
    # One heading: one chapter, which YouTube would not show, so no chapters file.
    assert render.get("chapters") is None and "at least 3" in render["chapters_note"]
    assert thumb.name == "tiny-test.jpg"
    image = Image.open(thumb)
    assert image.format == "JPEG" and image.size == (1280, 720)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    # Big title text on the left (white, outlined), the persona on the right.
    left, right = pixels[:, :500], pixels[:, 600:]
    assert (left.min(axis=2) > 220).mean() > 0.03
    assert right.std() > 20
    # Drawn at its own size, not a small frame scaled up: its edges are as sharp as they get,
    # much sharper than the same picture passed through the video's own (tiny) size.
    persona = image.convert("L").crop((640, 0, 1280, 720))
    small = persona.resize((persona.width // 4, persona.height // 4), Image.Resampling.BILINEAR)
    blurred = small.resize(persona.size, Image.Resampling.BICUBIC)

    def edges(img: Image.Image) -> float:
        a = np.asarray(img).astype(int)
        return float(np.abs(np.diff(a, axis=1)).mean() + np.abs(np.diff(a, axis=0)).mean())

    assert edges(persona) > edges(blurred) * 1.3, (edges(persona), edges(blurred))
    published = {Path(u).name for u in result["published"]}
    assert "tiny-test.jpg" in published and "tiny-test.chapters.txt" not in published
