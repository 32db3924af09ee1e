"""Helpers for tests: run the real CLI, write tiny projects."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "personaforge"]
SMALL = "320x180"

SCRIPT = """# Tiny test

Hello there, this is a short test video.
It has two sentences, both spoken aloud.
"""


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
