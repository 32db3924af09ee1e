"""S3-compatible storage (Cloudflare R2, AWS S3, MinIO) through boto3, imported lazily."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from personaforge.backends.base import SharedStore, StorageSetup
from personaforge.backends.storage.local import check_key
from personaforge.envnum import env_number
from personaforge.errors import DamagedObject, MissingDependencyError, PersonaForgeError
from personaforge.fsutil import atomic_path

_INSTALL_HINT = "pip install 'personaforge[r2]'"
# HEAD responses carry no body, so a missing object (or bucket) shows up as a bare status code.
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
_CREDENTIAL_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "Unauthorized"}
)
# Worth trying again later (a queue job is retried on these): the store or the network is
# having a bad moment, the request itself was fine.
_TRANSIENT_CODES = frozenset(
    {"500", "502", "503", "504", "InternalError", "ServiceUnavailable", "SlowDown",
     "RequestTimeout", "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
     "ConnectionClosedError", "ResponseStreamingError"}
)  # fmt: skip
MB = 1024 * 1024
# R2 wants every part but the last the same size (>= 5 MiB); TransferConfig cuts equal parts.
MULTIPART_THRESHOLD = 16 * MB
MULTIPART_CHUNK = 16 * MB
# A SigV4 presigned URL lives at most seven days.
MAX_EXPIRES_S = 7 * 24 * 3600
DEFAULT_EXPIRES_S = MAX_EXPIRES_S


def parse_target(target: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` (or ``r2``) into ``(bucket, prefix)``; bucket may be ''."""
    text = target.strip()
    if text == "r2":
        return "", ""
    if not text.startswith("s3://"):
        raise PersonaForgeError(
            f"storage target {target!r} is not understood",
            field="target",
            hint="use s3://bucket/prefix, or 'r2' to take the bucket from R2_BUCKET",
        )
    bucket, _, prefix = text[len("s3://") :].partition("/")
    return bucket, normalize_prefix(prefix)


def normalize_prefix(prefix: str) -> str:
    """Drop leading, trailing and doubled slashes so joining with a key adds exactly one '/'."""
    cleaned = "/".join(part for part in prefix.split("/") if part)
    if cleaned:
        check_key(cleaned)
    return cleaned


def _missing_env(names: Iterable[str]) -> MissingDependencyError:
    names = list(names)
    return MissingDependencyError(
        f"R2 publishing needs {', '.join(names)} in the environment",
        hint="export " + " ".join(f"{name}=..." for name in names),
    )


