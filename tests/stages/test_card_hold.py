"""A heading's card stays long enough to read, however short the heading: its caption then
lasts the 5/6 s the caption rules ask (a two-letter heading was a 0.4 s flash)."""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import run_cli, write_project

from personaforge.core.manifests import SpokenShot
from personaforge.core.specs import Captions
from personaforge.stages.parts.segments import cues_for
from personaforge.stages.speak import CARD_MIN_S
from personaforge.text.caption_rules import check_cues, rules_for


def test_a_short_heading_is_held_on_screen_and_captioned_long_enough(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "# Hi\n\nOne short sentence after the heading.\n")
    for stage in ("plan", "speak"):
        proc = run_cli(stage, str(folder))
        assert proc.returncode == 0, proc.stderr
    shots = [SpokenShot(**s) for s in yaml.safe_load((folder / "build/speech.yaml").read_text())
             ["shots"]]  # fmt: skip
    title = next(s for s in shots if s.kind == "title")
    talk = next(s for s in shots if s.kind != "title")
    assert title.words and title.words[-1].end < 1.0  # said quickly...
    assert title.duration_s >= CARD_MIN_S and title.frames >= CARD_MIN_S * 30  # ...but held
    assert talk.duration_s < 10  # the prose is not padded
    rules = rules_for(320, 180, "en", 30)
    cues = cues_for(title, 30, Captions(), 320, 180, sidecar=True)
    assert cues and not check_cues([(c.start, c.end, c.lines) for c in cues], rules)
