"""Storage backends: LocalStorage on disk, S3Storage against a real moto_server process."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from personaforge.backends.base import Storage
from personaforge.backends.storage.local import LocalStorage
from personaforge.backends.storage.s3 import S3Storage, parse_target
from personaforge.errors import MissingDependencyError, PersonaForgeError

WriteFile = Callable[[str, bytes], Path]
# Buckets are made in this region (see conftest.py); R2's own region is 'auto'.
MOTO_REGION = "eu-west-1"
# Distinctive strings, so a test can prove neither ever shows up in an error message.
ACCESS_KEY = "AKIAPFTESTACCESS0001"
SECRET_KEY = "pf-secret-must-never-leak-9f2c"
BAD_KEYS = ["../x", "a/../../x", "/etc/passwd", "a\\b", "a//b", "./a", "a/", ""]


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_s3(endpoint: str, bucket: str, prefix: str = "", **kwargs: Any) -> S3Storage:
    return S3Storage(
        bucket,
        prefix,
        endpoint_url=endpoint,
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        region=MOTO_REGION,
        **kwargs,
    )


def r2_env(endpoint: str = "http://127.0.0.1:1", **extra: str) -> dict[str, str]:
    env = {"R2_ENDPOINT": endpoint, "R2_ACCESS_KEY": ACCESS_KEY, "R2_SECRET_KEY": SECRET_KEY}
    env.update(extra)
    return env


def assert_no_secrets(err: PersonaForgeError) -> None:
    for text in (str(err), repr(err), err.message, err.hint or ""):
        assert SECRET_KEY not in text
        assert ACCESS_KEY not in text


# --- LocalStorage -------------------------------------------------------------------------


def test_local_satisfies_protocol(tmp_path: Path) -> None:
    storage: Storage = LocalStorage(tmp_path)
    assert storage.name == "local"


def test_local_put_exists_and_url(tmp_path: Path, write_file: WriteFile) -> None:
    data = b"\x00video bytes\xff" * 1000
    src = write_file("clip.mp4", data)
    storage = LocalStorage(tmp_path / "bucket")

    assert not storage.exists("videos/clip.mp4", sha(data))
    url = storage.put(src, "videos/clip.mp4", sha(data), "video/mp4")

    dest = (tmp_path / "bucket" / "videos" / "clip.mp4").resolve()
    assert url == dest.as_uri() == storage.url_for("videos/clip.mp4")
    assert url.startswith("file://")
    assert dest.read_bytes() == data
    assert storage.exists("videos/clip.mp4", sha(data))
    assert not storage.exists("videos/clip.mp4", sha(b"other"))
    assert not storage.exists("videos/missing.mp4", sha(data))
    # Only the published file is left: no temp files beside it.
    assert sorted(p.name for p in dest.parent.iterdir()) == ["clip.mp4"]
    assert (dest.stat().st_mode & 0o777) == 0o644


def test_local_exists_notices_changed_content(tmp_path: Path, write_file: WriteFile) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    storage.put(write_file("a.txt", b"one"), "a.txt", sha(b"one"), "text/plain")
    (tmp_path / "bucket" / "a.txt").write_bytes(b"tampered")
    assert not storage.exists("a.txt", sha(b"one"))


def test_local_reput_overwrites(tmp_path: Path, write_file: WriteFile) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    storage.put(write_file("v1", b"first"), "k.bin", sha(b"first"), "application/octet-stream")
    storage.put(write_file("v2", b"second"), "k.bin", sha(b"second"), "application/octet-stream")
    assert (tmp_path / "bucket" / "k.bin").read_bytes() == b"second"
    assert storage.exists("k.bin", sha(b"second"))
    assert not storage.exists("k.bin", sha(b"first"))


@pytest.mark.parametrize("key", BAD_KEYS)
def test_local_refuses_unsafe_keys(tmp_path: Path, write_file: WriteFile, key: str) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    src = write_file("x", b"x")
    with pytest.raises(PersonaForgeError):
        storage.put(src, key, sha(b"x"), "text/plain")
    with pytest.raises(PersonaForgeError):
        storage.url_for(key)
    with pytest.raises(PersonaForgeError):
        storage.exists(key, sha(b"x"))
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "bucket").exists() or not any((tmp_path / "bucket").rglob("*"))


def test_local_failed_put_leaves_no_partial_file(tmp_path: Path, write_file: WriteFile) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    storage.put(write_file("good", b"good"), "v/k.mp4", sha(b"good"), "video/mp4")

    with pytest.raises(PersonaForgeError) as info:
        storage.put(tmp_path / "does-not-exist.mp4", "v/k.mp4", sha(b"new"), "video/mp4")
    assert "does-not-exist.mp4" in str(info.value)
    with pytest.raises(PersonaForgeError):
        storage.put(tmp_path / "does-not-exist.mp4", "v/new.mp4", sha(b"new"), "video/mp4")

    folder = tmp_path / "bucket" / "v"
    # The earlier upload survives intact and no temp file or half-written object is left.
    assert sorted(p.name for p in folder.iterdir()) == ["k.mp4"]
    assert (folder / "k.mp4").read_bytes() == b"good"


def test_local_put_refuses_wrong_sha(tmp_path: Path, write_file: WriteFile) -> None:
    storage = LocalStorage(tmp_path / "bucket")
    with pytest.raises(PersonaForgeError, match="changed"):
        storage.put(write_file("a", b"actual"), "a", sha(b"expected"), "text/plain")
    assert list((tmp_path / "bucket").iterdir()) == []


# --- S3Storage against moto_server ------------------------------------------------------


def test_s3_put_then_exists(moto_endpoint: str, bucket: str, write_file: WriteFile) -> None:
    storage: Storage = make_s3(moto_endpoint, bucket, "pub")
    data = b"hello r2"
    assert not storage.exists("a/b.txt", sha(data))
    url = storage.put(write_file("b.txt", data), "a/b.txt", sha(data), "text/plain")
    assert url == f"s3://{bucket}/pub/a/b.txt"
    assert storage.exists("a/b.txt", sha(data))
    assert not storage.exists("a/b.txt", sha(b"different"))
    assert not storage.exists("a/missing.txt", sha(data))
    # The prefix is part of the object key, so the unprefixed key does not exist.
    assert not make_s3(moto_endpoint, bucket).exists("a/b.txt", sha(data))


@pytest.mark.parametrize("size", [0, 1, 9 * 1024 * 1024 + 17], ids=["empty", "tiny", "multipart"])
def test_s3_round_trip_is_byte_exact(
    moto_endpoint: str, bucket: str, s3_client: Any, write_file: WriteFile, size: int
) -> None:
    data = os.urandom(size)
    storage = make_s3(moto_endpoint, bucket, "videos/")
    storage.put(write_file("clip.mp4", data), "clip.mp4", sha(data), "video/mp4")

    got = s3_client.get_object(Bucket=bucket, Key="videos/clip.mp4")
    assert got["Body"].read() == data
    assert got["ContentType"] == "video/mp4"
    assert got["Metadata"] == {"sha256": sha(data)}
    assert storage.exists("clip.mp4", sha(data))


def test_s3_reput_overwrites(
    moto_endpoint: str, bucket: str, s3_client: Any, write_file: WriteFile
) -> None:
    storage = make_s3(moto_endpoint, bucket)
    storage.put(write_file("v1", b"first"), "k.vtt", sha(b"first"), "text/vtt")
    storage.put(write_file("v2", b"second!"), "k.vtt", sha(b"second!"), "text/vtt")
    assert s3_client.get_object(Bucket=bucket, Key="k.vtt")["Body"].read() == b"second!"
    assert storage.exists("k.vtt", sha(b"second!"))
    assert not storage.exists("k.vtt", sha(b"first"))


def test_s3_url_formats(moto_endpoint: str) -> None:
    plain = make_s3(moto_endpoint, "bkt", "/p/q/")
    assert plain.url_for("v/a b.mp4") == "s3://bkt/p/q/v/a b.mp4"
    public = make_s3(moto_endpoint, "bkt", "p", public_base_url="https://cdn.example.com/")
    assert public.url_for("v/a b.mp4") == "https://cdn.example.com/p/v/a%20b.mp4"
    no_prefix = make_s3(moto_endpoint, "bkt", "", public_base_url="https://cdn.example.com")
    assert no_prefix.url_for("a.mp4") == "https://cdn.example.com/a.mp4"


def test_s3_put_returns_public_url(moto_endpoint: str, bucket: str, write_file: WriteFile) -> None:
    storage = make_s3(moto_endpoint, bucket, "p", public_base_url="https://media.example.org")
    url = storage.put(write_file("a", b"a"), "x/a.mp4", sha(b"a"), "video/mp4")
    assert url == "https://media.example.org/p/x/a.mp4"


def test_s3_missing_bucket_is_a_clear_error(moto_endpoint: str, write_file: WriteFile) -> None:
    storage = make_s3(moto_endpoint, "pf-no-such-bucket-here", "p")
    with pytest.raises(PersonaForgeError) as info:
        storage.put(write_file("a", b"a"), "a.mp4", sha(b"a"), "video/mp4")
    err = info.value
    assert "pf-no-such-bucket-here" in err.message
    assert "p/a.mp4" in err.message
    assert "NoSuchBucket" in err.message
    assert "\n" not in str(err)
    assert err.hint is not None and "bucket" in err.hint
    assert_no_secrets(err)


def test_s3_unreachable_endpoint_is_a_clear_error(write_file: WriteFile) -> None:
    # Port 1 on localhost refuses at once; retries stay bounded, so this fails within seconds.
    storage = make_s3("http://127.0.0.1:1", "bkt")
    with pytest.raises(PersonaForgeError) as info:
        storage.put(write_file("a", b"a"), "a.mp4", sha(b"a"), "video/mp4")
    err = info.value
    assert "bkt" in err.message
    assert "EndpointConnectionError" in err.message
    assert err.hint is not None and "R2_ENDPOINT" in err.hint
    assert_no_secrets(err)


def test_s3_exists_reports_other_errors(moto_endpoint: str) -> None:
    stub = pytest.importorskip("botocore.stub")
    storage = make_s3(moto_endpoint, "bkt", "p")
    with stub.Stubber(storage._client) as stubber:
        stubber.add_client_error(
            "head_object",
            service_error_code="AccessDenied",
            service_message=f"Access Denied for {SECRET_KEY}",
            http_status_code=403,
        )
        with pytest.raises(PersonaForgeError) as info:
            storage.exists("a.mp4", sha(b"a"))
    err = info.value
    assert "AccessDenied" in err.message
    assert "Access Denied" in err.message
    assert "bkt" in err.message
    assert_no_secrets(err)


def test_s3_missing_local_file(moto_endpoint: str, bucket: str, tmp_path: Path) -> None:
    storage = make_s3(moto_endpoint, bucket)
    with pytest.raises(PersonaForgeError, match=r"nope\.mp4"):
        storage.put(tmp_path / "nope.mp4", "a.mp4", sha(b""), "video/mp4")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_s3_refuses_unsafe_keys(moto_endpoint: str, key: str) -> None:
    storage = make_s3(moto_endpoint, "bkt", "p")
    with pytest.raises(PersonaForgeError):
        storage.url_for(key)
    with pytest.raises(PersonaForgeError):
        storage.exists(key, sha(b""))


def test_s3_repr_hides_credentials(moto_endpoint: str) -> None:
    storage = make_s3(moto_endpoint, "bkt", "p")
    assert SECRET_KEY not in repr(storage)
    assert ACCESS_KEY not in repr(storage)
    assert "bkt" in repr(storage)


def test_s3_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes `import boto3` raise ImportError
    with pytest.raises(MissingDependencyError) as info:
        S3Storage.from_target("s3://bkt/p", r2_env())
    assert info.value.hint == "pip install 'personaforge[r2]'"


# --- from_target ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("s3://bkt", ("bkt", "")),
        ("s3://bkt/", ("bkt", "")),
        ("s3://bkt/videos", ("bkt", "videos")),
        ("s3://bkt/videos/", ("bkt", "videos")),
        ("s3://bkt//a//b/", ("bkt", "a/b")),
        ("s3://", ("", "")),
        ("r2", ("", "")),
    ],
)
def test_parse_target(target: str, expected: tuple[str, str]) -> None:
    assert parse_target(target) == expected


@pytest.mark.parametrize("target", ["gs://bkt/p", "bkt/p", "s3:/bkt", "s3://bkt/../p"])
def test_parse_target_refuses_bad_targets(target: str) -> None:
    with pytest.raises(PersonaForgeError):
        parse_target(target)


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("s3://bkt/videos", "s3://bkt/videos/ep1/a.mp4"),
        ("s3://bkt/videos/", "s3://bkt/videos/ep1/a.mp4"),
        ("s3://bkt", "s3://bkt/ep1/a.mp4"),
        ("s3://bkt/", "s3://bkt/ep1/a.mp4"),
        ("s3://", "s3://env-bucket/ep1/a.mp4"),
        ("r2", "s3://env-bucket/ep1/a.mp4"),
    ],
)
def test_from_target_joins_with_one_slash(target: str, url: str) -> None:
    storage = S3Storage.from_target(target, r2_env(R2_BUCKET="env-bucket"))
    assert storage.url_for("ep1/a.mp4") == url


def test_from_target_bucket_wins_over_env() -> None:
    storage = S3Storage.from_target("s3://named/p", r2_env(R2_BUCKET="env-bucket"))
    assert storage.bucket == "named"
    assert storage.region == "auto"


def test_from_target_public_base_url() -> None:
    env = r2_env(R2_PUBLIC_BASE_URL="https://videos.example.com/")
    storage = S3Storage.from_target("s3://bkt/p/", env)
    assert storage.url_for("a.mp4") == "https://videos.example.com/p/a.mp4"


@pytest.mark.parametrize(
    ("target", "drop", "missing"),
    [
        ("s3://bkt/p", ["R2_ACCESS_KEY"], ["R2_ACCESS_KEY"]),
        ("s3://bkt/p", ["R2_ACCESS_KEY", "R2_SECRET_KEY"], ["R2_ACCESS_KEY", "R2_SECRET_KEY"]),
        ("s3://bkt/p", ["R2_ENDPOINT"], ["R2_ENDPOINT"]),
        ("r2", [], ["R2_BUCKET"]),
        ("s3://", ["R2_SECRET_KEY"], ["R2_SECRET_KEY", "R2_BUCKET"]),
    ],
)
def test_from_target_missing_env(target: str, drop: list[str], missing: list[str]) -> None:
    env = {k: v for k, v in r2_env().items() if k not in drop}
    with pytest.raises(MissingDependencyError) as info:
        S3Storage.from_target(target, env)
    err = info.value
    for name in missing:
        assert name in err.message
        assert f"{name}=..." in (err.hint or "")
    assert (err.hint or "").startswith("export ")
    assert_no_secrets(err)


def test_from_target_blank_env_counts_as_missing() -> None:
    with pytest.raises(MissingDependencyError, match="R2_SECRET_KEY"):
        S3Storage.from_target("s3://bkt", r2_env(R2_SECRET_KEY="   "))


def test_constructor_without_credentials() -> None:
    with pytest.raises(MissingDependencyError, match="R2_ACCESS_KEY"):
        S3Storage("bkt", "", endpoint_url=None, access_key=None, secret_key="s")


def test_from_target_against_moto(
    moto_endpoint: str, bucket: str, s3_client: Any, write_file: WriteFile
) -> None:
    # Default region 'auto' (what R2 wants) must also work for object calls on moto.
    storage = S3Storage.from_target(f"s3://{bucket}/site/", r2_env(moto_endpoint))
    url = storage.put(write_file("a", b"abc"), "ep/a.txt", sha(b"abc"), "text/plain")
    assert url == f"s3://{bucket}/site/ep/a.txt"
    assert s3_client.get_object(Bucket=bucket, Key="site/ep/a.txt")["Body"].read() == b"abc"
    assert storage.exists("ep/a.txt", sha(b"abc"))


@pytest.mark.parametrize("value", ["three", "2.5", "-1x"])
def test_s3_attempts_that_are_not_a_whole_number_are_refused(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """A mistyped PERSONAFORGE_S3_ATTEMPTS is an error naming it, not a silent default."""
    monkeypatch.setenv("PERSONAFORGE_S3_ATTEMPTS", value)
    with pytest.raises(PersonaForgeError, match="PERSONAFORGE_S3_ATTEMPTS must be a whole number"):
        make_s3(moto_endpoint, "b").exists("k", "0" * 64)
