"""Write caption cues as an ASS script for libass: styles, karaoke, fonts, overlays."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from pathlib import Path

from PIL import ImageFont

from personaforge.assets import FONT_NAME, font_path
from personaforge.captions.cues import (
    CAPTION_STYLES,
    POP_MAX_CHARS,
    Cue,
    check_order,
    display_width,
)
from personaforge.core.colour import rgb_channels
from personaforge.text import fonts, languages
from personaforge.text.caption_rules import (
    MIN_FONT_SCALE,
    NO_LINE_START,
    shape,
)
from personaforge.text.escape import ass_text


def _cs(seconds: float) -> int:
    """Centiseconds, via whole milliseconds so ASS and VTT/SRT round the same way."""
    return (round(seconds * 1000) + 5) // 10


def _ass_clock(cs: int) -> str:
    h, rest = divmod(cs, 360_000)
    m, rest = divmod(rest, 6000)
    s, cs = divmod(rest, 100)
    return f"{h:d}:{m:02d}:{s:02d}.{cs:02d}"


def _ass_color(rgb: int, alpha: int = 0) -> str:
    r, g, b = rgb_channels(rgb)
    return f"&H{alpha:02X}{b:02X}{g:02X}{r:02X}"


# Without the font's metrics, assume a bold sans averages 0.62 px per unit of ASS size
# per character; DejaVu Sans Bold measures about 0.52 on English text.
_FALLBACK_UNITS_PER_CHAR = 0.62
# Size the font as if a line were at least this wide, so a video of short lines does not
# get huge letters (it only matters for portrait frames: landscape is capped by height/18).
_MIN_DESIGN_UNITS = 24 * 0.52
# A dropped pictograph between a word and its punctuation leaves no space ("it 🎉." -> "it.").
_CLOSING = frozenset(NO_LINE_START | set("%"))
RLM = "\u200f"  # RIGHT-TO-LEFT MARK


@functools.lru_cache(maxsize=1)
def bundled_fonts() -> dict[str, Path]:
    """Every bundled font by its family name: the Latin default first, then each script's."""
    found = {FONT_NAME: font_path()}
    for lang in languages.LANGUAGES.values():
        font = fonts.for_language(lang.code)
        found.setdefault(font.family, font.file)
    return found


def font_scale(font_name: str) -> float:
    """How much larger a bundled script font is set to read like the Latin one (1 for any
    other font): the language table's ``font_scale``."""
    for lang in languages.LANGUAGES.values():
        if lang.font_family == font_name:
            return lang.font_scale
    return 1.0


def _font_file(font_name: str) -> Path | None:
    return bundled_fonts().get(font_name)


@functools.lru_cache(maxsize=8)
def _metrics_font(file: Path) -> tuple[ImageFont.FreeTypeFont, int]:
    font = ImageFont.truetype(str(file), 1000)
    ascent, descent = font.getmetrics()
    return font, ascent + descent


def _fallback(text: str, font_name: str) -> str | None:
    """The bundled font that draws every letter of ``text`` that ``font_name`` cannot (a
    Japanese name in an English caption), or None."""
    primary = _font_file(font_name)
    if primary is None:
        return None
    lacking = "".join(fonts.missing(text, primary))
    if not lacking:
        return None
    for family, file in bundled_fonts().items():
        if family != font_name and not fonts.missing(lacking, file):
            return family
    return None


def undrawable(texts: Sequence[str], font_name: str) -> list[str]:
    """The letters, digits and punctuation in ``texts`` that neither ``font_name`` (when it is
    bundled) nor any other bundled font can draw: burned in, they would be empty boxes."""
    primary = _font_file(font_name)
    if primary is None:
        return []
    out: list[str] = []
    for text in texts:
        for ch in fonts.missing(text, primary):
            if ch not in out and all(fonts.missing(ch, f) for f in bundled_fonts().values()):
                out.append(ch)
    return out


def drawable(text: str, font_name: str = FONT_NAME) -> str:
    """``text`` without the characters the bundled font has no glyph for (emoji, most CJK).

    libass would draw those as empty boxes; burned captions leave them out, while the
    .vtt/.srt sidecars keep every character for players with fuller fonts. A dropped
    character leaves no stray space before the punctuation after it.
    """
    file = _font_file(font_name)
    if file is None:
        return text
    cmap = fonts.cmap(file)
    marked = "".join(ch if ch.isspace() or ord(ch) in cmap else "\x00" for ch in text)
    if "\x00" not in marked:
        return text
    closing = re.escape("".join(sorted(_CLOSING)))
    marked = re.sub(f" *\x00+ *(?=[{closing}])", "", marked)
    kept = marked.replace("\x00", "")
    return re.sub(" {2,}", " ", kept).strip(" ")


