"""Atomic file writes, content hashes and project-relative paths."""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import json
import os
import secrets
import shutil
import signal
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from personaforge.errors import PersonaForgeError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_FULL = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
# What a user can fix (space, rights, a name): one line. Any other OSError stays a crash.
USER_FIXABLE = _FULL | {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG}


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def _free(folder: Path) -> str:
    with contextlib.suppress(OSError):
        return f"{_size(shutil.disk_usage(folder).free)} free"
    return "free space unknown"


def os_problem(
    exc: OSError, path: Path | str | None = None, *, what: str = "write", need: int | None = None
) -> PersonaForgeError:
    """The one-line error for an OSError met while doing ``what`` to ``path``.

    A full disk names the folder, the file, the space left and (``need``) how much more the
    work needs; a refused, read-only or over-long path says which. Anything else keeps the
    system's own words."""
    where = Path(path if path is not None else (exc.filename or "."))
    folder = where.parent if where.name else where
    code = exc.errno
    if code in _FULL:
        needs = f"; it needs about {_size(need)}" if need else ""
        reason = "file too large for this filesystem or its limits" if code == errno.EFBIG else (
            "the disk quota is used up" if code == errno.EDQUOT else "no space left on the device"
        )  # fmt: skip
        return PersonaForgeError(
            f"{reason} while writing {where.name or where} ({_free(folder)}{needs})",
            file=folder,
            hint="free some space, then run again: work already done is kept",
        )
    if code in (errno.EACCES, errno.EPERM):
        return PersonaForgeError(f"permission denied: cannot {what} {where.name}", file=folder)
    if code == errno.EROFS:
        return PersonaForgeError(f"read-only filesystem: cannot {what} {where.name}", file=folder)
    if code == errno.ENAMETOOLONG:
        return PersonaForgeError(
            f"file name too long for this filesystem ({len(str(where))} characters)",
            file=str(where)[:80] + "…",
        )
    return PersonaForgeError(f"cannot {what} {where.name}: {exc.strerror or exc}", file=folder)


def _check_dir_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise PersonaForgeError("expected a folder, found a file", file=folder) from None
    except OSError as exc:
        raise os_problem(exc, folder / "", what="create the folder") from None
    if not os.access(folder, os.W_OK):
        raise PersonaForgeError("folder is not writable", file=folder)


@contextlib.contextmanager
def atomic_path(target: Path, *, need: int | None = None) -> Iterator[Path]:
    """Yield a temp path beside ``target``; rename it into place only if the block succeeds.

    An OSError in the block (a full disk, say) is one line naming the folder and the file
    (and ``need``, the bytes it would take, where the caller knows them); the temp file goes."""
    target = Path(target)
    _check_dir_writable(target.parent)
    # The name is chosen before the file exists and the file is made inside the cleanup's
    # reach (one call, O_EXCL), so a Ctrl-C at any moment leaves no temp file behind.
    tmp_path = target.parent / f".{target.stem}.{secrets.token_hex(8)}.tmp{target.suffix}"
    try:
        try:
            os.close(os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except OSError as exc:
            raise os_problem(exc, target, need=need) from None
        try:
            yield tmp_path
        except OSError as exc:
            # Whatever wrote the temp file (wave, PIL, a copy) ran out of space or rights.
            raise os_problem(exc, target, need=need) from None
        try:
            # The temp file is made 0600; the result should have the mode any new file gets.
            os.chmod(tmp_path, 0o666 & ~_current_umask())
            os.replace(tmp_path, target)
        except OSError as exc:
            raise os_problem(exc, target, need=need) from None
    except BaseException:
        with contextlib.suppress(OSError):
            tmp_path.unlink()
        raise
    _stop_point(target)


# Tests reach a moment of a run exactly (kill -9 right after a record is written, Ctrl-C in
# the middle of lipsync) by naming the file whose writing is that moment; polling for the
# file instead races the run, which may be well past it before the poll looks.
_STOP_VAR = "PERSONAFORGE_STOP_AFTER_WRITING"


def _stop_point(target: Path) -> None:
    """Stop this process (SIGSTOP) once it has written a file matching the pattern in
    $PERSONAFORGE_STOP_AFTER_WRITING (fnmatch, on the full path), for a test to signal."""
    pattern = os.environ.get(_STOP_VAR)
    if pattern and fnmatch.fnmatch(str(target), pattern) and hasattr(signal, "SIGSTOP"):
        os.environ.pop(_STOP_VAR)  # once: a resumed process runs on
        os.kill(os.getpid(), signal.SIGSTOP)


def user_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """PersonaForge's folder in the user's cache: ``$XDG_CACHE_HOME/personaforge``, or
    ``~/.cache/personaforge``."""
    cache = env.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
    return Path(cache) / "personaforge"


def atomic_write_bytes(target: Path, data: bytes) -> None:
    with atomic_path(target, need=len(data)) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(target: Path, text: str) -> None:
    atomic_write_bytes(target, text.encode("utf-8"))


def read_text(path: Path, *, source: Path | None = None, field: str | None = None) -> str:
    """A UTF-8 text file (a byte-order mark is dropped), or an error naming it.

    ``source``/``field`` say where the path came from (video.yaml's ``script``), if anywhere.
    """
    name = f"{path.name!r}" if source else "file"
    problem = None
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        problem = f"{name} not found"
    except IsADirectoryError:
        problem = f"{name} is a folder, not a file"
    except UnicodeDecodeError:
        problem = f"{name} is not UTF-8 text"
    except OSError as exc:
        problem = f"cannot read {name}: {exc.strerror}"
    raise PersonaForgeError(problem, file=source or path, field=field)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_hash(value: Any) -> str:
    """Hash a JSON-able value independent of key order and float formatting quirks."""
    blob = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_bytes(blob.encode("utf-8"))


def resolve_in_project(
    root: Path, rel: str, *, file: Path | None = None, field: str | None = None
) -> Path:
    """Resolve a manifest path; one that escapes the project folder is refused."""
    p = Path(rel)
    if p.is_absolute():
        raise PersonaForgeError(
            f"absolute path {rel!r} is not allowed; use a path inside the project",
            file=file,
            field=field,
        )
    full = (root / p).resolve()
    try:
        full.relative_to(root.resolve())
    except ValueError:
        raise PersonaForgeError(
            f"path {rel!r} escapes the project folder", file=file, field=field
        ) from None
    return full
