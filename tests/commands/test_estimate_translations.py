"""estimate --with-translations: each translation's voice and characters, which languages a
draft offline voice would say, and translating again (priced as translate --dry-run prices
it) once the source script changes. Nothing is rendered or sent."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from helpers import run_cli, write_project

from personaforge.text.normalize import spoken_text, tokenize

SOURCE = "Hello there, this is a short test with 3 words.\n"
ES = "Hola, esto es una prueba corta con 3 palabras.\n"
JA = "こんにちは、これは3つの言葉の短いテストです。\n"


def _translated(tmp_path: Path) -> Path:
    folder = write_project(tmp_path / "talk", SOURCE)
    for code, text in (("es", ES), ("ja", JA)):
        hand = tmp_path / f"{code}.md"
        hand.write_text(text, encoding="utf-8")
        proc = run_cli("translate", str(folder), "--to", code, "--from", str(hand))
        assert proc.returncode == 0, proc.stderr
    return folder


def _estimate(folder: Path) -> dict[str, object]:
    proc = run_cli("estimate", str(folder), "--with-translations", "--json", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, object] = json.loads(proc.stdout)
    return data


def test_estimate_counts_each_language_and_names_the_draft_voices(tmp_path: Path) -> None:
    folder = _translated(tmp_path)
    data = _estimate(folder)
    es, ja = data["translations"]  # type: ignore[misc]
    assert (es["language"], es["voice"], es["draft_voice"]) == ("es", "espeak", True)
    # Japanese has no offline voice: named, not counted as a draft.
    assert ja["draft_voice"] is False and "Japanese" in ja["no_voice"]
    assert es["retranslate"] is False and es["translate"]["usd"] == 0  # made from this script
    # Its voice says the numbers in Spanish: the characters are of the spoken text.
    assert es["characters"] == len(spoken_text(tokenize(ES.strip(), "es"), "es"))
    assert es["characters"] > len(ES.strip())  # "3" became "tres"

    persona = tmp_path / "talk-ja/persona.yaml"
    data_p = yaml.safe_load(persona.read_text())
    persona.write_text(yaml.safe_dump({**data_p, "voice": {"backend": "elevenlabs"}}), "utf-8")
    text = run_cli("estimate", str(folder), "--with-translations", "--no-publish")
    assert text.returncode == 0, text.stderr
    assert "draft offline voice (espeak-ng, robotic): es\n" in text.stdout
    ja = _estimate(folder)["translations"][1]  # type: ignore[index]
    assert ja["voice"] == "elevenlabs" and "no_voice" not in ja
    billed = ja["stages"]["speak"]["units"]["elevenlabs:character"]
    assert billed == ja["characters"] > 0 and ja["usd"] > 0


def test_a_changed_script_prices_translating_again_as_translate_does(tmp_path: Path) -> None:
    folder = _translated(tmp_path)
    (folder / "script.md").write_text(SOURCE.replace("short", "very short"), encoding="utf-8")
    data = _estimate(folder)
    es, ja = data["translations"]  # type: ignore[misc]
    assert es["retranslate"] and ja["retranslate"]
    for t in (es, ja):
        dry = run_cli("translate", str(folder), "--to", t["language"], "--dry-run", "--json")
        assert dry.returncode == 0, dry.stderr
        assert t["translate"] == json.loads(dry.stdout)  # one estimate, one price table
        assert t["translate"]["units"]["anthropic:input_token"] > 0
    total = data["usd"] + es["usd"] + ja["usd"]  # type: ignore[operator]
    assert data["total_usd"] == round(total, 6) and es["usd"] > 0
