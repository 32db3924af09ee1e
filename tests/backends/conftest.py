"""Fixtures for backend tests: a real ``moto_server`` process standing in for R2/S3."""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import free_port

# Not us-east-1, so bucket creation goes through the LocationConstraint path R2 users hit.
MOTO_REGION = "eu-west-1"
# Bounded, but generous: on a shared 2-core machine at load 20 moto_server took over 15 s to
# answer, and a session fixture that fails errors every test of its worker.
STARTUP_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 5.0


def _answers_http(port: int) -> bool:
    # http.client, unlike urllib, ignores *_PROXY variables, so this only ever talks to localhost.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/")
        conn.getresponse().read()
        return True
    except OSError:
        return False
    finally:
        conn.close()


@contextlib.contextmanager
def _serving(
    argv: list[str], log_path: Path, answers: Callable[[], bool], poll_s: float
) -> Iterator[None]:
    """Run a local server (its output to ``log_path``) until the block ends: started, waited
    for (bounded), then stopped (killed if it will not stop)."""
    name = Path(argv[0]).name
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not answers():
            if proc.poll() is not None:
                pytest.fail(f"{name} exited with {proc.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"{name} did not answer within {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(poll_s)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start ``moto_server`` on a free local port for the session; yield its URL."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        pytest.skip(f"moto_server not found next to {sys.executable}; install 'moto[server]'")
    log_path = tmp_path_factory.mktemp("moto") / "moto_server.log"
    port = free_port()
    with pytest.MonkeyPatch.context() as mp:
        # boto3 honours proxy variables; local traffic must never be sent through one.
        no_proxy = ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"]))
        mp.setenv("NO_PROXY", no_proxy)
        mp.setenv("no_proxy", no_proxy)
        argv = [str(binary), "-H", "127.0.0.1", "-p", str(port)]
        with _serving(argv, log_path, lambda: _answers_http(port), 0.1):
            yield f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def s3_client(moto_endpoint: str) -> Any:
    """A plain boto3 client on the moto server, to set up and inspect buckets directly."""
    boto3 = pytest.importorskip("boto3")
    return boto3.session.Session(
        aws_access_key_id="moto-inspector",
        aws_secret_access_key="moto-inspector-secret",
        region_name=MOTO_REGION,
    ).client("s3", endpoint_url=moto_endpoint)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    """A fresh, empty bucket for one test."""
    name = f"pf-test-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    return name


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """Write ``data`` to ``tmp_path/src/name`` and return the path."""

    def write(name: str, data: bytes) -> Path:
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path

    return write


def _answers_redis(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``redis-server`` on a free local port for the session (no persistence)."""
    import shutil

    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(binary).exists():
        pytest.skip("redis-server not installed (apt-get install redis-server)")
    folder = tmp_path_factory.mktemp("redis")
    port = free_port()
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(folder)]  # fmt: skip
    with _serving(argv, folder / "redis.log", lambda: _answers_redis(port), 0.05):
        yield f"redis://127.0.0.1:{port}/0"