class S3Storage(SharedStore):
    """Stores objects under ``s3://bucket/prefix/``; the sha256 rides along as object metadata."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str,
        *,
        endpoint_url: str | None,
        access_key: str | None,
        secret_key: str | None,
        region: str = "auto",
        public_base_url: str | None = None,
        multipart_threshold: int = MULTIPART_THRESHOLD,
        multipart_chunk: int = MULTIPART_CHUNK,
    ) -> None:
        if not (bucket and access_key and secret_key):
            given = {"R2_BUCKET": bucket, "R2_ACCESS_KEY": access_key, "R2_SECRET_KEY": secret_key}
            raise _missing_env(name for name, value in given.items() if not value)
        self.bucket = bucket
        self.prefix = normalize_prefix(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        # Kept only to scrub them from error text; never shown.
        self._secrets = tuple(s for s in (access_key, secret_key) if s)
        self._client = self._make_client(access_key, secret_key)
        self._multipart = (multipart_threshold, multipart_chunk)

    @classmethod
    def from_setup(cls, setup: StorageSetup) -> S3Storage:
        return cls.from_target(setup.target, setup.env)

    @classmethod
    def from_target(cls, target: str, env: Mapping[str, str]) -> S3Storage:
        """Build from ``s3://bucket/prefix`` or ``r2`` plus the ``R2_*`` variables in ``env``.

        The bucket named in the target wins; ``R2_BUCKET`` fills in when the target names none.
        """
        bucket, prefix = parse_target(target)
        needed = ["R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY"]
        if not bucket:
            needed.append("R2_BUCKET")
        values = {name: env.get(name, "").strip() for name in needed}
        missing = [name for name in needed if not values[name]]
        if missing:
            raise _missing_env(missing)
        return cls(
            bucket or values["R2_BUCKET"],
            prefix,
            endpoint_url=values["R2_ENDPOINT"],
            access_key=values["R2_ACCESS_KEY"],
            secret_key=values["R2_SECRET_KEY"],
            public_base_url=(
                env.get("R2_PUBLIC_URL", "").strip()
                or env.get("R2_PUBLIC_BASE_URL", "").strip()
                or None
            ),
            multipart_threshold=_mb(env, "PERSONAFORGE_MULTIPART_MB", MULTIPART_THRESHOLD),
            multipart_chunk=_mb(env, "PERSONAFORGE_MULTIPART_CHUNK_MB", MULTIPART_CHUNK),
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _make_client(self, access_key: str, secret_key: str) -> Any:
        try:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import BotoCoreError
        except ImportError as exc:
            raise MissingDependencyError(
                "S3/R2 publishing needs the boto3 package", hint=_INSTALL_HINT
            ) from exc
        options: dict[str, Any] = {
            "signature_version": "s3v4",
            # Every request, multipart parts included, is retried with backoff on throttling,
            # 5xx and dropped connections.
            # total_max_attempts counts the first try; botocore's max_attempts counts retries.
            "retries": {"total_max_attempts": _attempts(), "mode": "standard"},
            "connect_timeout": 10,
            "read_timeout": 60,
            # Not every S3-compatible server resolves bucket subdomains; path style works on all.
            "s3": {"addressing_style": "path"},
        }
        try:
            # botocore >= 1.36 adds CRC checksums by default, which some S3-compatible servers
            # reject; only send them where the API requires it.
            config = Config(
                **options,
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            )
        except TypeError:
            config = Config(**options)
        try:
            session = boto3.session.Session(
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=self.region,
            )
            return session.client("s3", endpoint_url=self.endpoint_url, config=config)
        except (BotoCoreError, ValueError) as exc:
            raise PersonaForgeError(
                f"cannot set up the S3 client: {self._scrub(str(exc))}",
                hint="check R2_ENDPOINT",
            ) from exc

    def _object_key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def url_for(self, key: str) -> str:
        """The object's stable address: its public URL, or s3://bucket/key (not openable)."""
        obj = self._object_key(key)
        if self.public_base_url:
            return f"{self.public_base_url}/{quote(obj, safe='/')}"
        return f"s3://{self.bucket}/{obj}"

    def share_url(self, key: str, expires_s: int | None = None) -> tuple[str, float | None]:
        """A URL a viewer can open, and when it stops working (None: never).

        A public bucket (``R2_PUBLIC_URL``) gives its plain URL; a private one, the default,
        a presigned GET that expires after ``expires_s`` (at most seven days).
        """
        if self.public_base_url:
            return self.url_for(key), None
        expires = DEFAULT_EXPIRES_S if expires_s is None else expires_s
        if not 1 <= expires <= MAX_EXPIRES_S:
            raise PersonaForgeError(
                f"links can expire after 1 s to 7 days, not {expires} s",
                field="expires",
                hint="use e.g. --expires 7d, or set R2_PUBLIC_URL for a public bucket",
            )
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        try:
            url = self._client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": obj}, ExpiresIn=expires
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("cannot sign a link to", obj, exc) from exc
        return str(url), time.time() + expires

    @property
    def public(self) -> bool:
        return self.public_base_url is not None

    def exists(self, key: str, sha256: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=obj)
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return False
            raise self._error("cannot check", obj, exc) from exc
        except BotoCoreError as exc:
            raise self._error("cannot check", obj, exc) from exc
        stored = (head.get("Metadata") or {}).get("sha256")
        return isinstance(stored, str) and stored.lower() == sha256.lower()

    def put(self, local: Path, key: str, sha256: str, content_type: str) -> str:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        local = Path(local)
        if not local.is_file():
            raise PersonaForgeError(f"cannot upload {local}: no such file", file=local)
        from boto3.s3.transfer import TransferConfig

        threshold, chunk = self._multipart
        # Keys hold the content's hash, so an object never changes: caches may keep it.
        cache_control = ("public" if self.public else "private") + ", max-age=31536000, immutable"
        extra = {
            "ContentType": content_type,
            "CacheControl": cache_control,
            "Metadata": {"sha256": sha256.lower()},
        }
        try:
            if local.stat().st_size < threshold:
                # One request, in this thread: upload_file runs even a small file in a
                # transfer thread of its own, which Ctrl-C can't stop and exit waits for.
                with open(local, "rb") as body:
                    self._client.put_object(Bucket=self.bucket, Key=obj, Body=body, **extra)
            else:
                self._client.upload_file(
                    str(local), self.bucket, obj, ExtraArgs=extra,
                    Config=TransferConfig(multipart_threshold=threshold, multipart_chunksize=chunk),
                )  # fmt: skip
        except (ClientError, BotoCoreError, Boto3Error) as exc:
            raise self._error("cannot upload to", obj, exc) from exc
        except OSError as exc:
            raise PersonaForgeError(
                f"cannot upload {local}: {exc.strerror or exc}", file=local
            ) from exc
        return self.url_for(key)

    def read_bytes(self, key: str) -> bytes | None:
        """A small object's bytes (a shot record, a bundle list), or None if there is none."""
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=obj)["Body"]
            data: bytes = body.read()
            return data
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND | {"NoSuchKey"}:
                return None
            raise self._error("cannot read", obj, exc) from exc
        except BotoCoreError as exc:
            raise self._error("cannot read", obj, exc) from exc

    def download(self, key: str, dest: Path, sha256: str | None = None) -> bool:
        """Fetch an object to ``dest`` (atomically; checked against ``sha256`` if given).
        False if there is no such object."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        try:
            with atomic_path(dest) as tmp:
                # One request streamed in this thread, hashed as it comes: download_file
                # runs transfer threads of its own, which Ctrl-C can't stop and exit waits for.
                body = self._client.get_object(Bucket=self.bucket, Key=obj)["Body"]
                digest = hashlib.sha256()
                with open(tmp, "wb") as fh:
                    for chunk in body.iter_chunks(1 << 20):
                        fh.write(chunk)
                        digest.update(chunk)
                if sha256 is not None and digest.hexdigest() != sha256.lower():
                    raise DamagedObject(
                        f"s3://{self.bucket}/{obj} does not hold the content it should "
                        f"(sha256 {sha256[:12]}…)",
                        hint="delete the object; it will be uploaded again",
                    )
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                return False
            raise self._error("cannot download", obj, exc) from exc
        except (BotoCoreError, Boto3Error) as exc:
            raise self._error("cannot download", obj, exc) from exc
        return True

    def presigned_url(self, key: str, *, method: str = "get", expires_s: int = 3600) -> str:
        """A time-limited URL to GET or PUT ``key`` without credentials (for remote workers).
        It is itself a credential while it lasts: never log or record it."""
        from botocore.exceptions import BotoCoreError, ClientError

        obj = self._object_key(key)
        operation = {"get": "get_object", "put": "put_object"}[method]
        try:
            url: str = self._client.generate_presigned_url(
                operation, Params={"Bucket": self.bucket, "Key": obj}, ExpiresIn=expires_s
            )
        except (ClientError, BotoCoreError) as exc:
            raise self._error("cannot sign a URL for", obj, exc) from exc
        return url

    def _error(self, doing: str, obj: str, exc: BaseException) -> PersonaForgeError:
        code, detail = _describe(exc)
        where = f"s3://{self.bucket}/{obj}"
        message = " ".join(self._scrub(f"{doing} {where}: {code}: {detail}").split())
        if code in _TRANSIENT_CODES:
            from personaforge.backends.cloud import RemoteError

            return RemoteError(message, hint=_hint_for(code))
        return PersonaForgeError(message, hint=_hint_for(code))

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def _attempts() -> int:
    """Attempts per request (PERSONAFORGE_S3_ATTEMPTS, default 5); tests of failure use 1."""
    return int(env_number(os.environ, "PERSONAFORGE_S3_ATTEMPTS", 5, whole=True, low=1, high=20))


def _mb(env: Mapping[str, str], name: str, default: int) -> int:
    if not env.get(name, "").strip():
        return default
    return max(5 * MB, int(env_number(env, name, 0, unit="MiB") * MB))


def _error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _describe(exc: BaseException) -> tuple[str, str]:
    """The S3 error code and message, digging through boto3's wrapper exceptions."""
    current: BaseException | None = exc
    visited: set[int] = set()
    while current is not None and id(current) not in visited:
        visited.add(id(current))
        code = _error_code(current)
        if code:
            response: dict[str, Any] = getattr(current, "response", {})
            message = str(response.get("Error", {}).get("Message", "")) or str(current)
            return code, message
        current = current.__cause__ or current.__context__
    return type(exc).__name__, str(exc)


def _hint_for(code: str) -> str | None:
    if code == "NoSuchBucket":
        return "create the bucket, or fix the bucket name in the target or R2_BUCKET"
    if code in _CREDENTIAL_CODES:
        return "check R2_ACCESS_KEY and R2_SECRET_KEY, and that the token may write this bucket"
    if code in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError"):
        return "check R2_ENDPOINT and the network"
    return None


__all__ = ["S3Storage", "normalize_prefix", "parse_target"]
