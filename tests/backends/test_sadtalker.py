"""SadTalker on Replicate, through the real ``replicate`` SDK against a local server that
speaks Replicate's API: upload, create, poll, download, conform, bill; resume, failures,
retries, timeouts and keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudfakes import ReplicateFake, Server, serve
from lipsync_helpers import FRAMES, SIZE, make_request, make_setup, returned_clip, write_audio
from mediacheck import count_frames

from personaforge.backends.cloud import RemoteError
from personaforge.backends.lipsync.sadtalker import MODEL_VERSION, SadTalkerLipsync
from personaforge.costs import bill
from personaforge.errors import MissingDependencyError
from personaforge.media.probe import probe
from personaforge.progress import NullProgress
from personaforge.stages.parts.faces import render_clip

pytest.importorskip("replicate")

TOKEN = "r8_test_secret_token_0123456789"


@pytest.fixture(scope="module")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return returned_clip(tmp_path_factory.mktemp("clip") / "returned.mp4")


@pytest.fixture
def fake(clip_bytes: bytes) -> Iterator[tuple[ReplicateFake, Server]]:
    api = ReplicateFake(token=TOKEN, clip=clip_bytes)
    with serve(api) as server:
        api.base = server.url
        yield api, server


def _env(server: Server, **extra: str) -> dict[str, str]:
    return {
        "REPLICATE_API_TOKEN": TOKEN,
        "REPLICATE_BASE_URL": server.url,
        "PERSONAFORGE_RETRY_SCALE": "0.001",
        **extra,
    }


def _render(root: Path, env: dict[str, str], out: Path) -> list:  # type: ignore[type-arg]
    backend = SadTalkerLipsync.from_setup(make_setup(root, env))
    audio = root / "speech.wav"
    if not audio.exists():
        write_audio(audio)
    return render_clip(backend, make_request(), audio, out, NullProgress())


def test_a_clip_is_made_conformed_and_billed(
    tmp_path: Path, fake: tuple[ReplicateFake, Server]
) -> None:
    api, server = fake
    out = tmp_path / "clip.mp4"
    billing = _render(tmp_path, _env(server), out)
    info = probe(out)
    assert (info.width, info.height, info.fps, info.audio_codec) == (*SIZE, 30.0, None)
    assert count_frames(out) == FRAMES
    [prediction] = api.predictions.values()
    assert prediction["version"] == MODEL_VERSION
    # Both inputs were uploaded as files and passed by URL.
    assert set(prediction["input"]) >= {"source_image", "driven_audio"}
    assert all(str(prediction["input"][k]).startswith(server.url + "/files/")
               for k in ("source_image", "driven_audio"))  # fmt: skip
    assert len(api.files) == 2 and any(f.startswith(b"RIFF") for f in api.files.values())
    assert billing == [bill("replicate", "gpu_second", 4.2, request_id=prediction["id"])]
    assert not list((tmp_path / "build" / "jobs").glob("*.json"))  # done: nothing to resume


def test_an_interrupted_wait_resumes_the_same_prediction(
    tmp_path: Path, fake: tuple[ReplicateFake, Server]
) -> None:
    api, server = fake
    api.polls = 10**6  # the model is still running when the wait runs out
    with pytest.raises(RemoteError) as info:
        _render(tmp_path, _env(server, PERSONAFORGE_JOB_TIMEOUT_S="0.02"), tmp_path / "a.mp4")
    assert "still running after 0 s" in str(info.value) and "resumes" in str(info.value)
    assert len(list((tmp_path / "build" / "jobs").glob("*.job.json"))) == 1
    first_polls = server.count("GET", "/v1/predictions/")
    assert first_polls >= 1

    api.polls = 0  # finished meanwhile
    out = tmp_path / "b.mp4"
    _render(tmp_path, _env(server), out)
    assert server.count("POST", "/v1/predictions") == 1  # created once, paid once
    assert server.count("GET", "/v1/predictions/") > first_polls  # polled across both runs
    assert count_frames(out) == FRAMES


def test_a_failed_prediction_reports_the_service_message(
    tmp_path: Path, fake: tuple[ReplicateFake, Server]
) -> None:
    api, server = fake
    api.outcome = "failed"
    with pytest.raises(RemoteError) as info:
        _render(tmp_path, _env(server), tmp_path / "a.mp4")
    assert str(info.value).endswith("failed: CUDA out of memory")
    # A failed job is final: the next run starts a new one rather than polling it again.
    assert not list((tmp_path / "build" / "jobs").glob("*.json"))
    api.outcome = "canceled"
    with pytest.raises(RemoteError, match="cancelled"):
        _render(tmp_path, _env(server), tmp_path / "a.mp4")
    assert server.count("POST", "/v1/predictions") == 2


def test_busy_and_server_errors_are_retried(
    tmp_path: Path, fake: tuple[ReplicateFake, Server]
) -> None:
    api, server = fake
    api.faults = [("POST", "/v1/predictions", 429), ("GET", "/v1/predictions/", 500),
                  ("POST", "/v1/files", 502)]  # fmt: skip
    out = tmp_path / "clip.mp4"
    _render(tmp_path, _env(server), out)
    assert count_frames(out) == FRAMES
    assert server.count("POST", "/v1/predictions") == 2  # the 429, then the real one
    assert len(api.predictions) == 1


def test_missing_and_refused_tokens(tmp_path: Path, fake: tuple[ReplicateFake, Server]) -> None:
    _, server = fake
    env = _env(server)
    del env["REPLICATE_API_TOKEN"]
    with pytest.raises(MissingDependencyError) as missing:
        SadTalkerLipsync.from_setup(make_setup(tmp_path, env))
    assert "needs REPLICATE_API_TOKEN" in str(missing.value)
    with pytest.raises(RemoteError) as refused:
        _render(tmp_path, _env(server, REPLICATE_API_TOKEN="r8_wrong"), tmp_path / "a.mp4")
    text = str(refused.value)
    assert "HTTP 401" in text and "check REPLICATE_API_TOKEN" in text and "r8_wrong" not in text


@pytest.mark.parametrize(
    ("size", "rate", "seconds"), [("640x360", 60, 2.0), ("320x180", 30, 1.1), ("200x300", 24, 1.25)]
)
def test_whatever_comes_back_is_conformed_to_the_shot(
    tmp_path: Path, size: str, rate: int, seconds: float
) -> None:
    clip = returned_clip(tmp_path / "r.mp4", size=size, rate=rate, seconds=seconds)
    api = ReplicateFake(token=TOKEN, clip=clip)
    with serve(api) as server:
        api.base = server.url
        out = tmp_path / "clip.mp4"
        _render(tmp_path, _env(server), out)
    info = probe(out)
    assert (info.width, info.height, info.fps, info.audio_codec) == (*SIZE, 30.0, None)
    assert count_frames(out) == FRAMES
