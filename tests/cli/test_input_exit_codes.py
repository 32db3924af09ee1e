"""Input that used to crash (exit 3) is one line and exit 1: a missing SDK under estimate and
--dry-run, a backend named wrong (with the file and line that chose it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest
from helpers import write_project

from personaforge.cli.main import main


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as info:
        main(list(args))
    code = info.value.code
    return int(code) if isinstance(code, int) else 1, capsys.readouterr().err


@pytest.fixture
def no_anthropic(monkeypatch: pytest.MonkeyPatch) -> None:
    """anthropic as if not installed: not found, not importable."""
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name.split(".")[0] == "anthropic" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    for name in [m for m in sys.modules if m.split(".")[0] == "anthropic"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "anthropic", None)  # type: ignore[arg-type]
    monkeypatch.delitem(sys.modules, "personaforge.backends.planner.claude", raising=False)


@pytest.mark.parametrize("command", [["estimate"], ["make-video", "--dry-run"], ["plan"]])
def test_claude_director_without_anthropic_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_anthropic: None, command: list[str]
) -> None:
    folder = write_project(tmp_path / "p", extra="backends: {plan: claude}\n")
    code, err = _run(capsys, *command, str(folder))
    assert code == 1, err
    line = err.strip().splitlines()[-1]
    assert f"{folder / 'video.yaml'}:6: backends.plan:" in line, line
    assert "needs anthropic" in line and "pip install 'personaforge[claude]'" in line


@pytest.mark.parametrize("command", ["plan", "status", "estimate"])
def test_a_bad_plan_backend_names_its_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = write_project(tmp_path / "p", extra="backends: {plan: ofline}\n")
    code, err = _run(capsys, command, str(folder))
    assert code == 1
    assert f"{folder / 'video.yaml'}:6: backends.plan: unknown plan backend 'ofline'" in err


@pytest.mark.parametrize("command", ["speak", "status", "estimate"])
def test_a_bad_voice_backend_names_voice_backend_in_persona_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = write_project(tmp_path / "p")
    (folder / "persona.yaml").write_text(
        "schema_version: 1\nname: T\narchetype: host\nvoice:\n  backend: pipr\n"
    )
    if command != "estimate":  # status asks the voice only once the plan is current
        assert _run(capsys, "plan", str(folder))[0] == 0
    code, err = _run(capsys, command, str(folder))
    assert code == 1
    assert f"{folder / 'persona.yaml'}:5: voice.backend: unknown speak backend 'pipr'" in err


@pytest.mark.parametrize(
    ("persona", "line", "field", "words"),
    [
        ("schema_version: true\nname: T\n", 1, "schema_version", "expected a number, not true"),
        ("name: T\nvoice: {speed: true}\n", 2, "voice.speed", "expected a number, not true"),
        ("name: T\narchetype: hots\n", 2, "archetype", "did you mean 'host'?"),
        ("name: T\narchetype: wizard\n", 2, "archetype", "one of narrator, teacher"),
    ],
)
def test_persona_values_are_checked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], persona: str, line: int, field: str,
    words: str,
) -> None:  # fmt: skip
    folder = write_project(tmp_path / "p")
    (folder / "persona.yaml").write_text(persona)
    code, err = _run(capsys, "plan", str(folder))
    assert code == 1
    assert f"{folder / 'persona.yaml'}:{line}: {field}: " in err and words in err, err


def test_a_boolean_is_not_a_number_in_video_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_project(tmp_path / "p", extra="max_concurrency: true\n")
    code, err = _run(capsys, "estimate", str(folder))
    assert code == 1 and "max_concurrency: expected a number, not true" in err, err


@pytest.mark.parametrize("command", [["plan"], ["estimate"], ["make-video", "--dry-run"]])
def test_a_script_with_nothing_to_say_is_refused_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    folder = write_project(tmp_path / "p", "<!-- just a note -->\n```\ncode only\n```\n")
    code, err = _run(capsys, *command, str(folder))
    assert code == 1
    assert f"{folder / 'video.yaml'}: script: the script has no words to speak" in err, err


def test_a_word_too_long_for_any_caption_is_broken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    folder = write_project(tmp_path / "p", "Here is a long one: " + "x" * 3000 + " indeed.\n")
    code, err = _run(capsys, "plan", str(folder))
    assert code == 0, err
    shots = yaml.safe_load((folder / "build" / "plan.yaml").read_text())["shots"]
    words = [w for s in shots for w in s["text"].split()]
    assert max(map(len, words)) <= 40 and sum(len(w) for w in words if set(w) == {"x"}) == 3000
