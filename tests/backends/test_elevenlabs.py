"""The ElevenLabs voice end to end: the real SDK against a local server speaking the real API."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import webvtt
import yaml
from elevenlabs_server import ElevenLabsServer, Fault, serving
from helpers import run_cli, write_project

from personaforge.commands.make_video import run_stage
from personaforge.core.manifests import CARD_KINDS
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.media.probe import probe
from personaforge.runtime.common import Context
from personaforge.stages.speak import CARD_MIN_S

pytest.importorskip("elevenlabs")

KEY = "sk_test_0123456789abcdef0123456789abcdef"
SCRIPT = """# Voices

Hello there, this is the *first* sentence.
The second sentence costs $5 on 2024-01-02.
And a third one closes it!
"""


@pytest.fixture
def server() -> Iterator[ElevenLabsServer]:
    with serving(KEY) as state:
        yield state


def _persona(folder: Path, voice: str = "Brian", extra: str = "") -> None:
    (folder / "persona.yaml").write_text(
        "schema_version: 1\nname: Ben\narchetype: narrator\n"
        f"voice:\n  backend: elevenlabs\n  voice: {voice}\n  stability: 0.5\n" + extra,
        encoding="utf-8",
    )


def _project(tmp_path: Path, server: ElevenLabsServer, *, key_in_dotenv: bool = True) -> Path:
    folder = write_project(tmp_path / "proj", SCRIPT)
    _persona(folder)
    if key_in_dotenv:
        (folder / ".env").write_text(f"ELEVENLABS_API_KEY={KEY}\n", encoding="utf-8")
    return folder


def _env(server: ElevenLabsServer, **extra: str) -> dict[str, str]:
    return {
        "ELEVENLABS_BASE_URL": server.url,
        "PERSONAFORGE_RETRY_SCALE": "0.001",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **extra,
    }


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _no_key_anywhere(*folders: Path) -> None:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and path.name != ".env":
                assert KEY.encode() not in path.read_bytes(), path


def _speak(folder: Path, server: ElevenLabsServer, **env: str) -> Context:
    """plan + speak in process, as make-video runs them."""
    ctx = Context.load(Project(folder), env={**_env(server), "ELEVENLABS_API_KEY": KEY, **env})
    run_stage("plan", ctx)
    run_stage("speak", ctx)
    return ctx


@pytest.mark.slow
def test_make_video_follows_the_served_alignment_and_pays_once(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path, server)
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    shots = speech["shots"]
    assert server.tts_requests() == len(shots) == 4
    assert server.voice_lists == 1  # the voice name was resolved once, and recorded
    assert json.loads((folder / "build/speech/elevenlabs-voices.json").read_text()) == {
        "Brian": "nPczCjzI2devNBz1zQrb"
    }
    served = {r.text: r for r in server.requests}
    # What was sent: the spoken form, the model, the director's settings, the neighbours.
    second = next(r for r in server.requests if "dollars" in r.text)
    assert second.voice_id == "nPczCjzI2devNBz1zQrb"
    assert "five dollars" in second.text and "January second" in second.text
    assert second.body["model_id"] == "eleven_multilingual_v2"
    assert 0.0 <= second.body["voice_settings"]["stability"] <= 1.0
    assert "first sentence" in second.body["previous_text"]
    assert "third one" in second.body["next_text"]
    first = next(r for r in server.requests if "sentence." in r.text and "Hello" in r.text)
    assert "FIRST" in first.text  # *first* is stressed; captions show "first"
    # Billing per shot from the response headers; --json reports the total.
    billed = sum(b["quantity"] for s in shots for b in s["billing"])
    assert billed == sum(len(r.text) for r in server.requests)
    assert all(s["billing"][0]["request_id"].startswith("req-") for s in shots)
    assert result["cost"]["units"]["elevenlabs:character"] == billed
    assert result["cost"]["usd"] > 0

    # The video lasts as long as the audio it was given (each shot padded to whole frames,
    # a card held at least CARD_MIN_S).
    audio_s = sum(
        max(r.audio_s, CARD_MIN_S) if shot["kind"] in CARD_KINDS else r.audio_s
        for shot in shots
        for r in [next(r for t, r in served.items() if t.lower() == shot["spoken"].lower())]
    )
    info = probe(Path(result["video"]))
    assert abs(info.duration_s - audio_s) <= len(shots) / 30 + 0.05
    # Caption cues start where the served alignment says their first word starts.
    starts, offset = [], 0.0
    for shot in shots:
        r = next(r for t, r in served.items() if t.lower() == shot["spoken"].lower())
        assert r.alignment is not None
        chars = r.alignment["characters"]
        t0 = r.alignment["character_start_times_seconds"]
        word_starts = [
            t0[i] for i, c in enumerate(chars) if c != " " and (i == 0 or chars[i - 1] == " ")
        ]
        # A written word ("$5") may be several spoken ones; each starts where one did.
        assert len(word_starts) >= len(shot["words"])
        for w in shot["words"]:
            assert min(abs(w["start"] - t) for t in word_starts) < 0.002
            starts.append((w["text"], offset + w["start"]))
        offset += shot["frames"] / 30
    cues = list(webvtt.read(result["captions"]))
    assert cues
    idx = 0
    for cue in cues:
        first_word = cue.text.split()[0]
        while starts[idx][0] != first_word:
            idx += 1
        assert abs(_seconds(cue.start) - starts[idx][1]) < 0.05
    assert "*" not in Path(result["captions"]).read_text()

    # A second run sends nothing; editing one sentence sends exactly one request.
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    assert server.tts_requests() == 4 and server.voice_lists == 1
    status = run_cli("status", str(folder), "--json", env=_env(server))
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["cost"]["units"]["elevenlabs:character"] == billed
    script = (folder / "script.md").read_text().replace("third one", "last one")
    (folder / "script.md").write_text(script)
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    assert server.tts_requests() == 5 and server.voice_lists == 1
    assert "last one" in server.requests[-1].text
    _no_key_anywhere(tmp_path, Path(os.environ["HOME"]))  # the project, logs, crash logs
    assert KEY not in proc.stdout + proc.stderr


def test_concurrency_limit_waits_and_busy_retries(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    server.fail_next(
        Fault("error", 429, "too_many_concurrent_requests", "Too many concurrent requests"),
        Fault("error", 429, "system_busy", "The system is busy"),
        Fault("error", 503, "service_unavailable", "try again"),
        Fault("drop"),
    )
    ctx = _speak(folder, server)
    speech = yaml.safe_load(ctx.project.manifest_path("speak").read_text())
    assert len(speech["shots"]) == 4
    assert server.tts_requests() == 8  # four faults, each followed by a good answer


def test_an_mp3_answer_is_decoded_to_the_same_rate(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    import wave

    folder = _project(tmp_path, server, key_in_dotenv=False)
    server.fail_next(Fault("mp3"))
    ctx = _speak(folder, server)
    speech = yaml.safe_load(ctx.project.manifest_path("speak").read_text())
    assert speech["sample_rate"] == 22050
    served = {r.text.lower(): r.audio_s for r in server.requests}
    for shot in speech["shots"]:
        with wave.open(str(folder / shot["audio"])) as w:
            assert w.getframerate() == 22050
            seconds = w.getnframes() / w.getframerate()
        # MP3 adds an encoder delay of a few milliseconds; nothing else changes (but a card's
        # hold: it lasts at least CARD_MIN_S).
        expected = served[shot["spoken"].lower()]
        if shot["kind"] in CARD_KINDS:
            expected = max(expected, CARD_MIN_S)
        assert abs(seconds - expected) < 0.1


def test_timeouts_are_retried(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    server.delay_s = 4.0
    server.fail_next(Fault("timeout"))
    ctx = _speak(folder, server, PERSONAFORGE_ELEVENLABS_TIMEOUT_S="3")
    assert len(yaml.safe_load(ctx.project.manifest_path("speak").read_text())["shots"]) == 4
    # the stalled request was sent again (a loaded machine may time out another one too)
    assert server.tts_requests() >= 5 and not server.faults


def test_retries_are_bounded_then_one_line(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    server.fail_next(*[Fault("error", 500, "internal_error", "oops")] * 20)
    with pytest.raises(PersonaForgeError) as info:
        _speak(folder, server, PERSONAFORGE_ELEVENLABS_TIMEOUT_S="5")
    message = str(info.value)
    assert "gave up after 5 attempts" in message and "\n" not in message
    assert not (folder / "build/speech.yaml").exists()


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (Fault("error", 401, "quota_exceeded", "This request exceeds your quota of 10000."),
         "quota is exhausted"),
        (Fault("error", 401, "invalid_api_key", "Invalid API key"), "ELEVENLABS_API_KEY"),
    ],
)  # fmt: skip
def test_fatal_answers_stop_at_once_with_one_line(
    tmp_path: Path, server: ElevenLabsServer, fault: Fault, expected: str
) -> None:
    folder = _project(tmp_path, server)
    with (folder / "video.yaml").open("a") as f:
        f.write("max_concurrency: 1\n")  # one request at a time: "at once" is exact
    assert run_cli("plan", str(folder)).returncode == 0
    server.fail_next(fault)
    proc = run_cli("-q", "speak", str(folder), env=_env(server))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: [speak]") and expected in lines[0]
    assert KEY not in proc.stderr
    assert not (folder / "build/speech.yaml").exists()
    assert server.tts_requests() == 1  # stopped at once
    _no_key_anywhere(folder)


def test_a_wrong_key_never_reaches_a_file(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    wrong = "sk_wrong_key_that_must_not_leak_42"
    (folder / ".env").write_text(f"ELEVENLABS_API_KEY={wrong}\n")
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1
    assert "ELEVENLABS_API_KEY" in proc.stderr and wrong not in proc.stderr + proc.stdout
    for path in tmp_path.rglob("*"):
        if path.is_file() and path.name != ".env":
            assert wrong.encode() not in path.read_bytes(), path


def test_missing_key_is_caught_before_any_work(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1
    assert "ELEVENLABS_API_KEY" in proc.stderr
    assert server.tts_requests() == 0 and not (folder / "build/plan.yaml").exists()


def test_a_run_that_voices_nothing_needs_no_key(tmp_path: Path, server: ElevenLabsServer) -> None:
    """On-screen text added: the plan and the speech are made again from takes already paid
    for, without the key. A changed sentence without it stops before any work."""
    folder = _project(tmp_path, server)
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    assert server.tts_requests() == 4
    (folder / ".env").unlink()
    script = folder / "script.md"
    script.write_text(script.read_text().replace("Hello", "<!-- text: Three voices -->\nHello"))
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    assert stages["plan"]["status"] == stages["speak"]["status"] == "ran"
    assert stages["speak"]["reused_shots"] == stages["speak"]["shots"] == 4
    assert server.tts_requests() == 4
    plan = (folder / "build/plan.yaml").read_bytes()
    assert b"Three voices" in plan
    script.write_text(script.read_text().replace("third one", "last one"))
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1
    assert "[speak]" in proc.stderr and "needs ELEVENLABS_API_KEY" in proc.stderr
    assert (folder / "build/plan.yaml").read_bytes() == plan
    assert server.tts_requests() == 4


def test_truncated_or_garbled_answers_name_the_shot_and_record_nothing(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path, server, key_in_dotenv=False)
    for fault in (Fault("truncated"), Fault("garbage")):
        server.fail_next(fault)
        with pytest.raises(PersonaForgeError) as info:
            _speak(folder, server)
        message = str(info.value)
        assert "malformed response" in message and "shot " in message, message
        assert "\n" not in message
        assert not (folder / "build/speech.yaml").exists()
        # The shots that did arrive are recorded; the bad one is not.
        records = list((folder / "build/speech").glob("*.json"))
        wavs = {p.stem for p in (folder / "build/speech").glob("*.wav")}
        assert {p.stem for p in records if p.name != "elevenlabs-voices.json"} == wavs
    # Nothing paid for is paid again: the next run asks only for what is missing.
    before = server.tts_requests()
    _speak(folder, server)
    assert 1 <= server.tts_requests() - before <= 2


def test_unknown_voice_and_bad_settings_are_one_line_with_file_and_line(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path, server)
    _persona(folder, voice="Nobody")
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1
    assert "unknown ElevenLabs voice 'Nobody'" in proc.stderr
    assert f"{folder / 'persona.yaml'}:6" in proc.stderr
    assert server.tts_requests() == 0
    _persona(folder, extra="  style: 1.5\n")
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1 and "persona.yaml:8: voice.style" in proc.stderr
    _persona(folder, extra="  variation: 0.5\n")
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1 and "only for backend: piper" in proc.stderr
    _persona(folder, extra="  speed: 1.5\n")
    proc = run_cli("make-video", str(folder), "--no-publish", env=_env(server))
    assert proc.returncode == 1 and "voice.speed" in proc.stderr and "0.7 to 1.2" in proc.stderr
    assert server.tts_requests() == 0


def test_voices_command_lists_the_account_voices(tmp_path: Path, server: ElevenLabsServer) -> None:
    proc = run_cli(
        "voices", "--backend", "elevenlabs", "--json", env=_env(server, ELEVENLABS_API_KEY=KEY)
    )
    assert proc.returncode == 0, proc.stderr
    names = [v["name"] for v in json.loads(proc.stdout)]
    assert names == ["Rachel", "Brian", "George", "Sara"]


def test_speak_text_with_an_elevenlabs_archetype(tmp_path: Path, server: ElevenLabsServer) -> None:
    out = tmp_path / "news.wav"
    proc = run_cli(
        "speak", "--text", "Good evening. [pause 0.2s] Here is the news.", "--archetype",
        "newsreader", "--backend", "elevenlabs", "-o", str(out),
        env=_env(server, ELEVENLABS_API_KEY=KEY),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    timings = json.loads(out.with_suffix(".json").read_text())
    assert [r.voice_id for r in server.requests] == ["JBFqnCBsd6RMkjVDRZzb"] * 2  # George
    assert [w["text"] for w in timings["words"]] == [
        "Good",
        "evening.",
        "Here",
        "is",
        "the",
        "news.",
    ]
    assert sum(b["quantity"] for b in timings["billing"]) == sum(
        len(r.text) for r in server.requests
    )
    # the second piece was told what came before it, for one continuous read
    assert server.requests[1].body["previous_text"] == "Good evening."
    assert KEY not in out.with_suffix(".json").read_text()


def test_a_sentence_said_twice_is_paid_for_once(tmp_path: Path, server: ElevenLabsServer) -> None:
    folder = write_project(tmp_path / "p", "Say it again, please.\n\nSay it again, please.\n")
    _persona(folder)
    ctx = _speak(folder, server)
    shots = yaml.safe_load(ctx.project.manifest_path("speak").read_text())["shots"]
    assert len(shots) == 2 and shots[0]["audio"] == shots[1]["audio"]
    assert server.tts_requests() == 1


def test_a_persona_without_a_voice_speaks_with_its_archetypes(
    tmp_path: Path, server: ElevenLabsServer
) -> None:
    folder = write_project(tmp_path / "p", "Good evening.\n")
    (folder / "persona.yaml").write_text(
        "schema_version: 1\nname: Ed\narchetype: newsreader\nvoice: {backend: elevenlabs}\n"
    )
    _speak(folder, server)
    assert [r.voice_id for r in server.requests] == ["JBFqnCBsd6RMkjVDRZzb"]  # George
    assert server.voice_lists == 0  # an id needs no lookup
