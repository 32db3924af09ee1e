"""Small pieces of the scale features: durations, what a bundle carries, what is retried."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from personaforge.backends.cloud import RemoteError
from personaforge.cli.app import parse_duration
from personaforge.errors import MissingDependencyError, PersonaForgeError
from personaforge.queue.bundle import project_files
from personaforge.queue.work import retriable


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("7d", 604800), ("12h", 43200), ("30m", 1800), ("90", 90), ("1.5h", 5400), (" 2W ", 1209600)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text, "--expires") == seconds


@pytest.mark.parametrize("text", ["soon", "7 days", "-1d", ""])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(typer.BadParameter):
        parse_duration(text, "--expires")


def test_bundle_carries_inputs_never_build_or_secrets(project: Path) -> None:
    (project / "assets").mkdir()
    (project / "assets" / "music.mp3").write_bytes(b"x")
    (project / ".env").write_text("R2_SECRET_KEY=shh\n")
    (project / ".git").mkdir()
    (project / ".git" / "config").write_text("x")
    (project / "build" / "speech").mkdir(parents=True)
    (project / "build" / "speech" / "a.wav").write_bytes(b"x")
    (project / "published").mkdir()
    (project / "published" / "v.mp4").write_bytes(b"x")
    (project / "assets" / "build").mkdir()  # only the top-level build/ is the tool's
    (project / "assets" / "build" / "logo.png").write_bytes(b"x")
    assert project_files(project) == [
        "assets/build/logo.png", "assets/music.mp3", "persona.yaml", "script.md", "video.yaml",
    ]  # fmt: skip


def test_what_a_queued_job_retries() -> None:
    assert retriable(RemoteError("elevenlabs: 503 (gave up after 5 attempts)"))
    assert retriable(ConnectionError("redis went away"))
    assert not retriable(PersonaForgeError("video.yaml:3: backends.lipsync: unknown backend"))
    assert not retriable(MissingDependencyError("needs ELEVENLABS_API_KEY"))
