"""Escaping for ASS, WebVTT, SRT and ffmpeg filter values, checked against the real consumers."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from personaforge.assets import font_path
from personaforge.text.escape import (
    WORD_JOINER,
    ass_text,
    filter_value,
    srt_text,
    vtt_text,
)

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()

NASTY = [
    "plain words",
    'He said: "it\'s fine", ok; [really] {no} <b>bold</b> & co.',
    "100% of 50%% is %{pts} or %d and \\N \\n \\h \\{ \\} \\\\ end\\",
    "a --> b --> c",
    "  leading and trailing  ",
    "emoji 🙂🎬 and accents éàü and CJK 字幕",
    "line one\nline two\r\nline three\rfour\u2028five",
    "{\\b1}hidden?{\\b0} {\\an8}top? {Y:i}microdvd",
    "tab\there, nul\x00 bell\x07 gone",
    "",
]


def _ass_decode(escaped: str) -> str:
    """Read ASS Text the way libass does (no override blocks expected in escaped text)."""
    out: list[str] = []
    i = 0
    while i < len(escaped):
        ch = escaped[i]
        nxt = escaped[i + 1] if i + 1 < len(escaped) else ""
        if ch == "{":
            raise AssertionError(f"unescaped override brace at {i} in {escaped!r}")
        if ch == "\\" and nxt in ("N", "n", "h", "{", "}"):
            out.append({"N": "\n", "n": " ", "h": " ", "{": "{", "}": "}"}[nxt])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out).replace("\\" + WORD_JOINER, "\\")


def _normalised(s: str) -> str:
    """What the escapers promise to keep: one kind of newline, no controls, tabs as spaces."""
    s = re.sub(r"\r\n|[\r\u2028]", "\n", s).replace("\t", " ")
    return re.sub(r"[\x00-\x08\x0e-\x1f]", "", s)


# --------------------------------------------------------------------------- ASS


@pytest.mark.parametrize("s", NASTY)
def test_ass_text_round_trips_through_libass_rules(s: str) -> None:
    escaped = ass_text(s)
    assert "\n" not in escaped and "\r" not in escaped
    assert _ass_decode(escaped) == _normalised(s)


def test_ass_text_specific_forms() -> None:
    assert ass_text("a{b}c") == "a\\{b\\}c"
    assert ass_text("x\\Ny") == "x\\" + WORD_JOINER + "Ny"
    assert ass_text("one\ntwo") == "one\\Ntwo"
    assert ass_text(" pad ") == "\\hpad\\h"
    assert ass_text("a, b: c; d") == "a, b: c; d"


def _render_ass_text(tmp_path: Path, text_field: str) -> np.ndarray:
    fonts = tmp_path / "fonts"
    fonts.mkdir(exist_ok=True)
    shutil.copy(font_path(), fonts / font_path().name)
    (tmp_path / "t.ass").write_text(
        "[Script Info]\nScriptType: v4.00+\nPlayResX: 320\nPlayResY: 180\nWrapStyle: 2\n\n"
        "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, Bold, Alignment, "
        "MarginL, MarginR, MarginV, BorderStyle, Outline, Shadow\n"
        "Style: Default,DejaVu Sans,24,&H00FFFFFF,-1,5,0,0,0,1,0,0\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Text\n"
        f"Dialogue: 0,0:00:00.00,0:00:01.00,Default,{text_field}\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [
            *(FFMPEG, "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=320x180:d=0.5:r=10"),
            *("-vf", "subtitles=filename=t.ass:fontsdir=fonts", "-frames:v", "1"),
            *("-f", "rawvideo", "-pix_fmt", "gray", "-"),
        ],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(run.stdout, np.uint8).reshape(180, 320)


def _rows_with_ink(img: np.ndarray) -> int:
    return int((img > 128).any(axis=1).sum())


def test_ass_text_is_drawn_literally_by_libass(tmp_path: Path) -> None:
    one_line = _rows_with_ink(_render_ass_text(tmp_path, "AB"))
    # Raw, "\N" breaks the line and "{...}" is swallowed: the test can tell the difference.
    assert _rows_with_ink(_render_ass_text(tmp_path, "A\\NB")) > 1.5 * one_line
    assert _rows_with_ink(_render_ass_text(tmp_path, "{AB}")) == 0
    assert _rows_with_ink(_render_ass_text(tmp_path, ass_text("A\\NB"))) < 1.3 * one_line
    assert _rows_with_ink(_render_ass_text(tmp_path, ass_text("{AB}"))) >= one_line
    two = _rows_with_ink(_render_ass_text(tmp_path, ass_text("A\nB")))
    assert two > 1.5 * one_line


# --------------------------------------------------------------------------- WebVTT


@pytest.mark.parametrize("s", NASTY)
def test_vtt_text_is_a_safe_payload(s: str) -> None:
    escaped = vtt_text(s)
    assert "-->" not in escaped
    assert "<" not in escaped and ">" not in escaped
    assert all(line.strip() for line in escaped.split("\n")) or escaped == ""
    assert "\r" not in escaped
    # Entities are the only thing changed, besides dropped blank lines and controls.
    expected = [line for line in _normalised(s).split("\n") if line.strip()]
    assert html.unescape(escaped).split("\n") == (expected or [""])


def test_vtt_text_specific_forms() -> None:
    assert vtt_text("a<b>&c-->d") == "a&lt;b&gt;&amp;c--&gt;d"
    assert vtt_text("one\n\n  \ntwo") == "one\ntwo"


# --------------------------------------------------------------------------- SRT


@pytest.mark.parametrize("s", NASTY)
def test_srt_text_has_no_tags_or_blank_lines(s: str) -> None:
    escaped = srt_text(s)
    assert not set("<>{}") & set(escaped)
    assert "-->" not in escaped
    assert all(line.strip() for line in escaped.split("\n")) or escaped == ""
    assert re.search(r"\\(?!" + WORD_JOINER + ")", escaped) is None


def test_srt_text_survives_ffmpegs_srt_decoder(tmp_path: Path) -> None:
    """ffmpeg (and mpv, which uses it) turns SRT into ASS: <tags>, {\\tags} and \\N all act."""
    texts = [t for t in (srt_text(s) for s in NASTY) if t]
    blocks = [
        f"{i}\n00:00:{i:02d},000 --> 00:00:{i:02d},500\n{t}\n" for i, t in enumerate(texts, 1)
    ]
    (tmp_path / "in.srt").write_text("\n".join(blocks), encoding="utf-8")
    subprocess.run([FFMPEG, "-v", "error", "-i", "in.srt", "out.ass"], cwd=tmp_path, check=True)
    dialogue = [
        line.split(",", 9)[9]
        for line in (tmp_path / "out.ass").read_text(encoding="utf-8").splitlines()
        if line.startswith("Dialogue:")
    ]
    # ffmpeg trims spaces at the ends of lines, which carry nothing in a caption.
    expected = ["\n".join(x.strip() for x in t.split("\n")) for t in texts]
    assert [_ass_decode(d) for d in dialogue] == [
        t.replace("\\" + WORD_JOINER, "\\") for t in expected
    ]


# --------------------------------------------------------------------------- ffmpeg filters


def test_filter_value_docstring_example() -> None:
    assert filter_value("it's") == "\\'it\\'\\\\\\'\\'s\\'"
    assert filter_value("a,b") == "\\'a\\,b\\'"


FILTER_TEXT = '  He said: "it\'s 100% {ok}", [a]; b\\c \\N <x> & é 🙂 %{pts} %% = =\n line2 -->  '


def _ffmpeg_graph(graph: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *(FFMPEG, "-hide_banner", "-v", "error", "-f", "lavfi", "-i"),
            *("color=c=black:s=64x64:d=0.1", "-vf", graph, "-f", "null", "-"),
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )


@pytest.fixture
def nasty_dir(tmp_path: Path) -> Path:
    d = tmp_path / "it's: a, [weird]; dir = ok"
    d.mkdir()
    shutil.copy(font_path(), d / "Deja Vu: it's, [b];.ttf")
    return d


def test_filter_value_survives_drawtext_and_metadata(nasty_dir: Path) -> None:
    font = nasty_dir / "Deja Vu: it's, [b];.ttf"
    out = nasty_dir / "meta, 'out'.txt"
    graph = (
        f"drawtext=fontfile={filter_value(str(font))}:text={filter_value(FILTER_TEXT)}"
        ":expansion=none:fontsize=10:fontcolor=white,"
        f"metadata=mode=add:key=pf:value={filter_value(FILTER_TEXT)},"
        f"metadata=mode=print:key=pf:file={filter_value(str(out))}"
    )
    run = _ffmpeg_graph(graph, nasty_dir)
    assert run.returncode == 0, run.stderr
    # metadata=print writes back exactly the value the filter received.
    assert f"pf={FILTER_TEXT}\n" in out.read_text(encoding="utf-8")


def test_filter_value_is_needed(nasty_dir: Path) -> None:
    """Without escaping the same graph fails, so the test above can fail."""
    font = nasty_dir / "Deja Vu: it's, [b];.ttf"
    graph = f"drawtext=fontfile={font}:text={FILTER_TEXT}:expansion=none"
    assert _ffmpeg_graph(graph, nasty_dir).returncode != 0


def test_drawtext_needs_expansion_none_for_percent(nasty_dir: Path) -> None:
    """filter_value leaves drawtext's own %-expansion alone: expansion=none is the contract."""
    font = nasty_dir / "Deja Vu: it's, [b];.ttf"
    graph = f"drawtext=fontfile={filter_value(str(font))}:text={filter_value('100% sure')}"
    assert _ffmpeg_graph(graph, nasty_dir).returncode != 0
