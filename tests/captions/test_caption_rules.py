"""The published caption rules, applied by the cue builder for every style, format and
language (caption_rules.py), and the small things a viewer notices: an emoji's stray space,
a URL held for seconds in tiny type, a long name on a lower third."""

from __future__ import annotations

import pytest
import webvtt
from helpers import w3c_vtt
from test_captions import timed

from personaforge.captions.ass import add_lower_third, drawable, to_ass
from personaforge.captions.cues import CAPTION_STYLES, CaptionWord, Cue, build_cues, shot_cues
from personaforge.captions.subtitles import to_vtt
from personaforge.text import caption_rules, linebreak
from personaforge.text.caption_rules import NO_LINE_START, rules_for

SHAPES = {"youtube": (1920, 1080), "square": (1080, 1080), "shorts": (1080, 1920)}
SCRIPT = (
    "Welcome back. Today I will show you three quick ways to plan your week, "
    "so that Monday never feels like a wall again. First, write everything down! "
    "Second, pick the one task that matters. Third, protect it. Ready? Let's go."
)
JAPANESE = (
    "今日は天気がいいので、公園を散歩しましょう。「楽しみ」ですね！明日は七時に会いましょう。"
)


def _cjk_words(text: str, per_char: float = 0.16) -> list[CaptionWord]:
    """Japanese as an aligner returns it: a token per character, no spaces."""
    out, t = [], 0.3
    for ch in text:
        out.append(CaptionWord(ch, round(t, 3), round(t + per_char, 3)))
        t += per_char
    return out


def _check_rules(cues: list[Cue], rules: caption_rules.CaptionRules, speech_end: float) -> None:
    gap = rules.gap_s - 0.0015  # times are in whole milliseconds
    for k, cue in enumerate(cues):
        nxt = cues[k + 1].start if k + 1 < len(cues) else speech_end + 1.0
        room = nxt - cue.start - rules.gap_s
        # The minimum, wherever the next cue leaves room for it.
        assert cue.end - cue.start >= min(rules.min_duration_s, room) - 0.002, cue
        if k + 1 < len(cues):
            assert cues[k + 1].start - cue.end >= gap, (cue, cues[k + 1])
        assert len(cue.lines) <= rules.max_lines
        for line in cue.lines:
            assert linebreak.columns(line) <= rules.line_columns, line
            assert line[0] not in NO_LINE_START, line
    # What `check` reports on the file: nothing, the speech here leaving room for the rules.
    found = caption_rules.check_cues([(c.start, c.end, c.lines) for c in cues], rules)
    assert found == [], [str(f) for f in found]


@pytest.mark.parametrize("fmt", sorted(SHAPES))
@pytest.mark.parametrize("style", CAPTION_STYLES)
def test_every_style_keeps_the_rules_in_every_format(fmt: str, style: str) -> None:
    w, h = SHAPES[fmt]
    rules = rules_for(w, h, "en", 30)
    words = timed(SCRIPT, per_char=0.065, gap=0.08)
    cues = shot_cues(words, words[-1].end + 1.0, style=style, rules=rules)
    assert [x for c in cues for x in (w.text for w in c.words)] == [w.text for w in words]
    _check_rules(cues, rules, words[-1].end)


def test_shorts_rules_are_the_published_ones() -> None:
    rules = rules_for(1080, 1920, "en", 30)
    assert rules.min_duration_s == pytest.approx(5 / 6)
    assert rules.gap_frames == 2 and rules.max_lines == 2
    assert rules.max_cps <= 17 and rules.line_chars < 26
    assert rules.side_margin >= caption_rules.PORTRAIT_BUTTONS_RIGHT
    # CJK: 13-16 characters a line in 16:9, fewer in 9:16; Japanese reads slower.
    ja_land, ja_port = rules_for(1920, 1080, "ja"), rules_for(1080, 1920, "ja")
    assert 13 <= ja_land.line_chars <= 16 and ja_port.line_chars < ja_land.line_chars
    assert ja_land.max_cps < rules.max_cps


@pytest.mark.parametrize("fmt", sorted(SHAPES))
def test_japanese_breaks_between_phrases_never_before_closing_punctuation(fmt: str) -> None:
    w, h = SHAPES[fmt]
    rules = rules_for(w, h, "ja", 30)
    words = _cjk_words(JAPANESE)
    cues = build_cues(words, rules=rules)
    assert "".join(line for c in cues for line in c.lines) == JAPANESE  # no spaces added
    _check_rules(cues, rules, words[-1].end)
    lines = [line for c in cues for line in c.lines]
    phrases = linebreak.phrases(JAPANESE, "ja")
    ends = {sum(len(p) for p in phrases[: i + 1]) for i in range(len(phrases))}
    at = 0
    for line in lines:  # every line ends where a budoux phrase does
        at += len(line)
        assert at in ends, (line, lines)


