"""Cue building, and VTT/SRT/ASS output checked with real parsers and a real libass render."""

from __future__ import annotations

import html
import io
import random
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
import webvtt
from helpers import w3c_vtt

from personaforge.assets import FONT_NAME, font_path
from personaforge.captions.ass import to_ass
from personaforge.captions.cues import CaptionWord, Cue, build_cues
from personaforge.captions.subtitles import to_srt, to_vtt
from personaforge.text.escape import WORD_JOINER

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
NASTY_SCRIPT = (
    'He said: "it\'s fine", ok; [really] {no} <b>bold</b> & co. 100% sure? '
    "a --> b, c\\N d\\h {\\an8}top & <v Joe>voice</v> &amp; 🙂 emoji… yes! "
    "Dr. Smith's #1 rule: don't -- ever -- stop."
)


def timed(
    text: str, *, t0: float = 0.0, per_char: float = 0.06, gap: float = 0.05
) -> list[CaptionWord]:
    """Words of ``text`` spoken one after another, longer words taking longer."""
    words = []
    t = t0
    for token in text.split():
        d = 0.12 + per_char * len(token)
        words.append(CaptionWord(token, round(t, 3), round(t + d, 3)))
        t += d + gap
    return words


GAP = 2 / 30  # the rules' two frames between cues, at the default 30 fps


def rejoined(cues: Sequence[Cue]) -> list[str]:
    """The words the cues show, with the pieces of a word cut to fit a line put together."""
    out: list[str] = []
    for c in cues:
        for k, w in enumerate(c.words):
            if c.glue and c.glue[k] and out:
                out[-1] += w.text
            else:
                out.append(w.text)
    return out


def check_invariants(
    words: Sequence[CaptionWord],
    cues: Sequence[Cue],
    *,
    max_chars: int = 42,
    max_lines: int = 2,
    max_duration: float = 7.0,
) -> None:
    def bare(texts: Sequence[str]) -> list[str]:
        return [t.replace("-", "") for t in texts]

    assert bare(rejoined(cues)) == bare([w.text for w in words])
    ms = 0.0005  # cue times are rounded to milliseconds
    prev_end = -GAP
    for i, c in enumerate(cues):
        assert c.words, c
        assert 0 <= c.start < c.end
        assert c.start >= prev_end + GAP - ms or c.start - prev_end >= 0.04 - ms
        assert c.start <= max(c.words[0].start, prev_end + GAP) + ms
        nxt = cues[i + 1].start if i + 1 < len(cues) else float("inf")
        assert c.end >= min(c.words[-1].end, nxt - GAP) - ms
        prev_end = c.end
        assert 1 <= len(c.lines) <= max_lines
        assert "".join(c.lines).replace(" ", "") == "".join(w.text for w in c.words)
        for line in c.lines:
            assert len(line) <= max_chars, line
        if len(c.words) > 1:
            assert c.words[-1].end - c.words[0].start <= max_duration + 1e-9


def test_no_words_no_cues() -> None:
    assert build_cues([]) == []


def test_one_word_gets_min_duration() -> None:
    [cue] = build_cues([CaptionWord("Hi.", 1.0, 1.2)], min_duration=0.7)
    assert (cue.start, cue.end, cue.lines, cue.words) == (
        1.0,
        1.7,
        ("Hi.",),
        (CaptionWord("Hi.", 1.0, 1.2),),
    )


def test_seventy_word_sentence() -> None:
    text = " ".join(f"word{i}" if i % 9 else f"clause{i}," for i in range(1, 70)) + " end."
    words = timed(text, per_char=0.02)
    assert len(words) == 70
    cues = build_cues(words)
    check_invariants(words, cues)
    assert len(cues) >= 6
    # Cues that are not the last should be well filled, and both lines used.
    for c in cues[:-1]:
        assert len(c.lines) == 2
        assert sum(len(x) for x in c.lines) > 42
    # Balanced lines: no line less than half its partner.
    for c in cues:
        if len(c.lines) == 2:
            a, b = (len(x) for x in c.lines)
            assert min(a, b) * 2 >= max(a, b), c.lines


def test_breaks_prefer_commas_when_full() -> None:
    text = (
        "When the sun goes down over the quiet harbour town, "
        "the fishermen pull their boats up onto the sand and go home."
    )
    cues = build_cues(timed(text))
    assert len(cues) == 2
    assert cues[0].lines[-1].endswith("town,")


