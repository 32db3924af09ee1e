"""Shared fixtures: an isolated environment and tiny real projects."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, write_project


@pytest.fixture(autouse=True)
def _isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the real home, cache or state folders, or real cloud keys."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("PERSONAFORGE_LOG_DIR", raising=False)
    for key in ("ELEVENLABS_API_KEY", "ANTHROPIC_API_KEY", "REPLICATE_API_TOKEN", "RUNPOD_API_KEY",
                "R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY", "R2_BUCKET"):  # fmt: skip
        monkeypatch.delenv(key, raising=False)


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
