"""The thumbnail and the chapters: made by render, listed in its manifest, published."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from personaforge.chapters import chapters_text, clock


def test_chapters_in_youtube_format() -> None:
    text = chapters_text([(0.0, "Intro"), (65.4, "The  middle"), (3700.0, "End")], "Video")
    assert text == "0:00 Intro\n1:05 The middle\n1:01:40 End\n"
    # YouTube's first chapter is at 0:00: the title opens the list if no heading does.
    assert chapters_text([(4.2, "Part one")], "My video") == "0:00 My video\n0:04 Part one\n"
    # Headings on the same second become one chapter.
    assert chapters_text([(0.0, "A"), (0.5, "B")], "T") == "0:00 A — B\n"
    assert clock(59.999) == "0:59" and clock(600) == "10:00"


@pytest.mark.slow
def test_render_makes_and_publishes_a_thumbnail_and_chapters(rendered: tuple[Path, dict]) -> None:
    folder, result = rendered
    render = yaml.safe_load((folder / "build/render.yaml").read_text())
    thumb = folder / render["thumbnail"]["path"]
    chapters = folder / render["chapters"]["path"]
    assert thumb.name == "tiny-test.jpg" and chapters.name == "tiny-test.chapters.txt"
    image = Image.open(thumb)
    assert image.format == "JPEG" and image.size == (1280, 720)
    pixels = np.asarray(image.convert("RGB")).astype(int)
    # Big title text on the left (white, outlined), the persona on the right.
    left, right = pixels[:, :500], pixels[:, 600:]
    assert (left.min(axis=2) > 220).mean() > 0.03
    assert right.std() > 20
    assert chapters.read_text() == "0:00 Tiny test\n"
    published = {Path(u).name for u in result["published"]}
    assert {"tiny-test.jpg", "tiny-test.chapters.txt"} <= published
