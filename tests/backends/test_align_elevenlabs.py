"""ElevenLabs forced alignment and speech to text, with the real SDK against the local server
(tests/backends/elevenlabs_server.py): the take's words where the service says they are, the
voice backend's rules for faults, and nothing sent twice."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from elevenlabs_server import ElevenLabsServer, Fault, serving
from helpers import run_cli, write_project
from narration_takes import Take, engines, make_take

pytestmark = pytest.mark.skipif(not engines(), reason="needs espeak-ng or flite")

KEY = "sk-align-test-0123456789"
SENTENCES = ["Welcome to the show about the deep ocean.", "Whales talk across the sea."]


@pytest.fixture(scope="module")
def take() -> Take:
    return make_take(SENTENCES, engine=engines()[0])


@pytest.fixture
def server(take: Take) -> ElevenLabsServer:
    with serving(KEY) as state:
        words = " ".join(SENTENCES).split()
        flat = [(s, e) for k in range(len(SENTENCES))
                for s, e in zip(take.onsets[k], take.ends[k], strict=True)]  # fmt: skip
        state.take_words = [(w, s, e) for w, (s, e) in zip(words, flat, strict=True)]
        yield state


def _env(server: ElevenLabsServer, key: str = KEY) -> dict[str, str]:
    return {
        "ELEVENLABS_API_KEY": key,
        "ELEVENLABS_BASE_URL": server.url,
        "PERSONAFORGE_RETRY_SCALE": "0.001",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def _project(tmp_path: Path, take: Take) -> Path:
    folder = write_project(tmp_path / "p", "\n".join(SENTENCES) + "\n",
                           extra="narration: {file: take.wav, align: elevenlabs}\n")  # fmt: skip
    take.write(folder / "take.wav")
    return folder


def test_aligned_by_the_service_and_paid_once(
    tmp_path: Path, take: Take, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path, take)
    proc = run_cli("estimate", str(folder), "--json", "--no-publish", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    speak = json.loads(proc.stdout)["stages"]["speak"]
    assert speak["backend"] == "narration:elevenlabs" and speak["requests"] == 1, speak
    assert abs(speak["units"]["elevenlabs:audio_second"] - take.duration_s) < 0.2, speak
    assert not server.align_requests  # the estimate sends nothing
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "-q", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    assert len(server.align_requests) == 1
    form = server.align_requests[0]
    assert form["file"][:4] == b"RIFF" and "Welcome" in form["text"]
    speech = yaml.safe_load((folder / "build" / "speech.yaml").read_text())
    lead = take.onsets[0][0] - 0.25
    t0 = 0.0
    for k, shot in enumerate(speech["shots"]):
        starts = [t0 + w["start"] for w in shot["words"]]
        assert all(abs(a - (b - lead)) < 0.02 for a, b in zip(starts, take.onsets[k], strict=True))
        t0 += shot["frames"] / 30
    assert speech["shots"][0]["billing"][0]["unit"] == "audio_second"
    again = run_cli("make-video", str(folder), "--no-publish", "--json", "-q", env=_env(server))
    assert again.returncode == 0 and len(server.align_requests) == 1  # zero requests
    assert KEY not in (folder / "build" / "speech.yaml").read_text()


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (Fault("error", 401, "invalid_api_key", "Invalid API key"), "refused the key"),
        (Fault("error", 401, "quota_exceeded", "quota is used up"), "quota"),
        (Fault("garbage"), "malformed"),
    ],
)
def test_faults_are_one_line_and_record_nothing(
    tmp_path: Path, take: Take, server: ElevenLabsServer, fault: Fault, says: str
) -> None:
    folder = _project(tmp_path, take)
    server.fail_next(fault)
    proc = run_cli("make-video", str(folder), "--no-publish", "-q", env=_env(server))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0].lower(), lines
    assert KEY not in proc.stderr
    assert not (folder / "build" / "speech.yaml").exists()
    assert not list((folder / "build" / "narration").glob("*.align.json"))


def test_busy_is_retried(tmp_path: Path, take: Take, server: ElevenLabsServer) -> None:
    folder = _project(tmp_path, take)
    server.fail_next(Fault("error", 429, "rate_limit_exceeded", "slow down"))
    proc = run_cli("make-video", str(folder), "--no-publish", "-q", env=_env(server))
    assert proc.returncode == 0, proc.stderr
    assert len(server.align_requests) == 2


def test_a_sentence_the_service_cannot_find(
    tmp_path: Path, take: Take, server: ElevenLabsServer
) -> None:
    folder = _project(tmp_path, take)
    server.word_loss = 9.0
    proc = run_cli("make-video", str(folder), "--no-publish", "-q", env=_env(server))
    assert proc.returncode == 1
    assert "script.md:1:" in proc.stderr and "Welcome" in proc.stderr


def test_transcribe_then_speak_needs_no_alignment(
    tmp_path: Path, take: Take, server: ElevenLabsServer
) -> None:
    take.write(tmp_path / "take.wav")
    script = tmp_path / "script.md"
    proc = run_cli("transcribe", str(tmp_path / "take.wav"), "-o", str(script),
                   "--language", "en", env=_env(server))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert script.read_text().splitlines() == SENTENCES
    form = server.stt_requests[0]
    assert form["model_id"] == "scribe_v2" and form["timestamps_granularity"] == "word"
    assert form["language_code"] == "en"
    folder = tmp_path / "proj"
    proc = run_cli("init", str(folder), "--narration", str(tmp_path / "take.wav"),
                   "--script", str(script))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    video = yaml.safe_load((folder / "video.yaml").read_text())
    video["resolution"] = "320x180"
    (folder / "video.yaml").write_text(yaml.safe_dump(video))
    # No key now: the kept timings are the alignment.
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "-q")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["duration_s"] > 3
    assert not server.align_requests and len(server.stt_requests) == 1


def test_transcribe_offline_refuses_in_one_line(tmp_path: Path, take: Take) -> None:
    take.write(tmp_path / "take.wav")
    proc = run_cli("transcribe", str(tmp_path / "take.wav"), "-o", str(tmp_path / "s.md"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs the ElevenLabs backend" in lines[0]
    assert not (tmp_path / "s.md").exists()
