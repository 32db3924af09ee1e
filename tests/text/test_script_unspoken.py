"""Script comments are the author's: an HTML comment that is not a directive is never spoken
or shown; a directive with a bad value is one line at its script.md line; code blocks, tables
and front matter are not spoken, and markup inside code is inert."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import write_project

from personaforge.cli.main import main

SCRIPT = """---
title: notes for me
---
# Heading

<!-- TODO: remove the swear words -->
Hello there my friend, how are you today?
Inline <!-- a private note --> words and an ![x](pic.png) image stay unspoken.
<!--
  a note over
  several lines
-->
<!-- transition: crossfade -->
The next paragraph follows with `[pause 5s]` as code.

```
[pause 5s] code that is never read
```

| table | cell |
|-------|------|
| never | read |

The last line is spoken.
"""


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    return int(info.value.code or 0), capsys.readouterr().err


def test_what_is_not_spoken_never_reaches_a_shot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "p", SCRIPT)
    code, err = _run(capsys, "plan", str(folder))
    assert code == 0, err
    shots = yaml.safe_load((folder / "build" / "plan.yaml").read_text())["shots"]
    said = " ".join(s["text"] for s in shots)
    for unspoken in ("TODO", "swear", "private", "note", "notes for me", "several", "code that",
                     "table", "never", "cell", "pic.png", "-->", "<!--", "|", "```"):  # fmt: skip
        assert unspoken not in said, (unspoken, said)
    assert "Inline words and an image stay unspoken." in said
    assert "[pause" not in said and "pause 5s" in said  # inert: said as words, not obeyed
    assert [s["transition"] for s in shots if "next paragraph" in s["text"]] == ["crossfade"]
    assert shots[-1]["text"] == "The last line is spoken."


@pytest.mark.parametrize(
    ("directive", "words"),
    [
        ("<!-- transition: explode -->", "unknown transition 'explode'; one of cut, crossfade"),
        ("<!-- captions: neon -->", "unknown captions 'neon'; one of karaoke"),
        ("Words <!-- captions: boxed --> here.", "must be a line of its own"),
    ],
)
@pytest.mark.parametrize("command", [["plan"], ["estimate"], ["make-video", "--dry-run"]])
def test_a_directive_with_a_bad_value_is_one_line_at_its_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    directive: str,
    words: str,
    command: list[str],
) -> None:
    folder = write_project(tmp_path / "p", f"# T\n\nA first line to say.\n{directive}\nMore.\n")
    code, err = _run(capsys, *command, str(folder))
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert f"{folder / 'script.md'}:4: " in line and words in line, line
    assert not (folder / "build" / "plan.yaml").exists()


def test_an_image_with_spaces_in_its_name_is_b_roll_not_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "p", "![](my pic.jpg)\nA sentence over the photo.\n")
    code, err = _run(capsys, "plan", str(folder))
    assert code == 0, err
    shots = yaml.safe_load((folder / "build" / "plan.yaml").read_text())["shots"]
    assert [(s["kind"], s["broll"], s["text"]) for s in shots] == [
        ("broll", "my pic.jpg", "A sentence over the photo.")
    ]
