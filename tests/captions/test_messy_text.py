"""Messy scripts render, and every word written appears in the captions, in order."""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import pytest
import webvtt
from helpers import REPO, run_cli, w3c_vtt, write_project

from personaforge.backends.planner.offline import OfflinePlanner
from personaforge.core.specs import Persona
from personaforge.media.probe import probe

pytestmark = pytest.mark.slow

LONG = " ".join(
    ["This", "sentence", "keeps", "going,", "and", "going;", "it", "has", "exactly"]
    + [f"word{i}" for i in range(58)]
    + ["before", "ending", "here."]
)
MESSY = f"""# Prices & "quotes": a {{test}} [draft]

She said "hello", then left: it's 50% off; (really) {{braces}} and a back\\slash!
On 2026-11-27 at 10:30 the café in Zürich sold 3 coffees for $12.50 & 2 teas for €7 🎉.
Is <b>this</b> safe? Costs -> 1,000 units, #1 rank, e.g. 3.14 and 1990s.
{LONG}
"""


def _w3c_errors(vtt: Path) -> list[str] | None:
    """Errors from the W3C parser (npm webvtt-parser), or None where it isn't installed."""
    result = w3c_vtt(vtt.read_text(encoding="utf-8"))
    return None if result is None else result["errors"]


def _expected_words(script: str) -> list[str]:
    shots = OfflinePlanner().plan(script, Persona(name="T"))
    return [w for s in shots for w in s.text.split()]


def _caption_words(vtt: Path) -> list[str]:
    return [w for cue in webvtt.read(str(vtt)) for w in html.unescape(cue.text).split()]


def test_messy_script_renders_with_every_word_captioned(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "messy", MESSY)
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    vtt = Path(result["captions"])
    assert _caption_words(vtt) == _expected_words(MESSY)
    # The words as written, not as spoken, are captioned.
    text = " ".join(_caption_words(vtt))
    for written in ("50%", "$12.50", "€7", "🎉.", "2026-11-27", "café", "Zürich", "<b>this</b>"):
        assert written in text
    assert "fifty percent" not in text
    # No cue line is longer than the limit the render chose for this width.
    for cue in webvtt.read(str(vtt)):
        assert len(cue.text.splitlines()) <= 2
    errors = _w3c_errors(vtt)
    if errors is not None:
        assert errors == []
    info = probe(Path(result["video"]))
    assert info.video_codec == "h264" and info.duration_s > 10


def test_one_word_script(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "one", "Hello")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert _caption_words(Path(result["captions"])) == ["Hello"]
    assert 0.3 < result["duration_s"] < 3.0


def test_demo_vtt_passes_the_w3c_parser(tmp_path: Path) -> None:
    """The acceptance check on the example project's captions, when the parser is installed."""
    repo = REPO
    folder = tmp_path / "hello"
    shutil.copytree(
        repo / "examples" / "hello", folder, ignore=shutil.ignore_patterns("build", "published")
    )
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "resolution: 320x180\n")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    vtt = Path(json.loads(proc.stdout)["captions"])
    errors = _w3c_errors(vtt)
    if errors is None:
        pytest.skip("node or npm webvtt-parser not installed (scripts/ensure-test-tools)")
    assert errors == []
    assert _caption_words(vtt) == _expected_words((folder / "script.md").read_text())


def test_project_folder_with_filter_graph_characters(tmp_path: Path) -> None:
    """Colons, commas, quotes, brackets and semicolons in the path must not break ffmpeg."""
    folder = write_project(tmp_path / "we'ird: dir, [x]; y", "# Title: one\n\nHello, you.\n")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    info = probe(Path(result["video"]))
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert _caption_words(Path(result["captions"])) == ["Title:", "one", "Hello,", "you."]
