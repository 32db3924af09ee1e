"""Typer's shell completion is on: the hidden completion entry point answers with commands."""

from __future__ import annotations

from helpers import run_cli


def test_bash_completion_lists_matching_commands() -> None:
    proc = run_cli(
        env={
            "_PERSONAFORGE_COMPLETE": "complete_bash",
            "COMP_WORDS": "personaforge make",
            "COMP_CWORD": "1",
        }
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["make-video"]


def test_help_offers_completion_install() -> None:
    proc = run_cli("--help")
    assert "--install-completion" in proc.stdout
