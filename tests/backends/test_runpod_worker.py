"""Our RunPod worker, served by the runpod SDK's own local API server (``--rp_serve_api``,
``POST /runsync``), reading its inputs from and writing its clip to a real ``moto_server``
through presigned URLs; and its handler's choices: engine, progress, refusals."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import free_port
from lipsync_helpers import write_audio, write_portrait

from personaforge.backends.storage.s3 import S3Storage
from personaforge.fsutil import sha256_file
from personaforge.media.probe import probe

pytest.importorskip("runpod")

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0


def _post(port: int, path: str, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 200, data
        result: dict[str, Any] = json.loads(data)
        return result
    finally:
        conn.close()


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """``python -m personaforge.worker.runpod_handler --rp_serve_api`` on a free port."""
    port = free_port()
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
        "LATENTSYNC_DIR": str(tmp_path_factory.mktemp("no-latentsync")),
        "UVICORN_LOG_LEVEL": "warning",
    }
    env.pop("RUNPOD_WEBHOOK_POST_OUTPUT", None)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "personaforge.worker.runpod_handler", "--rp_serve_api",
             "--rp_api_port", str(port), "--rp_api_host", "127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=REPO,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"the worker did not start:\n{log.read_text()[-2000:]}")
                    time.sleep(0.2)
            yield port
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def storage(moto_endpoint: str, bucket: str) -> S3Storage:
    return S3Storage(bucket, "jobs", endpoint_url=moto_endpoint, access_key="moto-a",
                     secret_key="moto-s", region="eu-west-1")  # fmt: skip


def _inputs(storage: S3Storage, portrait: Path, audio: Path) -> dict[str, Any]:
    storage.put(portrait, "t/face.jpg", sha256_file(portrait), "image/jpeg")
    storage.put(audio, "t/audio.wav", sha256_file(audio), "audio/wav")
    return {
        "audio_url": storage.presigned_url("t/audio.wav"),
        "face_url": storage.presigned_url("t/face.jpg"),
        "result_put_url": storage.presigned_url("t/result.mp4", method="put"),
        "fps": 25,
        "width": 480,
        "height": 270,
    }


def test_runsync_writes_a_playable_clip_to_the_presigned_url(
    worker: int, storage: S3Storage, s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    portrait = write_portrait(tmp_path)
    audio = write_audio(tmp_path / "speech.wav", seconds=1.0)
    reply = _post(worker, "/runsync", {"input": _inputs(storage, portrait, audio)})
    assert reply["status"] == "COMPLETED", reply
    output = reply["output"]
    assert output["engine"] == "photo"  # no LatentSync weights here, and it says so
    assert "no LatentSync weights" in output["note"]
    assert output["output_url"].endswith("/jobs/t/result.mp4") and "?" not in output["output_url"]
    assert output["duration_s"] == pytest.approx(1.0, abs=0.05)
    clip = tmp_path / "result.mp4"
    clip.write_bytes(s3_client.get_object(Bucket=bucket, Key="jobs/t/result.mp4")["Body"].read())
    info = probe(clip)
    assert (info.video_codec, info.width, info.height, info.fps) == ("h264", 480, 270, 25.0)
    assert info.audio_codec == "aac" and info.duration_s == pytest.approx(1.0, abs=0.1)


def test_runsync_reports_a_bad_face_as_a_failed_job(
    worker: int, storage: S3Storage, tmp_path: Path
) -> None:
    from PIL import Image

    blank = tmp_path / "blank.jpg"
    Image.new("RGB", (400, 300), (100, 110, 120)).save(blank)
    reply = _post(
        worker, "/runsync", {"input": _inputs(storage, blank, write_audio(tmp_path / "a.wav"))}
    )
    assert reply["status"] == "FAILED"
    assert reply["error"].startswith("no face found in 'face.jpg'")


def test_the_handler_reports_progress_and_never_fakes_latentsync(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, storage: S3Storage
) -> None:
    import runpod

    from personaforge.worker import runpod_handler

    calls: list[tuple[str, Any]] = []
    monkeypatch.setattr(
        runpod.serverless, "progress_update", lambda job, p: calls.append((job["id"], p))
    )
    monkeypatch.setenv("RUNPOD_WEBHOOK_POST_OUTPUT", "https://api.runpod.ai/v2/done")
    monkeypatch.setenv("LATENTSYNC_DIR", str(tmp_path / "empty"))
    inputs = _inputs(storage, write_portrait(tmp_path), write_audio(tmp_path / "a.wav", 0.4))
    # Asked for LatentSync without its weights: refused, not silently replaced.
    refused = runpod_handler.handler({"id": "j1", "input": {**inputs, "engine": "latentsync"}})
    assert "weights are not on this worker" in refused["error"]
    done = runpod_handler.handler({"id": "j2", "input": inputs})
    assert done["engine"] == "photo"
    assert [c[0] for c in calls] == ["j2"] * 3
    assert [c[1]["progress"] for c in calls] == sorted(c[1]["progress"] for c in calls)
    # With the weights in place the worker would run LatentSync: its check looks for them all.
    home = tmp_path / "LatentSync"
    for rel in ("scripts/inference.py", "checkpoints/latentsync_unet.pt",
                "checkpoints/whisper/tiny.pt"):  # fmt: skip
        assert runpod_handler.latentsync_home({"LATENTSYNC_DIR": str(home)}) is None
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_bytes(b"")
    assert runpod_handler.latentsync_home({"LATENTSYNC_DIR": str(home)}) == home


def test_a_known_face_box_skips_detection_even_in_a_tiny_frame(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, storage: S3Storage, s3_client: Any,
    bucket: str,
) -> None:  # fmt: skip
    from PIL import Image

    from personaforge.media.synthface import draw_portrait
    from personaforge.worker import runpod_handler

    monkeypatch.setenv("LATENTSYNC_DIR", str(tmp_path / "empty"))
    small = tmp_path / "small.png"
    draw_portrait(160, 90, face_width=16, center=(80, 40)).save(small)
    error = runpod_handler.handler(
        {"id": "a", "input": _inputs(storage, small, write_audio(tmp_path / "a.wav", 0.4))}
    )["error"]
    assert "at least 24 px is needed" in error  # found by its landmarks, but too small
    inputs = _inputs(storage, small, write_audio(tmp_path / "b.wav", 0.4))
    done = runpod_handler.handler({"id": "b", "input": {**inputs, "face_box": [70, 30, 20, 20]}})
    assert done["engine"] == "photo", done
    clip = tmp_path / "out.mp4"
    clip.write_bytes(s3_client.get_object(Bucket=bucket, Key="jobs/t/result.mp4")["Body"].read())
    assert probe(clip).video_codec == "h264"
    assert Image.open(small).size == (160, 90)