def test_comma_wins_over_an_even_split() -> None:
    # One 30-column line per cue: the even split is 22/18, the comma gives 14/26.
    text = "When it rains, we stay in and play games."
    cues = build_cues(timed(text, per_char=0.08), max_chars_per_line=30, max_lines=1)
    assert [c.lines for c in cues] == [("When it rains,",), ("we stay in and play games.",)]


def test_many_tiny_words_in_one_cue() -> None:
    words = timed(" ".join(["I", "a", "o"] * 40) + " end.", per_char=0.0, gap=0.0)
    cues = build_cues(words, max_duration=60)
    check_invariants(words, cues, max_duration=60)
    assert max(len(c.words) for c in cues) >= 35


def test_breaks_at_every_sentence_end() -> None:
    text = "Hi. I am Joe! Are you there? Yes… Good. Mr. Smith and Dr. Who agree, e.g. me."
    words = timed(text, per_char=0.12, gap=0.3)  # slow enough for each to be read alone
    cues = build_cues(words)
    check_invariants(words, cues)
    assert [" ".join(c.lines) for c in cues] == [
        "Hi.",
        "I am Joe!",
        "Are you there?",
        "Yes…",
        "Good.",
        "Mr. Smith and Dr. Who agree, e.g. me.",
    ]


def test_closing_quote_after_sentence_end_still_breaks() -> None:
    cues = build_cues(timed('He said "stop." Then left.'))
    assert [" ".join(c.lines) for c in cues] == ['He said "stop."', "Then left."]


def test_short_fast_sentences_share_a_cue_rather_than_flash() -> None:
    words = timed("Hi. I am Joe! Are you there? Yes… Good.")
    cues = build_cues(words)
    check_invariants(words, cues)
    assert all(c.end - c.start >= 5 / 6 - 1e-3 for c in cues)
    assert all(c.lines[-1][-1] in ".!?…" for c in cues)  # still broken at sentence ends


def test_a_word_longer_than_a_line_is_cut_to_fit_it() -> None:
    long = "Pneumonoultramicroscopicsilicovolcanoconiosis-and-then-some-more"
    words = timed(f"The word {long} is long but fine")
    cues = build_cues(words, max_chars_per_line=20)
    check_invariants(words, cues, max_chars=20)
    lines = [line for c in cues for line in c.lines]
    assert all(len(line) <= 20 for line in lines)
    assert "".join(rejoined(cues)).replace("-", "") == "".join(w.text for w in words).replace(
        "-", ""
    )


def test_zero_length_words_keep_their_place() -> None:
    words = [
        CaptionWord("Look", 0.0, 0.3),
        CaptionWord("🙂", 0.3, 0.3),
        CaptionWord("here.", 0.35, 0.7),
        CaptionWord("🎬", 0.7, 0.7),
        CaptionWord("Done.", 0.8, 1.2),
        CaptionWord("✨", 1.2, 1.2),
    ]
    cues = build_cues(words)
    check_invariants(words, cues)
    assert cues[-1].end - cues[-1].start >= 0.7 - 1e-9


def test_all_words_at_one_instant_still_make_valid_cues() -> None:
    words = [CaptionWord(t, 2.0, 2.0) for t in ("One.", "Two.", "Three.", "Four", "five", "six.")]
    cues = build_cues(words)
    check_invariants(words, cues)
    assert all(c.end - c.start >= 0.04 - 1e-9 for c in cues)
    assert to_vtt(cues)  # and they can be written


def test_min_duration_never_overlaps_the_next_cue() -> None:
    words = [CaptionWord("Yes.", 1.0, 1.1), CaptionWord("No.", 1.3, 1.5)]
    cues = build_cues(words, min_duration=0.7)
    # Apart, "Yes." could show for 0.23 s at most: the two share a cue.
    assert [(c.start, c.end, c.lines) for c in cues] == [(1.0, 1.7, ("Yes. No.",))]
    apart = [CaptionWord("Yes.", 1.0, 1.1), CaptionWord("No.", 2.3, 2.5)]
    cues = build_cues(apart, min_duration=0.7)
    assert [(c.start, c.end) for c in cues] == [(1.0, 1.7), (2.3, 3.0)]


def test_overlapping_and_negative_times_are_clamped() -> None:
    words = [
        CaptionWord("Early.", -0.5, 0.2),
        CaptionWord("Overlap", 0.1, 0.9),
        CaptionWord("back.", 0.05, 0.6),  # starts before its predecessor
        CaptionWord("Next.", 0.7, 1.0),
    ]
    cues = build_cues(words)
    check_invariants(words, cues)
    assert cues[0].start == 0.0
    assert cues[0].words[0] == CaptionWord("Early.", 0.0, 0.2)


