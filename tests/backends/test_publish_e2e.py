"""make-video end to end with an s3:// publish target, against a real moto_server process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli, write_project

pytestmark = pytest.mark.slow

MOTO_REGION = "eu-west-1"  # where the buckets are made (see conftest.py)
# Distinctive values, so the tests can prove neither is ever written or printed.
ACCESS_KEY = "pf-e2e-access-7c1d0a"
SECRET_KEY = "pf-e2e-secret-must-never-leak-4b9e"
CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
    ".txt": "text/plain; charset=utf-8",
}
# The video, its captions and its thumbnail (one heading: no chapters, YouTube needs three).
PUBLISHED = (".mp4", ".vtt", ".srt", ".jpg")


def _env(endpoint: str, home: Path, **overrides: str) -> dict[str, str]:
    """The R2 variables for the moto server, an isolated home, nothing from the real machine."""
    env = {
        "HOME": str(home),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "R2_ENDPOINT": endpoint,
        "R2_ACCESS_KEY": ACCESS_KEY,
        "R2_SECRET_KEY": SECRET_KEY,
        "R2_BUCKET": "",
        "R2_PUBLIC_BASE_URL": "",  # empty counts as unset
    }
    return {**env, **overrides}


def _make_video(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_cli("make-video", str(folder), "--json", env=env)


def _result(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def _render(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "build" / "render.yaml").read_text())
    return data


def _new_bucket(s3_client: Any) -> str:
    name = f"pf-e2e-{uuid.uuid4().hex[:16]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    return name


def _no_credential(text: str) -> str:
    """``text`` without presigned URLs' X-Amz-Credential values: a presigned link must name
    the access key ID (that names the key; the signature proves it). The secret never shows."""
    return re.sub(r"X-Amz-Credential=[^&\s\"']*", "X-Amz-Credential=…", text)


def _all_text_under(folder: Path) -> str:
    return "\n".join(
        p.read_bytes().decode("utf-8", errors="replace") for p in folder.rglob("*") if p.is_file()
    )


class Published:
    def __init__(self, folder: Path, bucket: str, env: dict[str, str], first: Any) -> None:
        self.folder = folder
        self.bucket = bucket
        self.env = env
        self.first = first  # the CompletedProcess of the first make-video

    @property
    def slug(self) -> str:
        return str(_render(self.folder)["slug"])

    def object_key(self, name: str) -> str:
        sha = _render(self.folder)["video"]["sha256"]
        return f"videos/{self.slug}/{sha[:16]}/{name}"


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str, s3_client: Any
) -> Published:
    """One tiny project rendered and published to its own bucket, once per module (per worker)."""
    bucket = _new_bucket(s3_client)
    base = tmp_path_factory.mktemp("publish-e2e")
    folder = write_project(base / "proj", extra=f"publish:\n  target: s3://{bucket}/videos\n")
    env = _env(moto_endpoint, base)
    proc = _make_video(folder, env)
    assert proc.returncode == 0, proc.stderr
    return Published(folder, bucket, env, proc)


def test_first_run_publishes_five_files(published: Published) -> None:
    result = _result(published.first)
    assert result["stages"]["publish"]["status"] == "ran"
    assert result["stages"]["publish"]["reason"] == "no previous run"
    urls = result["published"]
    assert len(urls) == len(PUBLISHED)
    manifest = yaml.safe_load((published.folder / "build" / "publish.yaml").read_text())
    # The bucket is private (no R2_PUBLIC_URL): the URLs are presigned links that expire;
    # the stable s3:// address is recorded beside each.
    locations = [f["location"] for f in manifest["files"]]
    pattern = re.compile(
        rf"^s3://{re.escape(published.bucket)}/videos/{re.escape(published.slug)}"
        r"/([0-9a-f]{16})/([^/]+)$"
    )
    matches = [pattern.match(u) for u in locations]
    assert all(matches), locations
    for url, location in zip(urls, locations, strict=True):
        assert url.startswith(published.env["R2_ENDPOINT"] + "/" + location[len("s3://") :] + "?")
        assert "X-Amz-Signature=" in url and "X-Amz-Expires=604800" in url
    hashes = {m.group(1) for m in matches if m}
    assert hashes == {_render(published.folder)["video"]["sha256"][:16]}
    names = sorted(m.group(2) for m in matches if m)
    assert names == sorted(f"{published.slug}{ext}" for ext in PUBLISHED)
    # The JSON agrees with the manifest it came from.
    assert [f["url"] for f in manifest["files"]] == urls
    assert manifest["target"] == f"s3://{published.bucket}/videos"
    assert manifest["backend"] == "s3"


def test_objects_are_byte_identical_with_content_types(
    published: Published, s3_client: Any
) -> None:
    render = _render(published.folder)
    files = ("video", "captions_vtt", "captions_srt", "thumbnail")
    for out in (render[name] for name in files):
        local = published.folder / out["path"]
        key = published.object_key(local.name)
        obj = s3_client.get_object(Bucket=published.bucket, Key=key)
        assert obj["Body"].read() == local.read_bytes(), key
        assert obj["ContentType"] == CONTENT_TYPES[local.suffix], key
        assert obj["Metadata"].get("sha256") == out["sha256"], key
    listed = s3_client.list_objects_v2(Bucket=published.bucket)
    assert sorted(o["Key"] for o in listed.get("Contents", [])) == sorted(
        published.object_key(f"{published.slug}{ext}") for ext in PUBLISHED
    )


def test_no_secret_is_written_or_printed(published: Published) -> None:
    publish_yaml = _no_credential((published.folder / "build" / "publish.yaml").read_text())
    everything = _no_credential(_all_text_under(published.folder))
    assert "publish" in publish_yaml and everything
    for secret in (SECRET_KEY, ACCESS_KEY):
        assert secret not in publish_yaml
        assert secret not in everything
        assert secret not in _no_credential(published.first.stdout)
        assert secret not in published.first.stderr


def test_second_run_skips_publish(published: Published) -> None:
    proc = _make_video(published.folder, published.env)
    result = _result(proc)
    assert {s: r["status"] for s, r in result["stages"].items()} == dict.fromkeys(
        ("plan", "speak", "lipsync", "render", "publish"), "skipped"
    )
    assert result["stages"]["publish"]["reason"] == "up to date"
    assert result["published"] == _result(published.first)["published"]
    assert "uploading" not in proc.stderr


def test_object_deleted_from_bucket_is_published_again(
    published: Published, s3_client: Any
) -> None:
    vtt = f"{published.slug}.vtt"
    key = published.object_key(vtt)
    s3_client.delete_object(Bucket=published.bucket, Key=key)
    proc = _make_video(published.folder, published.env)
    result = _result(proc)
    assert result["stages"]["render"]["status"] == "skipped"
    publish = result["stages"]["publish"]
    assert publish["status"] == "ran"
    assert "not in storage" in publish["reason"] and vtt in publish["reason"]
    # Only the missing file goes up again.
    assert f"uploading {vtt}" in proc.stderr
    assert f"uploading {published.slug}.mp4" not in proc.stderr
    local = published.folder / "build" / vtt
    body = s3_client.get_object(Bucket=published.bucket, Key=key)["Body"].read()
    assert body == local.read_bytes()
    for secret in (SECRET_KEY, ACCESS_KEY):
        assert secret not in _no_credential(proc.stdout + proc.stderr)


def test_changed_object_in_bucket_is_published_again(published: Published, s3_client: Any) -> None:
    srt = f"{published.slug}.srt"
    key = published.object_key(srt)
    # Someone replaced the object with other bytes (and no sha256 metadata).
    s3_client.put_object(Bucket=published.bucket, Key=key, Body=b"not the captions")
    result = _result(_make_video(published.folder, published.env))
    assert result["stages"]["publish"]["status"] == "ran"
    assert srt in result["stages"]["publish"]["reason"]
    body = s3_client.get_object(Bucket=published.bucket, Key=key)["Body"].read()
    assert body == (published.folder / "build" / srt).read_bytes()


def _copy(published: Published, dest: Path) -> Path:
    folder = dest / "proj"
    shutil.copytree(published.folder, folder)
    return folder


@pytest.mark.parametrize(
    ("blank", "named"),
    [
        (("R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY"),
         ("R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY")),
        (("R2_SECRET_KEY",), ("R2_SECRET_KEY",)),
    ],
    ids=["all-keys-missing", "secret-missing"],
)  # fmt: skip
def test_missing_keys_fail_in_publish_and_keep_the_render(
    published: Published, tmp_path: Path, blank: tuple[str, ...], named: tuple[str, ...]
) -> None:
    folder = _copy(published, tmp_path)
    render_before = (folder / "build" / "render.yaml").read_bytes()
    publish_before = (folder / "build" / "publish.yaml").read_bytes()
    render = _render(folder)
    video = folder / render["video"]["path"]
    video_before = video.read_bytes()
    env = {**published.env, **dict.fromkeys(blank, "")}
    proc = _make_video(folder, env)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("error: [publish] ")
    for name in named:
        assert name in errors[0]
    for name in {"R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY"} - set(named):
        assert f"{name}=" not in errors[0]
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert SECRET_KEY not in proc.stderr and ACCESS_KEY not in proc.stderr
    # The render is intact and the old publish record untouched.
    assert video.read_bytes() == video_before
    assert (folder / "build" / "render.yaml").read_bytes() == render_before
    assert (folder / "build" / "publish.yaml").read_bytes() == publish_before
    no_publish = run_cli("make-video", str(folder), "--json", "--no-publish", env=env)
    assert _result(no_publish)["stages"]["render"]["status"] == "skipped"


def test_missing_keys_fail_before_any_work(published: Published, tmp_path: Path) -> None:
    """A fresh project without keys: the error comes before planning, speaking or rendering."""
    folder = write_project(
        tmp_path / "fresh", extra=f"publish:\n  target: s3://{published.bucket}/videos\n"
    )
    env = {**published.env, "R2_ACCESS_KEY": "", "R2_SECRET_KEY": ""}
    proc = _make_video(folder, env)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: [publish]")
    assert "R2_ACCESS_KEY" in errors[0] and "video.yaml" in errors[0]
    assert not (folder / "build").exists()


def test_missing_bucket_is_one_error_line_with_a_hint(published: Published, tmp_path: Path) -> None:
    folder = _copy(published, tmp_path)
    video = folder / _render(folder)["video"]["path"]
    inode = video.stat().st_ino
    missing = f"pf-e2e-missing-{uuid.uuid4().hex[:8]}"
    write_project(folder, extra=f"publish:\n  target: s3://{missing}/videos\n")
    proc = _make_video(folder, published.env)
    assert proc.returncode == 1
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert errors[0].startswith("error: [publish] ") and missing in errors[0]
    assert "NoSuchBucket" in errors[0] and "create the bucket" in errors[0]
    assert SECRET_KEY not in proc.stderr and ACCESS_KEY not in proc.stderr
    # The render was reused (the target is not one of its inputs), not redone.
    assert video.stat().st_ino == inode


def test_keys_from_the_project_env_file(published: Published, tmp_path: Path) -> None:
    """A .env in the project folder supplies the keys; they are still never written out."""
    folder = _copy(published, tmp_path)
    (folder / "build" / "publish.yaml").unlink()
    (folder / ".env").write_text(
        f"R2_ACCESS_KEY={ACCESS_KEY}\nR2_SECRET_KEY='{SECRET_KEY}'\n"
        f"R2_ENDPOINT={published.env['R2_ENDPOINT']}\n"
    )
    env = {**published.env, "R2_ACCESS_KEY": "", "R2_SECRET_KEY": "", "R2_ENDPOINT": ""}
    result = _result(_make_video(folder, env))
    assert result["stages"]["publish"]["status"] == "ran"
    assert all(f"/{published.bucket}/" in u for u in result["published"])
    build_text = _no_credential(
        "\n".join(p.read_text(errors="replace") for p in (folder / "build").rglob("*.yaml"))
    )
    assert SECRET_KEY not in build_text and ACCESS_KEY not in build_text
