"""Title cards and thumbnails drawn with Pillow: long headings wrap, shrink to a floor, or are
refused in one line; the accent bar sits under the text; thumbnails are never upscaled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from personaforge.assets import font_path
from personaforge.errors import PersonaForgeError
from personaforge.media.cards import title_card
from personaforge.media.thumbnail import THUMBNAIL_SIZES, make_thumbnail, persona_box
from personaforge.text import fonts

LONG = "Five Things Nobody Tells You About Starting Your Own Small Business"
ACCENT = (46, 196, 182)
BACKGROUND = "#1b1f3b"


def _card(text: str, size: tuple[int, int], lang: str = "en") -> np.ndarray:
    image = title_card(
        text, size, font_file=fonts.for_language(lang).file if lang != "en" else font_path(),
        background=BACKGROUND, accent="#2ec4b6", language=lang,
    )  # fmt: skip
    assert image.size == size
    return np.asarray(image).astype(int)


@pytest.mark.parametrize(
    ("size", "lang", "text"),
    [
        ((1080, 1920), "en", LONG),  # shorts, full size: the reported overflow
        ((180, 320), "en", LONG),
        ((320, 180), "en", LONG),
        ((180, 180), "en", LONG),
        ((320, 180), "ar", "خمسة أشياء لا يخبرك بها أحد عن بدء عملك الصغير الخاص"),
        ((180, 320), "ja", "自分で小さな会社を始めるときに誰も教えてくれない五つのこと"),
    ],
)
def test_a_long_heading_fits_its_card_with_the_bar_under_it(
    size: tuple[int, int], lang: str, text: str
) -> None:
    w, h = size
    img = _card(text, size, lang)
    ink = img.min(axis=2) > 170  # the white text (its shadow is black)
    bar = np.abs(img - np.array(ACCENT)).sum(axis=2) < 30
    ink_rows, ink_cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    bar_rows = np.flatnonzero(bar.any(axis=1))
    assert ink_rows.size and bar_rows.size
    # Inside the card's 10% side margins, not clipped at any edge.
    assert ink_cols.min() >= w * 0.1 - 2 and ink_cols.max() <= w * 0.9 + 2
    assert ink_rows.min() > 0 and ink_rows.max() < h - 1
    # The bar is below the last line of text, apart from it: it strikes through nothing.
    assert bar_rows.min() > ink_rows.max() + 1, (bar_rows.min(), ink_rows.max())
    assert not ink[bar_rows.min() : bar_rows.max() + 1].any()


def test_a_heading_that_cannot_fit_is_refused_in_one_line_naming_it() -> None:
    heading = "An unreasonably long heading " * 20
    with pytest.raises(PersonaForgeError) as err:
        _card(heading, (320, 180))
    message = str(err.value)
    assert "heading" in message and "An unreasonably long heading" in message
    assert "\n" not in message and "shorten it" in message


def test_an_encoded_title_card_refuses_before_writing(tmp_path: Path) -> None:
    from personaforge.core.specs import Look
    from personaforge.progress import NullProgress
    from personaforge.stages.parts.segments import encode_title

    out = tmp_path / "seg.mp4"
    with pytest.raises(PersonaForgeError, match="heading"):
        encode_title(
            "Words " * 200, Look(), width=320, height=180, fps=30, frames=30, ass=None,
            out=out, progress=NullProgress(),
        )  # fmt: skip
    assert not out.exists()


def test_a_thumbnail_never_upscales_a_small_frame() -> None:
    size = THUMBNAIL_SIZES["youtube"]
    frame = Image.new("RGB", (64, 36), (250, 10, 10))
    thumb = np.asarray(
        make_thumbnail(
            frame, "Hello", size, font_file=font_path(), background="#000000", accent="#2ec4b6"
        )
    ).astype(int)
    red = (thumb[:, :, 0] > 200) & (thumb[:, :, 1] < 60)
    rows, cols = np.flatnonzero(red.any(axis=1)), np.flatnonzero(red.any(axis=0))
    # The frame's top 76% (27 rows) at its own size, centred in the persona box.
    assert cols.size == 64 and rows.size == 27
    x0, _, x1, _ = persona_box(size)
    assert x0 <= cols.min() and cols.max() < x1


@pytest.mark.parametrize("fmt", sorted(THUMBNAIL_SIZES))
def test_a_drawn_persona_is_pasted_at_its_own_size_and_the_title_fits(fmt: str) -> None:
    size = THUMBNAIL_SIZES[fmt]
    x0, y0, x1, y1 = persona_box(size)
    rng = np.random.default_rng(1)
    drawn = Image.fromarray(rng.integers(0, 255, (y1 - y0, x1 - x0, 3), dtype=np.uint8))
    thumb = make_thumbnail(
        drawn, LONG, size, font_file=font_path(), background="#000000", accent="#2ec4b6",
        drawn=True,
    )  # fmt: skip
    assert thumb.size == size
    assert np.array_equal(np.asarray(thumb)[y0:y1, x0:x1], np.asarray(drawn))
    outside = np.asarray(thumb).copy()
    outside[y0:y1, x0:x1] = 0
    ink = outside.min(axis=2) > 200
    assert ink.sum() > 1000  # the title is drawn beside or under the persona
    cols = np.flatnonzero(ink.any(axis=0))
    assert cols.max() < size[0] - 1  # not clipped
