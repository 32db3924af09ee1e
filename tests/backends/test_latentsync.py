"""LatentSync on RunPod, through the real ``runpod`` SDK against a local server speaking
RunPod's ``/v2/<endpoint>/run`` and ``/status/<id>`` that runs our own worker's handler, with
media on a real ``moto_server``: clip, conform, bill; resume, failures, retries, keys, storage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cloudfakes import RunPodFake, Server, serve
from lipsync_helpers import FRAMES, make_request, make_setup, write_audio
from mediacheck import count_frames

from personaforge.backends.cloud import RemoteError
from personaforge.costs import bill
from personaforge.errors import MissingDependencyError
from personaforge.media.probe import probe
from personaforge.progress import NullProgress
from personaforge.stages.parts.faces import render_clip

pytest.importorskip("runpod")

API_KEY = "rpa_test_secret_key_0123456789"
ENDPOINT = "ep123abc"
# The worker finds the face again in the frames it is sent: big enough for MIN_FACE_PX.
SIZE = (480, 270)


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[tuple[RunPodFake, Server]]:
    from personaforge.worker import runpod_handler

    # No LatentSync weights here: the worker says so and animates the photo offline.
    monkeypatch.setenv("LATENTSYNC_DIR", str(tmp_path / "no-latentsync"))
    api = RunPodFake(api_key=API_KEY, endpoint=ENDPOINT, handler=runpod_handler.handler)
    with serve(api) as server:
        yield api, server


def _env(server: Server, moto_endpoint: str, bucket: str, **extra: str) -> dict[str, str]:
    return {
        "RUNPOD_API_KEY": API_KEY,
        "RUNPOD_ENDPOINT_ID": ENDPOINT,
        "RUNPOD_ENDPOINT_BASE_URL": server.url + "/v2",
        "R2_ENDPOINT": moto_endpoint,
        "R2_ACCESS_KEY": "moto-access",
        "R2_SECRET_KEY": "moto-secret-value",
        "R2_BUCKET": bucket,
        "PERSONAFORGE_RETRY_SCALE": "0.001",
        **extra,
    }


def _render(root: Path, env: dict[str, str], out: Path) -> list[Any]:
    from personaforge.backends.lipsync.latentsync import LatentSyncLipsync

    backend = LatentSyncLipsync.from_setup(make_setup(root, env))
    audio = root / "speech.wav"
    if not audio.exists():
        write_audio(audio)
    return render_clip(backend, make_request(size=SIZE), audio, out, NullProgress())


def test_a_clip_is_made_by_our_worker_conformed_and_billed(
    tmp_path: Path, fake: tuple[RunPodFake, Server], moto_endpoint: str, bucket: str,
    s3_client: Any,
) -> None:  # fmt: skip
    api, server = fake
    out = tmp_path / "clip.mp4"
    billing = _render(tmp_path, _env(server, moto_endpoint, bucket), out)
    info = probe(out)
    assert (info.width, info.height, info.fps, info.audio_codec) == (*SIZE, 30.0, None)
    assert count_frames(out) == FRAMES
    [(job_id, job)] = api.jobs.items()
    sent = job["input"]
    assert (sent["fps"], sent["width"], sent["height"], sent["frames"]) == (30, *SIZE, FRAMES)
    x, y, w, h = sent["face_box"]  # where the idle clip's face is, so the worker need not search
    assert 0 <= x < x + w <= SIZE[0] and 0 <= y < y + h <= SIZE[1]
    # Media went by presigned URL on the project's storage, never in the request body.
    assert all(sent[k].startswith(moto_endpoint) and "Signature=" in sent[k]
               for k in ("audio_url", "face_url", "result_put_url"))  # fmt: skip
    keys = {o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert {k.rsplit("/", 1)[-1] for k in keys} == {"face.mp4", "audio.wav", "result.mp4"}
    assert job["result"]["output"]["engine"] == "photo"
    assert billing == [bill("runpod", "gpu_second", 3.4, request_id=job_id)]


def test_an_interrupted_wait_resumes_the_same_job(
    tmp_path: Path, fake: tuple[RunPodFake, Server], moto_endpoint: str, bucket: str
) -> None:
    api, server = fake
    api.polls = 10**6
    env = _env(server, moto_endpoint, bucket)
    with pytest.raises(RemoteError) as info:
        _render(tmp_path, {**env, "PERSONAFORGE_JOB_TIMEOUT_S": "0.02"}, tmp_path / "a.mp4")
    assert "still" in str(info.value) and "resumes waiting" in str(info.value)
    first = server.count("GET", f"/v2/{ENDPOINT}/status/")
    api.polls = 0
    out = tmp_path / "b.mp4"
    _render(tmp_path, env, out)
    assert server.count("POST", f"/v2/{ENDPOINT}/run") == 1  # created once, paid once
    assert server.count("GET", f"/v2/{ENDPOINT}/status/") > first
    assert count_frames(out) == FRAMES


@pytest.mark.parametrize(
    ("outcome", "words"),
    [
        ("FAILED", "failed: worker exited"),
        ("CANCELLED", "cancelled: worker exited"),
        ("TIMED_OUT", "timed out: worker exited"),
    ],
)
def test_final_failures_carry_the_service_message(
    tmp_path: Path, fake: tuple[RunPodFake, Server], moto_endpoint: str, bucket: str,
    outcome: str, words: str,
) -> None:  # fmt: skip
    api, server = fake
    api.outcome = outcome
    with pytest.raises(RemoteError) as info:
        _render(tmp_path, _env(server, moto_endpoint, bucket), tmp_path / "a.mp4")
    assert str(info.value).endswith(words)
    assert not list((tmp_path / "build" / "jobs").glob("*.json"))  # final: not resumed


def test_busy_and_server_errors_are_retried(
    tmp_path: Path, fake: tuple[RunPodFake, Server], moto_endpoint: str, bucket: str
) -> None:
    api, server = fake
    api.faults = [("POST", f"/v2/{ENDPOINT}/run", 429), ("GET", f"/v2/{ENDPOINT}/status/", 503)]
    out = tmp_path / "clip.mp4"
    _render(tmp_path, _env(server, moto_endpoint, bucket), out)
    assert count_frames(out) == FRAMES and len(api.jobs) == 1
    assert server.count("POST", f"/v2/{ENDPOINT}/run") == 2


def test_missing_keys_storage_and_refused_keys(
    tmp_path: Path, fake: tuple[RunPodFake, Server], moto_endpoint: str, bucket: str
) -> None:
    from personaforge.backends.lipsync.latentsync import LatentSyncLipsync

    _, server = fake
    env = _env(server, moto_endpoint, bucket)
    for name in ("RUNPOD_API_KEY", "RUNPOD_ENDPOINT_ID"):
        partial = {k: v for k, v in env.items() if k != name}
        with pytest.raises(MissingDependencyError, match=f"needs {name}"):
            LatentSyncLipsync.from_setup(make_setup(tmp_path, partial))
    no_storage = {k: v for k, v in env.items() if not k.startswith("R2_")}
    with pytest.raises(MissingDependencyError) as info:
        LatentSyncLipsync.from_setup(make_setup(tmp_path, no_storage))
    assert "needs S3/R2 storage" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(RemoteError) as refused:
        _render(tmp_path, {**env, "RUNPOD_API_KEY": "rpa_wrong"}, tmp_path / "a.mp4")
    assert "check RUNPOD_API_KEY" in str(refused.value) and "rpa_wrong" not in str(refused.value)
