"""The one place that escapes text for ASS, WebVTT, SRT and ffmpeg filtergraph option values."""

from __future__ import annotations

import re

# U+2060 WORD JOINER: zero-width and default-ignorable (DejaVu has an empty glyph for it).
# Put after a backslash it stops renderers from reading the backslash and the next
# character as an escape such as \N, \h or \{, and no format offers a real escape for "\".
WORD_JOINER = "\u2060"

_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
# C0/C1 controls other than newline and tab: invisible at best, and NUL ends strings in C code.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_FILTERGRAPH_SPECIAL = re.compile(r"([\\'\[\],;])")

# SRT has no escape mechanism, and players strip <...> (HTML-ish) and {...} (SSA/MicroDVD)
# as tags; ffmpeg even passes a "{" straight into its ASS output. Look-alikes keep the text
# readable in every player.
_SRT_LOOKALIKES = str.maketrans(
    {
        "<": "\u2039",  # SINGLE LEFT-POINTING ANGLE QUOTATION MARK
        ">": "\u203a",  # SINGLE RIGHT-POINTING ANGLE QUOTATION MARK
        "{": "\u2774",  # MEDIUM LEFT CURLY BRACKET ORNAMENT
        "}": "\u2775",  # MEDIUM RIGHT CURLY BRACKET ORNAMENT
        "\\": "\\" + WORD_JOINER,
    }
)


def _lines(s: str) -> list[str]:
    """Split on every kind of line break, drop control characters, and turn tabs into spaces."""
    s = _CONTROLS.sub("", _LINE_BREAKS.sub("\n", s)).replace("\t", " ")
    return s.split("\n")


def _ass_line(line: str) -> str:
    out: list[str] = []
    for ch in line:
        if ch == "\\":
            out.append("\\" + WORD_JOINER)
        elif ch in "{}":
            out.append("\\" + ch)
        else:
            out.append(ch)
    body = "".join(out)
    stripped = body.strip(" ")
    if not stripped:
        return "\\h" * len(body)
    lead = len(body) - len(body.lstrip(" "))
    trail = len(body) - len(body.rstrip(" "))
    return "\\h" * lead + stripped + "\\h" * trail


def ass_text(s: str) -> str:
    r"""Escape ``s`` for the Text field of an ASS ``Dialogue:`` line (as rendered by libass).

    ``{``/``}`` become ``\{``/``\}`` (libass escapes), so they never open an override
    block; a backslash is followed by a word joiner so ``\N``, ``\n``, ``\h`` in the text
    stay literal; line breaks become ``\N``; leading and trailing spaces of each line become
    hard spaces ``\h`` because libass trims ordinary ones. Commas need nothing: Text is the
    last field.
    """
    return "\\N".join(_ass_line(line) for line in _lines(s))


def vtt_text(s: str) -> str:
    """Escape ``s`` as a WebVTT cue payload.

    ``&``, ``<`` and ``>`` become character references, which also means no line can contain
    ``-->``; blank (or all-space) lines are dropped because a blank line ends the cue.
    """
    escaped = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join(line for line in _lines(escaped) if line.strip())


def srt_text(s: str) -> str:
    r"""Make ``s`` safe as SubRip cue text.

    SRT has no escapes, so ``<``/``>`` become ``‹``/``›`` and ``{``/``}`` become ``❴``/``❵``
    (players would take them for tags and hide the text; it also keeps ``-->`` out of the
    text); a backslash is followed by a word joiner so ffmpeg/mpv do not read ``\N``;
    blank lines are dropped because a blank line ends the cue.
    """
    return "\n".join(line.translate(_SRT_LOOKALIKES) for line in _lines(s) if line.strip())


def filter_value(s: str) -> str:
    r"""Escape ``s`` as one option value inside an ffmpeg filtergraph string.

    ffmpeg unescapes twice. The filtergraph parser first reads a filter's whole argument
    string up to an unescaped ``[ ] , ;``; then the filter splits that into ``key=value``
    pairs at ``:``. Both levels use the same rules: ``\`` escapes the next character,
    ``'...'`` quotes everything up to the next ``'``, and unquoted leading/trailing
    whitespace is dropped. So the value is first wrapped in single quotes (each ``'`` in it
    written as ``'\''``), then every ``\ ' [ ] , ;`` of that is backslash-escaped.
    Example: ``it's`` becomes ``\'it\'\\\'\'s\'``, used as ``text=<that>``.

    Only those two levels are handled. A filter may interpret the value a third time:
    drawtext expands ``%{...}`` and treats ``\`` specially in ``text``, so pass drawtext
    ``expansion=none`` and the text is drawn verbatim, ``%`` included.
    """
    quoted = "'" + s.replace("'", "'\\''") + "'"
    return _FILTERGRAPH_SPECIAL.sub(r"\\\1", quoted)