def _shown(word: str, font_name: str) -> str:
    """One word as ASS text: escaped, in a bundled fallback font where ``font_name`` lacks its
    letters, and without what no font draws."""
    family = _fallback(word, font_name)
    if family is None:
        return ass_text(drawable(word, font_name))
    return f"{{\\fn{family}}}{ass_text(drawable(word, family))}{{\\fn{font_name}}}"


def _shown_line(line: str, font_name: str) -> str:
    return " ".join(filter(None, (_shown(w, font_name) for w in line.split(" "))))


def _line_units(line: str, font_name: str) -> float:
    """Width of ``line`` in pixels per unit of ASS font size.

    libass scales a font so that ascent + descent equals the ASS size, so a bundled font's
    advance widths (shaped by raqm) divided by that height give the rendered width exactly.
    """
    file = _font_file(font_name)
    if file is not None:
        font, size_units = _metrics_font(file)
        return font.getlength(drawable(line, font_name)) / size_units
    return display_width(line) * _FALLBACK_UNITS_PER_CHAR


def _karaoke(cue: Cue, start_cs: int, end_cs: int) -> tuple[list[str], str]:
    r"""Per-word ``{\kN\kfM}`` tags, and a tail tag, adding up to exactly the cue length.

    ``\k`` covers the silence before a word and ``\kf`` sweeps the highlight across the word
    while it is spoken. Boundaries are rounded once and clamped into the cue, so the sum
    telescopes to ``end_cs - start_cs`` and libass stays in step with the voice.
    """
    tags: list[str] = []
    at = start_cs
    for w in cue.words:
        s = min(max(_cs(w.start), at), end_cs)
        e = min(max(_cs(w.end), s), end_cs)
        gap = f"\\k{s - at}" if s > at else ""
        tags.append(f"{{{gap}\\kf{e - s}}}")
        at = e
    # The trailing silence (and any min_duration stretch) is an empty syllable.
    tail = f"{{\\k{end_cs - at}}}" if at < end_cs else ""
    return tags, tail


def _line_counts(cue: Cue) -> tuple[int, ...]:
    """Words on each of the cue's lines, or () where its lines do not spell its words."""
    if cue.line_words and sum(cue.line_words) == len(cue.words):
        return cue.line_words
    per_line = [line.split(" ") for line in cue.lines]
    if [t for ws in per_line for t in ws] == [w.text for w in cue.words]:
        return tuple(len(ws) for ws in per_line)
    return ()


def _timed_lines(cue: Cue, tags: Sequence[str], font_name: str) -> list[str]:
    """The cue's lines, each word preceded by its timing tag; a word with nothing drawable
    keeps its tag but adds no space, and glued words (CJK) none either."""
    out: list[str] = []
    i = 0
    for count in _line_counts(cue):
        line, has_text = "", False
        for k in range(i, i + count):
            shown = _shown(cue.words[k].text, font_name)
            glued = not has_text or not shown or bool(cue.glue and cue.glue[k])
            glued = glued or drawable(cue.words[k].text, font_name)[:1] in _CLOSING
            line += ("" if glued else " ") + tags[k] + shown
            has_text = has_text or bool(shown)
        out.append(line)
        i += count
    return out


