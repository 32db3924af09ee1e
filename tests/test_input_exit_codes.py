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
