"""Local-folder storage: a directory laid out like a bucket, written atomically."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from personaforge.backends.base import Storage, StorageSetup
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import sha256_file

_CHUNK = 1024 * 1024


def check_key(key: str) -> str:
    """Return ``key`` if it is a safe POSIX relative path; raise otherwise.

    The same rule guards every backend, so a key that publishes to one also publishes to another.
    """
    if not key:
        raise PersonaForgeError("storage key is empty", field="key")
    if "\\" in key:
        raise PersonaForgeError(
            f"storage key {key!r} contains a backslash",
            field="key",
            hint="use '/' to separate folders",
        )
    if key.startswith("/"):
        raise PersonaForgeError(
            f"storage key {key!r} is absolute", field="key", hint="drop the leading '/'"
        )
    if "\x00" in key:
        raise PersonaForgeError(f"storage key {key!r} contains a NUL byte", field="key")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise PersonaForgeError(
                f"storage key {key!r} has an empty, '.' or '..' segment",
                field="key",
                hint="keys are plain relative paths like 'videos/hello.mp4'",
            )
    return key


LOCAL_DIR = "published"  # a local target's folder, inside the project


class LocalStorage(Storage):
    """Stores files under ``root``; a key ``a/b.mp4`` becomes ``root/a/b.mp4``."""

    name = "local"

    @classmethod
    def from_setup(cls, setup: StorageSetup) -> LocalStorage:
        return cls(setup.root / LOCAL_DIR)

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()

    def share_url(self, key: str, expires_s: int | None = None) -> tuple[str, float | None]:
        """A file:// URL never expires; ``expires_s`` only matters for signed links."""
        return self.url_for(key), None

    def exists(self, key: str, sha256: str) -> bool:
        path = self._path(key)
        if not path.is_file():
            return False
        try:
            return sha256_file(path) == sha256.lower()
        except OSError:
            # An unreadable file cannot be trusted to hold this content; put() will replace it.
            return False

    def put(self, local: Path, key: str, sha256: str, content_type: str) -> str:
        # content_type is unused: a folder has nowhere to keep it, and file:// readers sniff it.
        dest = self._path(key)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PersonaForgeError(
                f"cannot create folder {dest.parent}: {exc.strerror or exc}", file=dest.parent
            ) from exc
        try:
            fd, tmp_name = tempfile.mkstemp(
                dir=dest.parent, prefix=f".{dest.name}.", suffix=".part"
            )
        except OSError as exc:
            raise PersonaForgeError(
                f"cannot write in {dest.parent}: {exc.strerror or exc}", file=dest.parent
            ) from exc
        tmp = Path(tmp_name)
        try:
            digest = hashlib.sha256()
            with os.fdopen(fd, "wb") as out, Path(local).open("rb") as src:
                for chunk in iter(lambda: src.read(_CHUNK), b""):
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                # Without fsync a crash after os.replace can leave an empty file under the key.
                os.fsync(out.fileno())
            if digest.hexdigest() != sha256.lower():
                raise PersonaForgeError(
                    f"{local} changed while publishing (sha256 {digest.hexdigest()[:12]}…, "
                    f"expected {sha256[:12]}…)",
                    file=local,
                    hint="run the command again",
                )
            # mkstemp makes 0600 files; published files are meant to be read by others.
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except OSError as exc:
            _discard(tmp)
            raise PersonaForgeError(
                f"cannot copy {local} to {dest}: {exc.strerror or exc}", file=local
            ) from exc
        except BaseException:
            _discard(tmp)
            raise
        return dest.as_uri()


def _discard(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


__all__ = ["LocalStorage", "check_key"]