def test_max_duration_splits_slow_speech() -> None:
    words = [CaptionWord(f"w{i}", i * 1.0, i * 1.0 + 0.8) for i in range(20)]
    cues = build_cues(words, max_duration=6.0)
    check_invariants(words, cues)
    assert len(cues) >= 4


def test_no_orphan_line() -> None:
    # Greedy filling would leave "end." alone on the second line.
    text = "This line is exactly long enough to wrap once at the end."
    cues = build_cues(timed(text, per_char=0.01), max_chars_per_line=50)
    [cue] = cues
    assert len(cue.lines) == 2
    assert all(" " in line for line in cue.lines)


@pytest.mark.parametrize("seed", range(8))
def test_random_scripts_keep_every_word_in_order(seed: int) -> None:
    rng = random.Random(seed)
    vocab = ["a", "the", "caption", "word,", "end.", "why?", "🙂", "x" * 50, "long-ish", "ok;"]
    words: list[CaptionWord] = []
    t = rng.uniform(-1, 1)
    for _ in range(rng.randint(1, 300)):
        d = rng.choice([0.0, 0.05, 0.3, 1.0])
        words.append(CaptionWord(rng.choice(vocab), t, t + d))
        t += d + rng.choice([0.0, 0.0, 0.1, 2.0, -0.05])
    max_chars = rng.choice([10, 20, 42])
    max_lines = rng.choice([1, 2, 3])
    cues = build_cues(words, max_chars_per_line=max_chars, max_lines=max_lines)
    check_invariants(words, cues, max_chars=max_chars, max_lines=max_lines)
    vtt = to_vtt(cues)
    assert len(webvtt.from_string(vtt).captions) == len(cues)


def test_bad_words_and_options_are_refused() -> None:
    with pytest.raises(ValueError, match="whitespace"):
        build_cues([CaptionWord("two words", 0, 1)])
    with pytest.raises(ValueError, match="non-finite"):
        build_cues([CaptionWord("nan", float("nan"), 1)])
    with pytest.raises(ValueError):
        build_cues(timed("a b"), max_lines=0)


# --------------------------------------------------------------------------- VTT / SRT


def test_vtt_round_trips_through_webvtt_py() -> None:
    words = timed(NASTY_SCRIPT, t0=3605.5)  # past an hour
    cues = build_cues(words)
    text = to_vtt(cues)
    assert text.startswith("WEBVTT\n\n")
    assert "\n\n\n" not in text
    for line in text.splitlines():
        if "-->" in line:
            assert re.fullmatch(r"\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}", line)
    parsed = webvtt.from_string(text)
    assert len(parsed.captions) == len(cues)
    for cap, cue in zip(parsed.captions, cues, strict=True):
        assert html.unescape(cap.text) == "\n".join(cue.lines)
        assert cap.start_in_seconds == int(cue.start)
    assert parsed.captions[0].start == "01:00:05.500"


def test_vtt_passes_the_w3c_validator() -> None:
    cues = build_cues(timed(NASTY_SCRIPT + " " + NASTY_SCRIPT))
    result = w3c_vtt(to_vtt(cues))
    if result is None:
        pytest.skip(
            "needs node and the webvtt-parser npm package in .tools/node_modules "
            "(make test installs it) or PERSONAFORGE_WEBVTT_PARSER=<package dir>"
        )
    assert result["errors"] == []
    assert [c[2] for c in result["cues"]] == ["\n".join(c.lines) for c in cues]
    assert [(round(c[0], 3), round(c[1], 3)) for c in result["cues"]] == [
        (c.start, c.end) for c in cues
    ]


_SRT_BACK = str.maketrans({"‹": "<", "›": ">", "❴": "{", "❵": "}", WORD_JOINER: None})


def test_srt_structure_and_parse() -> None:
    cues = build_cues(timed(NASTY_SCRIPT, t0=59.9996))
    text = to_srt(cues)
    blocks = text.rstrip("\n").split("\n\n")
    assert len(blocks) == len(cues)
    for i, (block, cue) in enumerate(zip(blocks, cues, strict=True), 1):
        number, timing, *lines = block.split("\n")
        assert number == str(i)
        assert re.fullmatch(r"\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}", timing)
        assert 1 <= len(lines) <= 2 and all(line.strip() for line in lines)
        assert not set("<>{}") & set("".join(lines))
        assert [x.translate(_SRT_BACK) for x in lines] == list(cue.lines)
    assert text.startswith("1\n00:01:00,000 --> ")
    parsed = webvtt.from_buffer(io.StringIO(text), format="srt")
    assert [c.text.translate(_SRT_BACK) for c in parsed.captions] == [
        "\n".join(c.lines) for c in cues
    ]


