"""--help reads as a user expects: no Python types, whole summaries, -h, exit 0."""

from __future__ import annotations

import re

import pytest

from personaforge.cli.main import _HELP_ORDER, main


def _help(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main(list(args))
    assert exit_.value.code == 0, args
    return capsys.readouterr().out


def test_help_lists_every_command_whole(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(capsys)  # `personaforge` alone: the help, exit 0
    assert "..." not in text.split("Commands:")[1]
    for name in _HELP_ORDER:
        assert re.search(rf"^  {re.escape(name)} ", text, re.M), name
    assert "stream copy" in _help(capsys, "render", "-h")
    assert "once" in _help(capsys, "lipsync", "--help")


@pytest.mark.parametrize("command", [*_HELP_ORDER, "cache"])
def test_no_python_types_in_a_commands_help(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = _help(capsys, command, "-h")
    assert not re.search(r"<(str|path|int|float|bool|list\[[^]]*\])>|range>", text), text
