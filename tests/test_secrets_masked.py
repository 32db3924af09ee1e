"""A password in a base URL (``scheme://user:PASSWORD@host``) is never printed: not in an
error line, not in a crash log."""

from __future__ import annotations

import socket
from pathlib import Path

from helpers import run_cli, write_project

from personaforge.backends.storage.s3 import S3Storage
from personaforge.errors import PersonaForgeError, mask_secrets

PASSWORD = "Pw-9f8e7d6c-never-printed"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_mask_secrets_keeps_the_user_and_the_host() -> None:
    text = f"at http://user:{PASSWORD}@h:1/v1 and https://k:{PASSWORD}@r2.example.com/b"
    assert mask_secrets(text) == "at http://user:***@h:1/v1 and https://k:***@r2.example.com/b"
    assert mask_secrets("http://host:8080/x and a@b.c") == "http://host:8080/x and a@b.c"
    error = PersonaForgeError(
        f"cannot reach http://u:{PASSWORD}@h/", hint=f"see s3://a:{PASSWORD}@b"
    )
    assert PASSWORD not in str(error)


def test_the_claude_base_url_password_is_masked(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", extra="backends: {plan: claude}\n")
    url = f"http://user:{PASSWORD}@127.0.0.1:{_closed_port()}"
    env = {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": url,
           "PERSONAFORGE_CLAUDE_MAX_RETRIES": "0"}  # fmt: skip
    proc = run_cli("plan", str(folder), env=env)
    assert proc.returncode == 1, proc.stderr
    assert "cannot reach the API at http://user:***@127.0.0.1:" in proc.stderr
    assert PASSWORD not in proc.stderr + proc.stdout


def test_the_r2_endpoint_password_is_masked() -> None:
    env = {"R2_ENDPOINT": f"http://user:{PASSWORD}@127.0.0.1:{_closed_port()}",
           "R2_ACCESS_KEY": "access-key-test-1234", "R2_SECRET_KEY": "secret-key-test-5678",
           "R2_BUCKET": "bucket", "PERSONAFORGE_RETRY_SCALE": "0"}  # fmt: skip
    storage = S3Storage.from_target("r2", env)
    try:
        storage.exists("k", "0" * 64)
    except PersonaForgeError as exc:
        assert "user:***@127.0.0.1" in str(exc) and PASSWORD not in str(exc)
    else:  # pragma: no cover
        raise AssertionError("a closed port answered")