# --------------------------------------------------------------------------- ASS


def test_ass_script_structure() -> None:
    cues = build_cues(timed(NASTY_SCRIPT, t0=0.333))
    ass = to_ass(cues, width=1920, height=1080)
    assert ass.startswith("[Script Info]\n")
    for needle in ("PlayResX: 1920\n", "PlayResY: 1080\n", "WrapStyle: 2\n"):
        assert needle in ass
    assert "ScaledBorderAndShadow: yes\n" in ass
    fmt = re.search(r"^\[V4\+ Styles\]\nFormat: (.*)\nStyle: (.*)$", ass, re.M)
    assert fmt
    style = dict(zip(fmt[1].split(", "), fmt[2].split(","), strict=True))
    assert style["Fontname"] == "DejaVu Sans"
    assert style["Bold"] == "-1"
    assert style["Alignment"] == "2"
    assert style["PrimaryColour"] == "&H00FFFFFF"
    assert int(style["MarginL"]) >= 96 and int(style["MarginR"]) >= 96
    assert int(style["MarginV"]) >= 54
    assert float(style["Outline"]) > 0 and float(style["Shadow"]) > 0
    dialogue = [x for x in ass.splitlines() if x.startswith("Dialogue:")]
    assert len(dialogue) == len(cues)
    for line, cue in zip(dialogue, cues, strict=True):
        fields = line.split(",", 9)
        start, end = (_ass_seconds(x) for x in fields[1:3])
        assert abs(start - cue.start) <= 0.005 and abs(end - cue.end) <= 0.005
        body = fields[9]
        assert body.count("\\N") == len(cue.lines) - 1
        # Karaoke centiseconds add up to exactly the cue's on-screen length.
        ks = [int(x) for x in re.findall(r"\\kf?(\d+)", body)]
        assert sum(ks) == round((end - start) * 100)
        assert len(re.findall(r"\\kf\d+", body)) == len(cue.words)


def _ass_seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def test_ass_without_highlight_has_no_karaoke() -> None:
    ass = to_ass(build_cues(timed("Plain {text} here.")), width=640, height=360, highlight=False)
    assert "\\k" not in ass
    assert "Plain \\{text\\} here." in ass


def test_ass_font_fits_portrait_and_landscape() -> None:
    size = re.compile(r"^Style: Default,[^,]*,(\d+),", re.M)
    line = "abcdefghij klmnopqrst uvwxyzabcd efghijklmn"[:42]
    cues = [Cue(0, 1, (line, line), ())]
    land = size.search(to_ass(cues, width=1920, height=1080))
    port = size.search(to_ass(cues, width=1080, height=1920))
    assert land and port
    assert 40 <= int(land[1]) <= 62
    assert 30 <= int(port[1]) <= 50


# --------------------------------------------------------------------------- ASS, rendered


