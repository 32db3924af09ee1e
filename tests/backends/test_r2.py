"""R2 in production, against a real moto_server: multipart above the threshold, headers,
presigned links a viewer can open, public URLs, and `publish --expires`."""

from __future__ import annotations

import http.client
import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from helpers import run_cli

from personaforge.backends.storage.s3 import MB, S3Storage
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import sha256_file


def _storage(endpoint: str, bucket: str, **kw: Any) -> S3Storage:
    return S3Storage(bucket, "pre", endpoint_url=endpoint, access_key="a", secret_key="s", **kw)


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        resp = conn.getresponse()
        return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def test_multipart_upload_headers_and_a_presigned_link(
    moto_endpoint: str, bucket: str, s3_client: Any, write_file: Any
) -> None:
    data = os.urandom(11 * MB + 123)
    local = write_file("big.mp4", data)
    sha = sha256_file(local)
    storage = _storage(moto_endpoint, bucket, multipart_threshold=5 * MB, multipart_chunk=5 * MB)
    storage.put(local, "v/big.mp4", sha, "video/mp4")
    head = s3_client.head_object(Bucket=bucket, Key="pre/v/big.mp4")
    assert head["ETag"].strip('"').endswith("-3")  # three parts of 5 MiB, 5 MiB and the rest
    assert head["ContentType"] == "video/mp4"
    assert head["CacheControl"] == "private, max-age=31536000, immutable"
    assert head["Metadata"]["sha256"] == sha
    assert storage.exists("v/big.mp4", sha)
    url, expires_at = storage.share_url("v/big.mp4", 3600)
    assert expires_at is not None and "X-Amz-Expires=3600" in url and "X-Amz-Signature=" in url
    status, body, headers = _get(url)
    assert status == 200 and body == data
    assert headers["content-type"] == "video/mp4"
    # download() checks what it fetched.
    dest = local.parent / "back.mp4"
    assert storage.download("v/big.mp4", dest, sha) and dest.read_bytes() == data
    with pytest.raises(PersonaForgeError, match="does not hold"):
        storage.download("v/big.mp4", local.parent / "bad.mp4", "0" * 64)
    assert not (local.parent / "bad.mp4").exists()
    assert not storage.download("v/none.mp4", local.parent / "none.mp4")
    with pytest.raises(PersonaForgeError, match="7 days"):
        storage.share_url("v/big.mp4", 8 * 24 * 3600)


def test_public_base_url_is_plain_and_never_expires(moto_endpoint: str, bucket: str) -> None:
    storage = S3Storage.from_target(
        f"s3://{bucket}/pre",
        {"R2_ENDPOINT": moto_endpoint, "R2_ACCESS_KEY": "a", "R2_SECRET_KEY": "s",
         "R2_PUBLIC_URL": "https://cdn.example.com/"},
    )  # fmt: skip
    assert storage.share_url("a b/c.mp4", 60) == ("https://cdn.example.com/pre/a%20b/c.mp4", None)


def test_publish_expires_signs_new_links_and_uploads_nothing(
    rendered: tuple[Path, dict[str, object]],
    tmp_path: Path,
    moto_endpoint: str,
    bucket: str,
) -> None:
    folder = tmp_path / "proj"
    shutil.copytree(rendered[0], folder)
    with (folder / "video.yaml").open("a") as fh:
        fh.write(f"publish: {{target: 's3://{bucket}/videos'}}\n")
    env = {"R2_ENDPOINT": moto_endpoint, "R2_ACCESS_KEY": "a", "R2_SECRET_KEY": "s"}
    first = run_cli("publish", str(folder), "--expires", "3h", "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert "uploading" in first.stderr
    manifest = yaml.safe_load((folder / "build" / "publish.yaml").read_text())
    urls = [f["url"] for f in manifest["files"]]
    assert all("X-Amz-Expires=10800" in u for u in urls)
    render = yaml.safe_load((folder / "build" / "render.yaml").read_text())
    mp4 = next(u for u in urls if ".mp4?" in u)
    status, body, _ = _get(mp4)
    assert status == 200 and body == (folder / render["video"]["path"]).read_bytes()

    same = run_cli("publish", str(folder), "--json", env=env)
    assert json.loads(same.stdout)["status"] == "skipped"
    resigned = run_cli("publish", str(folder), "--expires", "2d", "--json", env=env)
    assert resigned.returncode == 0, resigned.stderr
    assert json.loads(resigned.stdout)["status"] == "ran"
    assert "uploading" not in resigned.stderr  # unchanged files: new links, no upload
    manifest = yaml.safe_load((folder / "build" / "publish.yaml").read_text())
    assert all(f"X-Amz-Expires={2 * 86400}" in f["url"] for f in manifest["files"])
    # A manifest from before presigned links (bare s3:// URLs) gets openable ones, no upload.
    for f in manifest["files"]:
        f["url"], f["location"], f["expires_at"] = f["location"], None, None
    (folder / "build" / "publish.yaml").write_text(yaml.safe_dump(manifest))
    upgraded = run_cli("publish", str(folder), "--json", env=env)
    assert json.loads(upgraded.stdout)["reason"].startswith("the recorded URLs cannot be opened")
    assert "uploading" not in upgraded.stderr
    manifest = yaml.safe_load((folder / "build" / "publish.yaml").read_text())
    assert all(f["url"].startswith("http://") for f in manifest["files"])
    bad = run_cli("publish", str(folder), "--expires", "soon", env=env)
    assert bad.returncode == 2 and "--expires" in bad.stderr
