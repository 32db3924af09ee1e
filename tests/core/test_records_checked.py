"""The tool's records are checked, not trusted: a hand-edited manifest is rebuilt and
`status` says why; recorded times outside their shot are refused."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from helpers import run_cli, write_project

from personaforge.core.yamlio import SEAL_PREFIX, seal_text


def _status(folder: Path) -> dict[str, dict[str, object]]:
    proc = run_cli("status", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    out: dict[str, dict[str, object]] = json.loads(proc.stdout)
    return out


def test_hand_edited_records_are_rebuilt_and_status_says_why(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p")
    assert run_cli("plan", str(folder)).returncode == 0
    assert run_cli("speak", str(folder)).returncode == 0
    speech = folder / "build" / "speech.yaml"
    original = speech.read_text()
    assert SEAL_PREFIX in original
    assert _status(folder)["speak"]["up_to_date"] is True

    # The shot's text changed by hand: it would reach the title card and the chapters.
    speech.write_text(original.replace("Hello there", "Goodbye there", 1))
    why = _status(folder)["speak"]
    assert why["up_to_date"] is False
    assert "speech.yaml is not trusted" in str(why["reason"]), why
    assert "no longer matches its hash" in str(why["reason"])
    again = run_cli("speak", str(folder), "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["status"] == "ran"
    assert "Goodbye" not in speech.read_text()

    # A word timed past its shot's end (sealed again, as only a tool could): refused too.
    data = yaml.safe_load(speech.read_text())
    data["shots"][0]["words"][0]["start"] = 999
    speech.write_text(seal_text(yaml.safe_dump(data, sort_keys=False)))
    why = _status(folder)["speak"]
    assert why["up_to_date"] is False
    assert "words[0]" in str(why["reason"]) and "outside the shot" in str(why["reason"]), why