def test_an_emoji_leaves_no_stray_space_before_punctuation() -> None:
    assert drawable("enjoy it 🎉.") == "enjoy it."
    assert drawable("a 🎉 b") == "a b"
    words = [
        CaptionWord("enjoy", 0.0, 0.3),
        CaptionWord("it", 0.3, 0.5),
        CaptionWord("🎉.", 0.5, 0.9),
    ]
    ass = to_ass(build_cues(words), width=320, height=180)
    event = ass.splitlines()[-1]
    assert "it{" in event and " {\\kf" in event  # "enjoy it." with its timing tags
    assert "it {" not in event.split("enjoy", 1)[1]
    assert "🎉" in to_vtt(build_cues(words))  # the sidecar keeps it


def test_a_url_is_cut_into_readable_cues_not_one_tiny_caption() -> None:
    url = "https://www.example.com/pricing/annual-plans-for-small-teams"
    # Spoken letter by letter, the URL takes ten seconds.
    words = [
        CaptionWord("Visit", 0.0, 0.4),
        CaptionWord(url, 0.5, 10.5),
        CaptionWord("today.", 10.6, 11),
    ]
    rules = rules_for(1080, 1920, "en", 30)
    cues = build_cues(words, rules=rules)
    assert len(cues) >= 2
    assert all(c.end - c.start <= rules.max_duration_s + 1e-6 for c in cues)
    lines = [line for c in cues for line in c.lines]
    assert all(len(line) <= rules.line_chars for line in lines), lines
    assert (
        "".join(w.text for c in cues for w in c.words).replace("Visit", "").replace("today.", "")
        == url
    )


def test_the_vtt_says_its_language_and_passes_the_validators() -> None:
    cues = build_cues(_cjk_words(JAPANESE), rules=rules_for(1920, 1080, "ja"))
    text = to_vtt(cues, language="ja")
    assert text.startswith("WEBVTT Language: ja\n\n")
    parsed = webvtt.from_string(text)
    assert "".join(c.text.replace("\n", "") for c in parsed.captions) == JAPANESE
    result = w3c_vtt(text)
    if result is None:
        pytest.skip("the W3C parser (node + .tools/node_modules/webvtt-parser) is not here")
    assert result["errors"] == []


def test_a_long_lower_third_shrinks_to_a_floor_then_ends_in_an_ellipsis() -> None:
    base = to_ass([], width=1280, height=720)
    name = "Professor Maximilian Alexander von Humboldt-Wittgenstein of Lower Saxony"
    ass = add_lower_third(
        base, name, "Chief Scientific Officer and Head of Research, Department of Everything",
        width=1280, height=720, end=4.0, above=100,
    )  # fmt: skip
    style = next(ln for ln in ass.splitlines() if ln.startswith("Style: LowerThird,"))
    size = int(style.split(",")[2])
    assert size >= round(720 / 22 * caption_rules.MIN_FONT_SCALE)
    text = ass.splitlines()[-1]
    assert "…" in text and name not in text


def test_check_cues_names_each_broken_rule_with_its_measure() -> None:
    rules = rules_for(1080, 1920, "en", 30)
    bad = [
        (0.0, 0.5, ("Short",)),  # 0.5 s, and the next starts 0 ms after it
        (0.5, 1.5, ("This line is far longer than a short allows", "two", "three")),
        (2.0, 3.0, ("x" * 20, "y" * 20)),  # 41 characters in a second
    ]
    found = {(f.rule, f.cue) for f in caption_rules.check_cues(bad, rules)}
    assert found == {
        ("min_duration", 0), ("gap", 0), ("reading_speed", 1), ("line_count", 1),
        ("line_length", 1), ("reading_speed", 2),
    }  # fmt: skip
    assert "limit 17" in str(caption_rules.check_cues(bad, rules)[-1])


def test_burned_text_is_drawn_in_the_language_font_or_refused_in_one_line() -> None:
    from personaforge.core.specs import Captions
    from personaforge.errors import PersonaForgeError
    from personaforge.stages.parts.segments import ass_for

    cues = build_cues(_cjk_words(JAPANESE), rules=rules_for(320, 180, "ja"))
    ass = ass_for(cues, Captions(), 320, 180, language="ja")
    assert ass is not None and "Style: Default,Noto Sans CJK JP," in ass
    english = build_cues(timed("We met in 東京 last year."))
    ass = ass_for(english, Captions(), 320, 180)
    assert ass is not None and "{\\fnNoto Sans CJK JP}東京{\\fnDejaVu Sans}" in ass
    korean = build_cues(timed("Hello 안녕하세요 friends."))
    with pytest.raises(PersonaForgeError) as err:
        ass_for(korean, Captions(), 320, 180)
    assert "'안' (U+C548)" in str(err.value) and "\n" not in str(err.value)