def _render(tmp_path: Path, ass: str, size: tuple[int, int], t: float) -> np.ndarray:
    """Burn ``ass`` onto a black clip with the bundled ffmpeg and return the frame at ``t``."""
    w, h = size
    (tmp_path / "fonts").mkdir(exist_ok=True)
    shutil.copy(font_path(), tmp_path / "fonts" / font_path().name)
    (tmp_path / "captions.ass").write_text(ass, encoding="utf-8")
    run = subprocess.run(
        [
            *(FFMPEG, "-hide_banner", "-v", "error"),
            *("-f", "lavfi", "-i", f"color=c=black:s={w}x{h}:r=25:d={t + 1:.2f}"),
            *("-vf", "subtitles=filename=captions.ass:fontsdir=fonts", "-ss", f"{t:.3f}"),
            *("-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"),
        ],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(run.stdout, np.uint8).reshape(h, w, 3)


def _white(img: np.ndarray) -> np.ndarray:
    return np.asarray(img.min(axis=2) > 200)


def test_burned_captions_sit_in_the_safe_area(tmp_path: Path) -> None:
    words = timed("Hello there, this is a caption test with several words in it.", t0=1.0)
    cues = build_cues(words)
    ass = to_ass(cues, width=320, height=180, font_name=FONT_NAME)
    cue = cues[0]
    img = _render(tmp_path, ass, (320, 180), (cue.start + cue.end) / 2)
    white = _white(img)
    assert white[120:, :].sum() > 50  # text in the lower third
    lit = img.max(axis=2) > 40
    # Nothing drawn outside the bottom-centre caption box: 5% side margins, lower half.
    assert not lit[:90, :].any()
    assert not lit[:, :16].any() and not lit[:, -16:].any()
    assert not lit[-14:, :].any()  # margin_v


def test_no_caption_between_cues(tmp_path: Path) -> None:
    words = [*timed("First sentence.", t0=0.5), *timed("Second one.", t0=4.0)]
    cues = build_cues(words)
    assert cues[0].end < 3.0
    ass = to_ass(cues, width=320, height=180)
    assert _white(_render(tmp_path, ass, (320, 180), (cues[0].start + cues[0].end) / 2)).any()
    gap = _render(tmp_path, ass, (320, 180), 3.5)
    assert int(gap.max()) <= 8


def test_highlight_follows_the_voice(tmp_path: Path) -> None:
    words = timed("one two three four five six", t0=0.0, per_char=0.1, gap=0.1)
    cues = build_cues(words)
    assert len(cues) == 1
    karaoke = to_ass(cues, width=320, height=180)
    plain = to_ass(cues, width=320, height=180, highlight=False)
    early = _white(_render(tmp_path, karaoke, (320, 180), words[0].end))
    late = _white(_render(tmp_path, karaoke, (320, 180), words[-1].end - 0.05))
    everything = _white(_render(tmp_path, plain, (320, 180), words[0].end))
    # Only the words already spoken are white; the rest wait in the grey SecondaryColour.
    assert 0 < early.sum() < late.sum() / 3
    assert late.sum() >= everything.sum() * 0.9


def test_portrait_lines_of_42_chars_stay_inside_90_percent(tmp_path: Path) -> None:
    line = "WWW MMM Quick brown foxes jump over lazy do"[:42]
    words = tuple(CaptionWord(x, 0.0, 1.0) for x in (line + " " + line).split())
    cues = [Cue(0.0, 1.0, (line, line), words)]
    ass = to_ass(cues, width=1080, height=1920)
    img = _render(tmp_path, ass, (1080, 1920), 0.5)
    lit = img.max(axis=2) > 40
    cols = np.flatnonzero(lit.any(axis=0))
    assert cols.size and cols.min() >= 54 and cols.max() < 1080 - 54
    rows = np.flatnonzero(lit.any(axis=1))
    assert rows.min() > 1920 // 2 and rows.max() < 1920 - round(1920 * 0.05)


def test_burned_captions_leave_out_what_the_font_cannot_draw() -> None:
    from personaforge.captions.ass import drawable

    words = [CaptionWord("We", 0.0, 0.2), CaptionWord("won", 0.2, 0.5), CaptionWord("🎉", 0.5, 0.5),
             CaptionWord("café!", 0.5, 0.9), CaptionWord("👍👍", 0.9, 0.9)]  # fmt: skip
    cues = build_cues(words)
    ass = to_ass(cues, width=640, height=360)
    assert "🎉" not in ass and "👍" not in ass
    assert "café!" in ass and "won" in ass and "  " not in ass
    assert "🎉" in to_vtt(cues) and "👍👍" in to_srt(cues)
    assert drawable("a 🎉 b") == "a b" and drawable("Zürich — ok") == "Zürich — ok"


def test_a_headline_sits_top_centre_on_one_line_or_two_escaped() -> None:
    from personaforge.captions.ass import add_headline, to_ass

    base = to_ass([], width=1280, height=720)
    short = add_headline(base, "Three  things", width=1280, height=720, end=4.0)
    style = next(ln for ln in short.splitlines() if ln.startswith("Style: Headline,"))
    fields = style.split(",")
    assert fields[18] == "8"  # Alignment: top centre
    assert int(fields[21]) >= 0.08 * 720  # MarginV: inside the title-safe area
    event = short.splitlines()[-1]
    assert event.startswith("Dialogue: 2,0:00:00.30,0:00:04.00,Headline,")
    assert event.endswith("Three things") and "\\N" not in event
    long = add_headline(
        base, "A much longer headline {with braces} that cannot fit on a single line at all",
        width=1280, height=720, end=4.0,
    )  # fmt: skip
    text = long.splitlines()[-1].split(",,", 1)[1].removeprefix("0,0,0,,")
    lines = text.removeprefix("{\\fad(200,200)}").split("\\N")
    assert len(lines) == 2 and abs(len(lines[0]) - len(lines[1])) < 20
    assert "\\{with braces\\}" in text
    portrait = add_headline(to_ass([], width=720, height=1280), "Hi", width=720, height=1280, end=2)
    margin = next(ln for ln in portrait.splitlines() if ln.startswith("Style: Headline,"))
    assert int(margin.split(",")[21]) >= 0.12 * 1280  # below the players' top bar