def _ass_dialogue_text(
    cue: Cue, start_cs: int, end_cs: int, highlight: bool, font_name: str, sweep: bool = True
) -> str:
    if not highlight or not _line_counts(cue):
        # Lines that do not spell out the cue's words (hand-made cues) get no per-word timing.
        return "\\N".join(_shown_line(line, font_name) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    if not sweep:  # right to left: \kf would sweep each word from its wrong end
        tags = [t.replace("\\kf", "\\k") for t in tags]
    return "\\N".join(_timed_lines(cue, tags, font_name)) + tail


def side_margin(width: int, height: int) -> int:
    """Each side's caption margin in pixels: title-safe, and clear of a portrait player's
    buttons (caption_rules.SIDE_MARGIN)."""
    from personaforge.text.caption_rules import SIDE_MARGIN

    return math.ceil(width * SIDE_MARGIN[shape(width, height)])


def caption_font_size(
    width: int, height: int, chars_per_line: int, style: str, scale: float = 1.0
) -> int:
    """The font size for a video's captions, from its frame and line length alone (never from
    its words), so every shot's segment draws captions alike and editing one sentence changes
    no other segment; ``scale`` sets a script that draws small (Arabic) larger. A line that
    would not fit at this size is shrunk on its own cue."""
    room = width - 2 * side_margin(width, height)
    if style == "bold-pop":
        fit = room / (POP_MAX_CHARS * _FALLBACK_UNITS_PER_CHAR + _edge(style))
        return max(1, math.floor(min(height / 9, fit) * scale))
    fit = room / (chars_per_line * _TYPICAL_UNITS_PER_CHAR + _edge(style))
    return max(1, math.floor(min(height / 18, fit) * scale))


def _edge(style: str) -> float:
    """What a line's outline (size/16 each side) or box padding (size/5 each side) adds to
    its width, per unit of font size: it must stay inside the safe area too."""
    return 0.4 if style == "boxed" else 1 / 8


# DejaVu Sans Bold averages about 0.52 px per unit of size on English text; a little more
# leaves room for wide words before a line needs shrinking.
_TYPICAL_UNITS_PER_CHAR = 0.55


def _style_line(
    *,
    font_name: str,
    font_size: int,
    primary: str,
    secondary: str,
    outline_colour: str,
    back: str,
    border_style: int,
    outline: float,
    shadow: float,
    alignment: int,
    margin_lr: int,
    margin_v: int,
    rtl: bool = False,
) -> str:
    return ",".join(
        [
            "Default",
            font_name.replace(",", " "),
            str(font_size),
            primary,  # PrimaryColour: spoken / all text
            secondary,  # SecondaryColour: not yet spoken (karaoke)
            outline_colour,  # OutlineColour (the box, with BorderStyle 3)
            back,  # BackColour: the shadow
            "-1",  # Bold
            "0",
            "0",
            "0",
            "100",
            "100",
            "0",
            "0",
            str(border_style),  # 1: outline + drop shadow; 3: opaque box
            f"{outline:g}",
            f"{shadow:g}",
            str(alignment),  # 2: bottom centre; 5: middle centre
            str(margin_lr),
            str(margin_lr),
            str(margin_v),
            # Encoding -1: libass finds each line's base direction (right to left in Arabic).
            "-1" if rtl else "1",
        ]
    )


def to_ass(
    cues: Sequence[Cue],
    *,
    width: int,
    height: int,
    font_name: str = "DejaVu Sans",
    font_size: int | None = None,
    margin_v: int | None = None,
    highlight: bool = True,
    style: str = "karaoke",
    text_colour: int = 0xFFFFFF,
    accent_colour: int = 0xFFD400,
    box_colour: int = 0x000000,
    language: str = "en",
) -> str:
    r"""A complete ASS script for libass: bold captions inside the title-safe area.

    Side margins are 5% of the width and ``margin_v`` defaults to 8% of the height. The
    default font size is height/18, shrunk so the widest line, outline included, fits in the
    90% safe width (measured with the bundled font's metrics when ``font_name`` is that
    font); with an explicit ``font_size`` a cue whose widest line would not fit is shrunk on
    its own. ``WrapStyle: 2`` stops libass re-wrapping our lines.

    Styles: ``karaoke`` (with ``highlight``) sweeps each word from grey (SecondaryColour) to
    ``text_colour`` while it is spoken, by ``\k``/``\kf`` karaoke tags whose centiseconds add
    up to the cue length; ``clean`` is the same without highlight; ``boxed`` sets the lines
    on a translucent ``box_colour`` box; ``bold-pop`` shows big centred words that pop in
    and turn ``accent_colour`` as they are said.
    """
    if width < 1 or height < 1:
        raise ValueError("width and height must be positive")
    if style not in CAPTION_STYLES:
        raise ValueError(f"unknown caption style {style!r}")
    check_order(cues)
    margin_lr = side_margin(width, height)
    rtl = languages.get(language).rtl
    if margin_v is None:
        margin_v = round(height * 0.08)
    if font_size is None:
        widest = max(
            (_line_units(line, font_name) for cue in cues for line in cue.lines), default=0.0
        )
        cap = height / 9 if style == "bold-pop" else height / 18
        # The outline (size/16 each side) counts too: it must stay inside the safe area.
        fit = (width - 2 * margin_lr) / (max(widest, _MIN_DESIGN_UNITS) + _edge(style))
        font_size = max(1, math.floor(min(cap, fit)))
    outline = max(1.0, round(font_size / 16, 1))  # keep in step with the fit above
    shadow = max(0.5, round(font_size / 30, 1))
    primary, secondary = _ass_color(text_colour), _ass_color(0xA8A8A8)
    outline_colour, back = _ass_color(0x101010), _ass_color(0x000000, 0x60)
    border_style, alignment = 1, 2
    karaoke = highlight and style == "karaoke"
    if style == "boxed":
        # libass draws BorderStyle 3's box in OutlineColour, ``outline`` pixels of padding.
        border_style, outline, shadow = 3, max(1.0, round(font_size / 5, 1)), 0.0
        outline_colour = _ass_color(box_colour, 0x40)
    elif style == "bold-pop":
        # \k (not \kf) flips each word to the accent the moment it is said.
        primary, secondary = _ass_color(accent_colour), _ass_color(text_colour)
        outline = max(1.0, round(font_size / 12, 1))
        outline_colour, alignment = _ass_color(0x000000), 5
    style_line = _style_line(
        font_name=font_name, font_size=font_size, primary=primary, secondary=secondary,
        outline_colour=outline_colour, back=back, border_style=border_style, outline=outline,
        shadow=shadow, alignment=alignment, margin_lr=margin_lr, margin_v=margin_v, rtl=rtl,
    )  # fmt: skip
    head = (
        "[Script Info]\n"
        "; Written by PersonaForge\n"
        "ScriptType: v4.00+\n"
        f"PlayResX: {width}\n"
        f"PlayResY: {height}\n"
        "WrapStyle: 2\n"
        "ScaledBorderAndShadow: yes\n"
        "YCbCr Matrix: None\n"
        "\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
        f"Style: {style_line}\n"
        "\n"
        "[Events]\n"
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    room = width - 2 * margin_lr
    events = []
    for cue in cues:
        s, e = _cs(cue.start), _cs(cue.end)
        if style == "bold-pop":
            text = _pop_text(cue, s, e, font_name)
        else:
            text = _ass_dialogue_text(cue, s, e, karaoke, font_name, sweep=not rtl)
        widest = max((_line_units(line, font_name) for line in cue.lines), default=0.0)
        if (widest + _edge(style)) * font_size > room:
            # Shrunk to fit, to a floor: words wider than a line were cut, so only a hand-made
            # cue or a narrow custom font gets here.
            fit = max(math.floor(room / (widest + _edge(style))), round(font_size * MIN_FONT_SCALE))
            text = f"{{\\fs{max(1, fit)}}}" + text
        if rtl:
            # libass takes a line's direction from its first strong letter: a line that
            # starts with a Latin name would run left to right. A right-to-left mark (drawn
            # as nothing) makes every line of a right-to-left language run right to left.
            text = RLM + text.replace("\\N", "\\N" + RLM)
        events.append(f"Dialogue: 0,{_ass_clock(s)},{_ass_clock(e)},Default,,0,0,0,,{text}\n")
    return head + "".join(events)


def _pop_text(cue: Cue, start_cs: int, end_cs: int, font_name: str) -> str:
    """Words that pop in (a quick scale from 80%) and flip colour as each is said."""
    pop = "{\\fscx80\\fscy80\\t(0,90,\\fscx100\\fscy100)}"
    if not _line_counts(cue):
        return pop + "\\N".join(_shown_line(line, font_name) for line in cue.lines)
    tags, tail = _karaoke(cue, start_cs, end_cs)
    tags = [t.replace("\\kf", "\\k") for t in tags]
    return pop + "\\N".join(_timed_lines(cue, tags, font_name)) + tail


def ellipsize(text: str, fits: float, font_name: str = FONT_NAME) -> str:
    """``text`` if it is at most ``fits`` units wide, else cut (at a word where it has
    spaces, else at a character) and ended with an ellipsis so that it is."""
    if _line_units(text, font_name) <= fits:
        return text
    words = text.split(" ")
    while len(words) > 1:
        words.pop()
        cut = " ".join(words).rstrip(",;:-–—") + "…"
        if _line_units(cut, font_name) <= fits:
            return cut
    chars = words[0]
    while len(chars) > 1:
        chars = chars[:-1]
        if _line_units(chars + "…", font_name) <= fits:
            return chars + "…"
    return chars + "…"


def add_lower_third(
    ass: str,
    name: str,
    role: str | None,
    *,
    width: int,
    height: int,
    end: float,
    above: int,
    font_name: str = "DejaVu Sans",
    accent_colour: int = 0xFFD400,
    text_colour: int = 0xFFFFFF,
    box_colour: int = 0x000000,
) -> str:
    """``ass`` (a script from to_ass) with a name strap: the name in bold over the role,
    on a box with an accent edge, bottom left inside the title-safe area, ``above`` pixels
    from the bottom (clear of the captions); it fades in after a moment and out after a few
    seconds, or with the shot. A long name shrinks to a floor (three quarters of its size),
    then ends in an ellipsis; a long role takes two lines, then an ellipsis."""
    base = max(8, round(height / 22 * font_scale(font_name)))
    margin_lr = side_margin(width, height)
    room = width * 0.6
    fit = room / (max(_line_units(name, font_name), 1.0) + 0.4)
    size = max(6, round(base * MIN_FONT_SCALE), min(base, math.floor(fit)))
    name = ellipsize(name, room / size - 0.4, font_name)
    role_size = max(6, round(size * 0.7))
    styles = [
        _style_line(
            font_name=font_name, font_size=size, primary=_ass_color(text_colour),
            secondary=_ass_color(text_colour), outline_colour=_ass_color(box_colour, 0x30),
            back=_ass_color(accent_colour), border_style=3, outline=round(size / 4, 1),
            shadow=0, alignment=1, margin_lr=margin_lr, margin_v=above,
        ).replace("Default", "LowerThird", 1)
    ]  # fmt: skip
    accent = _ass_color(accent_colour).replace("&H00", "&H", 1)
    text = _shown_line(name, font_name)
    if role:
        fits = room / role_size - 0.4
        lines = [ellipsize(line, fits, font_name) for line in two_lines(role, fits, font_name)]
        shown = "\\N".join(_shown_line(line, font_name) for line in lines)
        text += f"\\N{{\\fs{role_size}\\b0\\c{accent}&}}" + shown
    return _with_event(ass, styles, _overlay(1, "LowerThird", text, end, last_cs=500))


def _overlay(layer: int, style: str, text: str, end: float, last_cs: int | None = None) -> str:
    """An overlay's event: in a moment after the shot starts (0.3 s, or a quarter of a short
    shot), fading in and out, until ``end`` (or ``last_cs``, if sooner)."""
    start_cs = min(30, _cs(end) // 4)
    end_cs = max(start_cs + 4, _cs(end) if last_cs is None else min(_cs(end), last_cs))
    clock = f"{_ass_clock(start_cs)},{_ass_clock(end_cs)}"
    return f"Dialogue: {layer},{clock},{style},,0,0,0,,{{\\fad(200,200)}}{text}\n"


def _with_event(ass: str, styles: list[str], event: str) -> str:
    """``ass`` with ``styles`` added to its styles and ``event`` to its events."""
    head, _, events = ass.partition("\n[Events]\n")
    head = head.rstrip("\n") + "\n" + "\n".join(f"Style: {s}" for s in styles) + "\n"
    return head + "\n[Events]\n" + events + event


def two_lines(text: str, fits: float, font_name: str = FONT_NAME) -> list[str]:
    """``text`` on one line if it is at most ``fits`` units wide, else on two, split at the
    space that makes the longer line shortest."""
    words = text.split()
    if _line_units(text, font_name) <= fits or len(words) < 2:
        return [text]
    splits = ([" ".join(words[:i]), " ".join(words[i:])] for i in range(1, len(words)))
    return min(splits, key=lambda lines: max(_line_units(ln, font_name) for ln in lines))


def add_headline(
    ass: str,
    text: str,
    *,
    width: int,
    height: int,
    end: float,
    font_name: str = FONT_NAME,
    text_colour: int = 0xFFFFFF,
    box_colour: int = 0x000000,
) -> str:
    """``ass`` with the shot's on-screen text: bold, on a box, top centre inside the
    title-safe area (below the top bar portrait players draw), on one line or two; it fades
    in after a moment and out with the shot."""
    text = drawable(" ".join(text.split()), font_name)
    if not text:
        return ass
    base = max(8, round(min(width, height) / 15 * font_scale(font_name)))
    usable = width * 0.8  # 10% side margins
    lines = two_lines(text, usable / base - 0.5, font_name)
    widest = max(_line_units(line, font_name) for line in lines)
    # Shrunk to fit, down to a floor; what still does not fit ends in an ellipsis.
    size = max(6, round(base * MIN_FONT_SCALE), min(base, math.floor(usable / (widest + 0.5))))
    lines = [ellipsize(line, usable / size - 0.5, font_name) for line in lines]
    top = round(height * (0.12 if height > width else 0.08))
    styles = [
        _style_line(
            font_name=font_name, font_size=size, primary=_ass_color(text_colour),
            secondary=_ass_color(text_colour), outline_colour=_ass_color(box_colour, 0x30),
            back=_ass_color(box_colour, 0x30), border_style=3, outline=round(size / 4, 1),
            shadow=0, alignment=8, margin_lr=math.ceil(width * 0.1), margin_v=top,
        ).replace("Default", "Headline", 1)
    ]  # fmt: skip
    body = "\\N".join(_shown_line(line, font_name) for line in lines)
    return _with_event(ass, styles, _overlay(2, "Headline", body, end))
