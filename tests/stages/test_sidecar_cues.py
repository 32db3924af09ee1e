"""A bold-pop video's .vtt/.srt are subtitles: line cues that follow the published rules,
while the burned captions flash one to three words at a time."""

from __future__ import annotations

from personaforge.core.manifests import SpokenShot, Word
from personaforge.core.specs import Captions
from personaforge.stages.parts.segments import cues_for
from personaforge.text.caption_rules import check_cues, rules_for

# Quick speech: about four words a second.
TEXT = "so stay in the loop and tell me what you think about it right now please"


def _shot() -> SpokenShot:
    words = [Word(text=w, start=0.2 + i * 0.24, end=0.2 + i * 0.24 + 0.2) for i, w in
             enumerate(TEXT.split())]  # fmt: skip
    return SpokenShot.model_construct(
        id="s1", kind="talk", text=TEXT, words=words, frames=150, captions=None, language="en"
    )


def test_bold_pop_burns_flashes_but_its_sidecar_follows_the_subtitle_rules() -> None:
    shot, captions = _shot(), Captions(style="bold-pop")
    rules = rules_for(320, 180, "en", 30)
    burned = cues_for(shot, 30, captions, 320, 180)
    sidecar = cues_for(shot, 30, captions, 320, 180, sidecar=True)
    assert all(len(c.lines) == 1 for c in burned)  # the flashes stay burned, a line each
    assert len(sidecar) < len(burned)
    assert " ".join(w.text for c in sidecar for w in c.words) == TEXT  # every word, in order
    assert min(c.end - c.start for c in sidecar) >= rules.min_duration_s - 1e-6
    broken = check_cues([(c.start, c.end, c.lines) for c in sidecar], rules)
    assert not broken, broken


def test_other_styles_write_the_cues_they_burn() -> None:
    shot = _shot()
    for style in ("karaoke", "clean", "boxed"):
        captions = Captions(style=style)
        assert cues_for(shot, 30, captions, 320, 180) == cues_for(
            shot, 30, captions, 320, 180, sidecar=True
        )
