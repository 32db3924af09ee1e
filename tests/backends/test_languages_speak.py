"""Every language of the table is said, every word sent to the voice in its own language:
the speak stage through the real ElevenLabs SDK against the local stand-in, and offline."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from elevenlabs_server import ElevenLabsServer, serving
from helpers import run_cli, write_project

from personaforge.commands.make_video import run_stage
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.runtime.common import Context

pytest.importorskip("elevenlabs")

KEY = "sk_test_0123456789abcdef0123456789abcdef"

# A short script per language with a number; the words its number must be said as; words
# of English that must never be sent.
SCRIPTS = {
    "en": ("I have 25 apples. That is a lot!", "twenty five"),
    "es": ("Tengo 25 años. ¿Y tú?", "veinticinco"),
    "de": ("Ich habe 25 Äpfel. Das ist viel!", "fünfundzwanzig"),
    "fr": ("J'ai 25 pommes. C'est beaucoup !", "vingt cinq"),
    "pt": ("Eu tenho 25 maçãs. É muito!", "vinte e cinco"),
    "ru": ("У меня 25 яблок. Это много!", "двадцать пять"),
    "ar": ("لدي 25 تفاحة. هذا كثير!", "خمسة و عشرون"),
    "hi": ("मेरे पास 25 सेब हैं। यह बहुत है!", "पच्चीस"),
    "ja": ("りんごが25個あります。たくさんです！", "二十五"),
    "zh": ("我有25个苹果。很多！", "二十五"),
}
ENGLISH_NUMBERS = re.compile(r"\b(twenty|five|three|seven)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def server() -> Iterator[ElevenLabsServer]:
    with serving(KEY) as state:
        yield state


def _project(folder: Path, language: str, script: str, *, voice: str = "elevenlabs") -> Path:
    write_project(folder, f"# {language}\n\n{script}\n", extra=f"language: {language}\n")
    if voice == "elevenlabs":
        (folder / "persona.yaml").write_text(
            "schema_version: 1\nname: Ana\narchetype: narrator\n"
            "voice:\n  backend: elevenlabs\n  voice: Brian\n",
            encoding="utf-8",
        )
    return folder


def _env(server: ElevenLabsServer) -> dict[str, str]:
    return {
        "ELEVENLABS_BASE_URL": server.url,
        "ELEVENLABS_API_KEY": KEY,
        "PERSONAFORGE_RETRY_SCALE": "0.001",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def _spoken_letters(text: str) -> str:
    return "".join(c for c in text if c.isalpha())


@pytest.mark.parametrize("language", sorted(SCRIPTS))
def test_every_word_reaches_the_voice_in_its_language(
    tmp_path: Path, server: ElevenLabsServer, language: str
) -> None:
    script, number = SCRIPTS[language]
    folder = _project(tmp_path / language, language, script)
    before = len(server.requests)
    ctx = Context.load(Project(folder), env=_env(server))
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    sent = [r for r in server.requests[before:]]
    said = " ".join(r.text for r in sent)
    # The number in the language's words, never English ones (nor the digits).
    assert number in said, said
    if language != "en":
        assert not ENGLISH_NUMBERS.search(said), said
        assert not re.search(r"[0-9]", said), said
    # Every written letter of the script (the number aside) reached the voice, in order.
    written = _spoken_letters(re.sub(r"[0-9]+", "", script))
    letters = _spoken_letters(said)
    it = iter(letters)
    assert all(c in it for c in written), (written, letters)
    assert all(r.body["model_id"] == "eleven_multilingual_v2" for r in sent)
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    talking = [s for s in speech["shots"] if s["words"]]
    assert talking
    for shot in speech["shots"]:
        assert shot["language"] == language
    for shot in talking:
        # The mouth moves while words are spoken: a shape other than silence inside each word.
        keys = shot["visemes"]
        for word in shot["words"]:
            inside = [k["v"] for k in keys if word["start"] <= k["t"] < word["end"]]
            active = [k for k in keys if k["t"] <= word["start"]]
            shapes = inside + ([active[-1]["v"]] if active else [])
            if word["end"] > word["start"]:
                assert any(v != "sil" for v in shapes), (word, keys)


def test_a_model_that_takes_the_language_is_told_it(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path / "es", "es", SCRIPTS["es"][0])
    persona = folder / "persona.yaml"
    persona.write_text(persona.read_text() + "  model: eleven_flash_v2_5\n", encoding="utf-8")
    before = len(server.requests)
    ctx = Context.load(Project(folder), env=_env(server))
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    sent = server.requests[before:]
    assert sent and all(r.body.get("language_code") == "es" for r in sent)
    assert all(r.body["model_id"] == "eleven_flash_v2_5" for r in sent)


def test_a_model_that_does_not_speak_the_language_is_one_line(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path / "ja", "ja", SCRIPTS["ja"][0])
    persona = folder / "persona.yaml"
    persona.write_text(persona.read_text() + "  model: eleven_flash_v2\n", encoding="utf-8")
    ctx = Context.load(Project(folder), env=_env(server))
    run_stage("plan", ctx)
    with pytest.raises(PersonaForgeError) as err:
        run_stage("speak", ctx)
    assert "does not speak Japanese" in str(err.value)


# ------------------------------------------------------------------------------ offline


def test_offline_spanish_is_said_by_a_spanish_draft_voice(tmp_path: Path) -> None:
    folder = _project(tmp_path / "es", "es", SCRIPTS["es"][0], voice="offline")
    ctx = Context.load(Project(folder))
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    assert speech["backend"] == "espeak"
    said = " ".join(s["spoken"] for s in speech["shots"])
    assert "veinticinco" in said and "años" in said
    words = [w for s in speech["shots"] for w in s["words"]]
    assert [w["text"] for w in words][-4:] == ["25", "años.", "¿Y", "tú?"]
    assert all(w["end"] > w["start"] for w in words)


def test_offline_japanese_is_refused_in_one_line(tmp_path: Path) -> None:
    folder = _project(tmp_path / "ja", "ja", SCRIPTS["ja"][0], voice="offline")
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert "no offline voice speaks Japanese" in lines[0], proc.stderr
    assert "elevenlabs" in proc.stderr and "Traceback" not in proc.stderr


def test_a_russian_sentence_in_an_english_script_is_never_silent(tmp_path: Path) -> None:
    script = "# Hi\n\nHello there, friends of the show.\n\nПривет, как дела? Очень хорошо.\n"
    folder = write_project(tmp_path / "mixed", script)
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1
    first = proc.stderr.strip().splitlines()[0]
    assert "script.md:5" in first and "Russian" in first, proc.stderr
    assert not list(folder.glob("build/*.mp4"))


def test_a_russian_sentence_is_voiced_by_a_voice_that_speaks_it(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    script = "Hello there, friends of the show. Привет, как дела? Очень хорошо."
    folder = _project(tmp_path / "mixed", "en", script)
    before = len(server.requests)
    ctx = Context.load(Project(folder), env=_env(server))
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    said = " ".join(r.text for r in server.requests[before:])
    assert "Привет" in said and "хорошо" in said


def test_voices_for_a_language(server: ElevenLabsServer) -> None:
    env = _env(server)
    proc = run_cli("voices", "--backend", "elevenlabs", "--language", "es", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    names = {v["name"] for v in json.loads(proc.stdout)}
    assert "Sara" in names and "Brian" in names  # verified in Spanish; multilingual premade
    proc = run_cli("voices", "--backend", "elevenlabs", "--language", "de", "--json", env=env)
    assert "Sara" not in {v["name"] for v in json.loads(proc.stdout)}
    offline = json.loads(run_cli("voices", "--language", "es", "--json").stdout)
    assert [v["quality"] for v in offline] == ["draft"]
