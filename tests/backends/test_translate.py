"""`translate`: the real anthropic SDK against the local stand-in; the siblings render."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from elevenlabs_server import serving
from fake_anthropic import as_json, message, running
from helpers import run_cli

from personaforge.commands.translate import siblings
from personaforge.media.probe import probe

pytest.importorskip("anthropic")

ROOT = Path(__file__).resolve().parents[2]
ES = """# Hola desde PersonaForge

Hola, soy Max, y este vídeo se hizo entero en tu propio ordenador.
PersonaForge leyó un guion corto, planeó las tomas y me dio una voz.
"""
JA = """# PersonaForgeからこんにちは

こんにちは、マックスです。この動画はすべてあなたのパソコンで作られました。
PersonaForgeは短い台本を読み、ショットを計画し、私に声をくれました。
"""
SOURCE = """# Hello from PersonaForge

Hi, I'm Max, and this whole video was made on your own computer.
PersonaForge read a short script, planned the shots, and gave me a voice.
"""
KEY = "sk_test_0123456789abcdef0123456789abcdef"


def _hello(tmp_path: Path) -> Path:
    folder = tmp_path / "hello"
    shutil.copytree(ROOT / "examples/hello", folder)
    (folder / "script.md").write_text(SOURCE, encoding="utf-8")
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "resolution: '320x180'\n", encoding="utf-8")
    return folder


def test_translate_offline_is_one_line(tmp_path: Path) -> None:
    folder = _hello(tmp_path)
    proc = run_cli("translate", str(folder), "--to", "es", env={"ANTHROPIC_API_KEY": ""})
    assert proc.returncode == 1
    assert proc.stderr.count("\n") <= 2 and "needs the Claude backend" in proc.stderr
    assert "--from" in proc.stderr
    assert not (tmp_path / "hello-es").exists()


def test_translate_dry_run_prices_the_request_and_sends_nothing(tmp_path: Path) -> None:
    folder = _hello(tmp_path)
    proc = run_cli("translate", str(folder), "--to", "es,ja", "--dry-run", "--json",
                   env={"ANTHROPIC_API_KEY": ""})  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    cost = json.loads(proc.stdout)
    assert cost["units"]["anthropic:input_token"] > 100 and cost["usd"] > 0
    assert not (tmp_path / "hello-es").exists()


def test_a_hand_translation_that_drops_a_heading_is_refused(tmp_path: Path) -> None:
    folder = _hello(tmp_path)
    hand = tmp_path / "es.md"
    hand.write_text(ES.split("\n", 2)[2], encoding="utf-8")
    proc = run_cli("translate", str(folder), "--to", "es", "--from", str(hand))
    assert proc.returncode == 1 and "headings differ" in proc.stderr, proc.stderr


@pytest.mark.slow
def test_translate_to_spanish_and_japanese_and_both_render(tmp_path: Path) -> None:
    folder = _hello(tmp_path)
    with running() as claude:
        env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": claude.url,
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}  # fmt: skip
        # Spanish first drops its heading (asked again once), then comes whole; Japanese next.
        claude.answer(
            message([as_json({"script": ES.split("\n", 2)[2]})]),
            message([as_json({"script": ES})]),
            message([as_json({"script": JA})]),
        )
        proc = run_cli("translate", str(folder), "--to", "es,ja", "--json", env=env)
        assert proc.returncode == 0, proc.stderr
        assert len(claude.requests) == 3
        retry = claude.requests[1]["messages"]
        assert "headings differ" in json.dumps(retry)
        assert "Spanish" in claude.requests[0]["system"]
        assert "Japanese" in claude.requests[2]["system"]
        made = json.loads(proc.stdout)
        assert [m["language"] for m in made] == ["es", "ja"]
        # Asked again: both from the cache, no request.
        again = run_cli("translate", str(folder), "--to", "es,ja", "--json", env=env)
        assert again.returncode == 0 and len(claude.requests) == 3
        assert all(m["cached"] for m in json.loads(again.stdout))
        priced = run_cli("translate", str(folder), "--to", "es,ja", "--dry-run", "--json")
        assert json.loads(priced.stdout)["usd"] == 0  # both cached: nothing to pay
    es, ja = tmp_path / "hello-es", tmp_path / "hello-ja"
    assert siblings(folder) == [es.resolve(), ja.resolve()]  # what batch --with-translations adds
    assert (es / "script.md").read_text(encoding="utf-8") == ES
    assert yaml.safe_load((ja / "video.yaml").read_text())["language"] == "ja"
    # Spanish offline: the draft Spanish voice.
    proc = run_cli("make-video", str(es), "--json", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    speech = yaml.safe_load((es / "build/speech.yaml").read_text())
    assert speech["backend"] == "espeak"
    assert probe(Path(json.loads(proc.stdout)["video"])).duration_s > 2
    # Japanese: no offline voice, so the ElevenLabs one (through its local stand-in).
    persona = yaml.safe_load((ja / "persona.yaml").read_text())
    persona["voice"] = {"backend": "elevenlabs", "voice": "Brian"}
    (ja / "persona.yaml").write_text(yaml.safe_dump(persona), encoding="utf-8")
    with serving(KEY) as eleven:
        env = {"ELEVENLABS_BASE_URL": eleven.url, "ELEVENLABS_API_KEY": KEY,
               "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}  # fmt: skip
        proc = run_cli("make-video", str(ja), "--json", "--no-publish", env=env)
        assert proc.returncode == 0, proc.stderr
        said = "".join(r.text for r in eleven.requests)
        assert "マックス" in said and "PersonaForge" in said
    assert probe(Path(json.loads(proc.stdout)["video"])).duration_s > 2
