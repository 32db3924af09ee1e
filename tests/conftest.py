"""Shared fixtures: an isolated environment and tiny real projects."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "personaforge"]
SMALL = "320x180"

SCRIPT = """# Tiny test

Hello there, this is a short test video.
It has two sentences, both spoken aloud.
"""


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the real home, cache or state folders, or real cloud keys."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("PERSONAFORGE_LOG_DIR", raising=False)
    for key in ("ELEVENLABS_API_KEY", "ANTHROPIC_API_KEY", "REPLICATE_API_TOKEN", "RUNPOD_API_KEY",
                "R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY", "R2_BUCKET"):  # fmt: skip
        monkeypatch.delenv(key, raising=False)


def run_cli(
    *args: str, cwd: Path | None = None, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real console entry point in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [*CLI, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=600,
        check=False,
    )


def write_project(
    folder: Path,
    script: str = SCRIPT,
    *,
    resolution: str = SMALL,
    fmt: str = "youtube",
    extra: str = "",
    archetype: str = "host",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "script.md").write_text(script, encoding="utf-8")
    (folder / "persona.yaml").write_text(
        f"schema_version: 1\nname: Tess\narchetype: {archetype}\n", encoding="utf-8"
    )
    (folder / "video.yaml").write_text(
        "schema_version: 1\n"
        "title: Tiny test\n"
        "script: script.md\n"
        f"format: {fmt}\n"
        f"resolution: '{resolution}'\n" + extra,
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj")


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, object]]]:
    """One small project rendered once per test session (per xdist worker)."""
    import json

    base = tmp_path_factory.mktemp("rendered")
    folder = write_project(base / "proj")
    proc = run_cli("make-video", str(folder), "--json", "--quiet", env={"HOME": str(base)})
    assert proc.returncode == 0, proc.stderr
    yield folder, json.loads(proc.stdout)
    shutil.rmtree(folder, ignore_errors=True)
