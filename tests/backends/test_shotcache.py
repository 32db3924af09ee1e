"""The shared shot cache on a real moto_server: a fresh clone with the same cache makes no
speech and no clip; a damaged cached file is made again, not trusted."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cloudfakes import Request, Response, serve
from helpers import CLI, run_cli, write_project

from personaforge.fsutil import sha256_file
from personaforge.runtime.common import CACHE_LOOKUPS

pytestmark = pytest.mark.slow

MOTO_REGION = "eu-west-1"
SCRIPT = "# Shared\n\nMade once, anywhere.\nThen fetched by every other machine.\n"


def _env(moto: str, home: Path) -> dict[str, str]:
    return {
        "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
        "R2_ENDPOINT": moto, "R2_ACCESS_KEY": "pf-cache-a", "R2_SECRET_KEY": "pf-cache-s",
        "R2_BUCKET": "",
    }  # fmt: skip


def _run(folder: Path, env: dict[str, str], *extra: str) -> dict[str, Any]:
    proc = run_cli("make-video", str(folder), "--json", "--no-publish", *extra, env=env)
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def test_fresh_clone_with_the_same_cache_makes_nothing(
    tmp_path: Path, moto_endpoint: str, s3_client: Any
) -> None:
    bucket = f"pf-cache-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    first = write_project(tmp_path / "m1" / "proj", SCRIPT, extra=f"cache: s3://{bucket}/shots\n")
    made = _run(first, _env(moto_endpoint, tmp_path / "m1"))
    shots = made["stages"]["speak"]["shots"]
    assert shots >= 2
    assert made["stages"]["speak"]["reused_shots"] == 0
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="shots/")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert len([k for k in keys if k.startswith("shots/speech/") and k.endswith(".wav")]) == shots
    assert len([k for k in keys if k.startswith("shots/clips/") and k.endswith(".mp4")]) == shots
    assert len([k for k in keys if k.endswith(".json")]) == 2 * shots

    # Another machine: a clone of the inputs only, the cache named on the command line.
    second = write_project(tmp_path / "m2" / "proj", SCRIPT)
    # Its estimate counts the cached shots as made, and downloads none of them.
    est = run_cli("estimate", str(second), "--json", "--cache", f"s3://{bucket}/shots",
                  env=_env(moto_endpoint, tmp_path / "m2"))  # fmt: skip
    assert est.returncode == 0, est.stderr
    assert json.loads(est.stdout)["stages"]["speak"]["shots_to_make"] == 0
    assert not (second / "build").exists()
    again = _run(second, _env(moto_endpoint, tmp_path / "m2"), "--cache", f"s3://{bucket}/shots")
    assert again["stages"]["speak"]["status"] == "ran"
    assert again["stages"]["speak"]["reused_shots"] == shots
    assert again["stages"]["lipsync"]["reused_shots"] == shots
    assert sha256_file(Path(again["video"])) == sha256_file(Path(made["video"]))

    # A cached file damaged in the bucket is not trusted: that shot is made again.
    wav = next(k for k in keys if k.endswith(".wav"))
    s3_client.put_object(Bucket=bucket, Key=wav, Body=b"not audio")
    third = write_project(tmp_path / "m3" / "proj", SCRIPT, extra=f"cache: s3://{bucket}/shots\n")
    proc = run_cli("make-video", str(third), "--json", "--no-publish",
                   env=_env(moto_endpoint, tmp_path / "m3"))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["stages"]["speak"]["reused_shots"] == shots - 1
    assert "does not hold the content" in proc.stderr
    assert sha256_file(Path(result["video"])) == sha256_file(Path(made["video"]))
    # ... and shared again, whole.
    body = s3_client.get_object(Bucket=bucket, Key=wav)["Body"].read()
    assert body == (third / "build" / "speech" / Path(wav).name).read_bytes()


def test_cache_without_keys_fails_before_any_work(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", extra="cache: s3://some-bucket/shots\n")
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1
    assert "R2_ACCESS_KEY" in proc.stderr and "Traceback" not in proc.stderr
    assert not (folder / "build").exists()
    bad = write_project(tmp_path / "q", extra="cache: http://nope\n")
    proc = run_cli("make-video", str(bad), "--no-publish")
    assert proc.returncode == 1 and "cache" in proc.stderr and "s3://" in proc.stderr


def test_a_clone_with_a_warm_cache_needs_no_voice_key(
    tmp_path: Path, moto_endpoint: str, s3_client: Any
) -> None:
    """A CI machine without the ElevenLabs key renders a project whose takes are all in the
    shared cache: nothing is asked of the voice, and no key is wanted."""
    pytest.importorskip("elevenlabs")
    from elevenlabs_server import serving

    key = "sk_test_cache0123456789abcdef0123456789"
    with serving(key) as state:
        bucket = f"pf-cache-{uuid.uuid4().hex[:12]}"
        s3_client.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
        )
        persona = (
            "schema_version: 1\nname: Ben\narchetype: narrator\n"
            "voice:\n  backend: elevenlabs\n  voice: Brian\n"
        )
        voice = {"ELEVENLABS_BASE_URL": state.url, "NO_PROXY": "127.0.0.1,localhost"}
        folders = []
        # The first machine names the cache in video.yaml, the second on the command line.
        for machine, extra in (("m1", f"cache: s3://{bucket}/shots\n"), ("m2", "")):
            folder = write_project(tmp_path / machine / "proj", SCRIPT, extra=extra)
            (folder / "persona.yaml").write_text(persona, encoding="utf-8")
            folders.append(folder)
        made = _run(
            folders[0], {**_env(moto_endpoint, tmp_path / "m1"), **voice, "ELEVENLABS_API_KEY": key}
        )
        paid = state.tts_requests()
        assert paid == made["stages"]["speak"]["shots"] >= 2
        # Within any budget: every take is in the cache (the budget's estimate asks it too).
        again = _run(
            folders[1], {**_env(moto_endpoint, tmp_path / "m2"), **voice},
            "--cache", f"s3://{bucket}/shots", "--max-cost", "0.000001",
        )  # fmt: skip
        assert again["stages"]["speak"]["reused_shots"] == paid
        assert state.tts_requests() == paid
        assert sha256_file(Path(again["video"])) == sha256_file(Path(made["video"]))


class _FarBucket:
    """A proxy in front of moto (on ``cloudfakes.serve``) that holds every request ``delay``
    seconds, as a bucket on the other side of the world would, and counts the requests (in
    flight at once: all, and uploads). ``down``: it answers every request with S3's 503
    instead. ``slow_puts``: an upload is held that much longer, or until the proxy closes."""

    def __init__(
        self, upstream: str, delay: float, *, down: bool = False, slow_puts: float = 0.0
    ) -> None:
        self.target = urlsplit(upstream)
        self.delay, self.down, self.slow_puts = delay, down, slow_puts
        self.lock = threading.Lock()
        self.closing = threading.Event()
        self.in_flight = {"all": 0, "PUT": 0}
        self.most = {"all": 0, "PUT": 0}
        self.requests = 0
        self.asked: list[tuple[str, str]] = []  # (method, path) of every request
        self._stack = contextlib.ExitStack()
        self.url = self._stack.enter_context(serve(self)).url

    def __call__(self, req: Request) -> Response:
        path = f"{req.path}?{req.query}" if req.query else req.path
        kinds = ("all", "PUT") if req.method == "PUT" else ("all",)
        with self.lock:
            self.requests += 1
            self.asked.append((req.method, path))
            for kind in kinds:
                self.in_flight[kind] += 1
                self.most[kind] = max(self.most[kind], self.in_flight[kind])
        try:
            self.closing.wait(self.delay + (self.slow_puts if req.method == "PUT" else 0.0))
            if self.down:
                return Response(503, body=(
                    b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>"
                    b"ServiceUnavailable</Code><Message>Please reduce your request "
                    b"rate.</Message></Error>"
                ), headers={"Content-Type": "application/xml"})  # fmt: skip
            conn = http.client.HTTPConnection(
                str(self.target.hostname), self.target.port, timeout=30
            )
            try:
                conn.request(req.method, path, req.body, req.headers)
                resp = conn.getresponse()
                status, headers, data = resp.status, resp.getheaders(), resp.read()
            finally:
                conn.close()
        finally:
            with self.lock:
                for kind in kinds:
                    self.in_flight[kind] -= 1
        passed = {
            name: value
            for name, value in headers
            if name.lower() not in ("transfer-encoding", "connection")
            and (name.lower() != "content-length" or req.method == "HEAD")
        }
        return Response(status, body=data, headers=passed)

    def reset(self) -> None:
        with self.lock:
            self.most = {"all": 0, "PUT": 0}

    def close(self) -> None:
        self.closing.set()
        self._stack.close()


def test_a_far_cache_is_asked_and_filled_several_shots_at_a_time(
    tmp_path: Path, moto_endpoint: str, s3_client: Any
) -> None:
    """A far bucket costs round trips, a few per shot. A run shares its shots in the
    background, several at a time, and has shared them all when it ends; a clone's estimate
    and stages ask for several shots at once, not one after another."""
    bucket = f"pf-cache-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    url = f"s3://{bucket}/shots"
    script = "# Far\n\n" + "\n\n".join(f"Take {n} is here." for n in WORDS) + "\n"
    far = _FarBucket(moto_endpoint, delay=0.2)
    try:
        first = write_project(tmp_path / "m1" / "proj", script, extra=f"cache: {url}\n")
        made = _run(first, _env(far.url, tmp_path / "m1"))
        shots = made["stages"]["speak"]["shots"]
        assert shots >= 6
        assert far.most["PUT"] >= 2, far.most
        # Each shot was looked up once before it was made, not again when it was made.
        gets = [path for method, path in far.asked if method == "GET"]
        assert len(gets) == len(set(gets)) >= 2 * shots, gets
        listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="shots/")["Contents"]
        assert len([o for o in listed if o["Key"].endswith(".json")]) == 2 * shots

        far.reset()
        second = write_project(tmp_path / "m2" / "proj", script)
        env = _env(far.url, tmp_path / "m2")
        est = run_cli("estimate", str(second), "--json", "--cache", url, env=env)
        assert est.returncode == 0, est.stderr
        assert json.loads(est.stdout)["stages"]["speak"]["shots_to_make"] == 0
        assert far.most["all"] >= 4, far.most
        far.reset()
        again = _run(second, env, "--cache", url)
        assert far.most["all"] >= 4, far.most
    finally:
        far.close()
    assert again["stages"]["speak"]["reused_shots"] == shots
    assert again["stages"]["lipsync"]["reused_shots"] == shots
    assert sha256_file(Path(again["video"])) == sha256_file(Path(made["video"]))


def test_a_cache_that_is_down_is_left_after_its_first_failure(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """A cache that answers only errors is said once and left for the rest of the run: not
    a line, a wait and retries for every shot asked for and every shot shared."""
    down = _FarBucket(moto_endpoint, delay=0.0, down=True)
    try:
        script = "# Down\n\n" + "\n\n".join(f"Take {n} is here." for n in WORDS) + "\n"
        folder = write_project(tmp_path / "p", script, extra="cache: s3://pf-down/shots\n")
        env = {**_env(down.url, tmp_path), "PERSONAFORGE_S3_ATTEMPTS": "1"}
        proc = run_cli("make-video", str(folder), "--json", "--no-publish", env=env)
    finally:
        down.close()
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["stages"]["speak"]["shots"] >= 6
    said = [line for line in proc.stderr.splitlines() if "shot cache" in line]
    assert len(said) == 1, said
    assert "ServiceUnavailable" in said[0] and "going on without it" in said[0]
    assert down.requests <= CACHE_LOOKUPS, down.requests  # the lookups already under way
    assert Path(result["video"]).is_file()


def test_ctrl_c_does_not_wait_for_the_uploads_under_way(
    tmp_path: Path, moto_endpoint: str, s3_client: Any
) -> None:
    """Shots are shared in the background; Ctrl-C still ends the run at once (exit 130),
    not after the uploads under way (a shot's record goes up last: none is half shared)."""
    bucket = f"pf-cache-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    far = _FarBucket(moto_endpoint, delay=0.0, slow_puts=60.0)
    try:
        folder = write_project(tmp_path / "p", SCRIPT, extra=f"cache: s3://{bucket}/shots\n")
        proc = subprocess.Popen(
            [*CLI, "make-video", str(folder), "--no-publish"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **_env(far.url, tmp_path)},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not far.in_flight["PUT"]:
            time.sleep(0.02)
        assert far.in_flight["PUT"] and proc.poll() is None
        proc.send_signal(signal.SIGINT)
        try:
            _, stderr = proc.communicate(timeout=20)  # the upload under way is held 60 s
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise
    finally:
        far.close()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="shots/").get("Contents", [])
    assert not [o for o in listed if o["Key"].endswith(".json")]  # no record without media


WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight")
