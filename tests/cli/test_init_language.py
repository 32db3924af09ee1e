"""init --language: the starter script is English, so another language needs the creator's
own script (never an English script voiced as Spanish)."""

from __future__ import annotations

from pathlib import Path

import yaml
from helpers import one_error_line, run_cli


def test_init_in_another_language_without_a_script_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "es"
    proc = run_cli("init", str(folder), "--language", "es")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "Spanish" in line and "--script" in line and "translate" in line
    assert not (folder / "script.md").exists() and not (folder / "video.yaml").exists()


def test_init_in_another_language_with_a_script_records_the_language(tmp_path: Path) -> None:
    script = tmp_path / "guion.md"
    script.write_text("# Hola\n\nEsto es una prueba corta.\n", encoding="utf-8")
    folder = tmp_path / "es"
    proc = run_cli("init", str(folder), "--language", "es", "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    assert yaml.safe_load((folder / "video.yaml").read_text())["language"] == "es"
    assert "Esto es una prueba" in (folder / "script.md").read_text()
