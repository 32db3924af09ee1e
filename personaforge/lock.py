"""One run at a time per project: an advisory lock that names its holder (pid and host)."""

from __future__ import annotations

import contextlib
import errno
import functools
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ParamSpec, TypeVar

from personaforge.errors import PersonaForgeError

LOCK_NAME = ".personaforge.lock"
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS}
POLL_S = 0.2

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no flock; runs are not serialised there
    fcntl = None  # type: ignore[assignment]


class ProjectBusyError(PersonaForgeError):
    """Another run holds the project's lock (and we were told not to wait)."""


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    since: float

    def describe(self) -> str:
        started = time.strftime("%H:%M:%S", time.localtime(self.since)) if self.since else "?"
        what = self.command or "a run"
        return f"{what} (pid {self.pid} on {self.host}, since {started})"


# Locks this process holds, by lock path: stages run inside make-video (and batch, and a
# queue worker) take the same lock again. flock locks belong to an open file, so a second
# open() in the same process would wait for itself forever.
_held: dict[Path, tuple[int, int]] = {}
_held_guard = threading.Lock()


def lock_path(root: Path) -> Path:
    return Path(os.path.abspath(root)) / LOCK_NAME


def read_holder(path: Path) -> Holder | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(int(data["pid"]), str(data["host"]), str(data.get("command", "")),
                      float(data.get("since", 0)))  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _try_lock(path: Path) -> int | None:
    """An fd holding an exclusive flock on the file now at ``path``, or None if it is held."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        # The holder before us removes the file as it lets go; if it did so between our open
        # and our flock, we hold a lock on a file nobody else can see: open it again.
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


@contextlib.contextmanager
def project_lock(
    root: Path,
    *,
    wait: bool = True,
    command: str = "make-video",
    on_wait: Callable[[str], None] | None = None,
    timeout_s: float | None = None,
) -> Iterator[None]:
    """Hold the project's lock for the block.

    A second run waits (saying for whom, once) or, with ``wait=False``, fails at once naming
    the holder. The kernel drops an flock when its process dies, so a lock left by a killed
    run (its file still naming the dead pid) is simply taken over.
    """
    path = lock_path(root)
    with _held_guard:
        if path in _held:
            fd, count = _held[path]
            _held[path] = (fd, count + 1)
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            _release(path)
        return
    if fcntl is None:  # pragma: no cover
        yield
        return
    if not path.parent.is_dir():
        raise PersonaForgeError("project folder does not exist", file=path.parent)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    told = False
    while True:
        try:
            got = _try_lock(path)
        except OSError as exc:
            if exc.errno in _NO_FLOCK:
                # A filesystem without flock (some network mounts): run unguarded, say so.
                if on_wait is not None:
                    on_wait(f"note: {path.parent} cannot be locked here; runs are not serialised")
                yield
                return
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise PersonaForgeError("folder is not writable", file=path.parent) from None
            raise PersonaForgeError(
                f"cannot lock the project: {exc.strerror or exc}", file=path
            ) from None
        if got is not None:
            fd = got
            break
        holder = read_holder(path)
        who = holder.describe() if holder else "another run"
        if not wait:
            raise ProjectBusyError(
                f"the project is busy: {who} holds {LOCK_NAME}",
                file=path.parent,
                hint="wait for it to finish, or run again without --no-wait to wait",
            )
        if deadline is not None and time.monotonic() > deadline:
            raise ProjectBusyError(f"gave up waiting for {who}", file=path.parent)
        if not told and on_wait is not None:
            on_wait(f"waiting for {who} to finish with {path.parent}")
            told = True
        time.sleep(POLL_S)
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": time.time()}  # fmt: skip
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    with _held_guard:
        _held[path] = (fd, 1)
    try:
        yield
    finally:
        _release(path)


def _release(path: Path) -> None:
    with _held_guard:
        fd, count = _held[path]
        if count > 1:
            _held[path] = (fd, count - 1)
            return
        del _held[path]
        # Remove the file while still holding the lock, so the project folder stays clean;
        # a waiter that opened the old file notices (inode check) and opens the new one.
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def holds(root: Path) -> bool:
    """Whether this process holds the project's lock."""
    with _held_guard:
        return lock_path(root) in _held


P = ParamSpec("P")
T = TypeVar("T")


def locked(command: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Run an operation on a project (its first argument, or ``project=``) under the project's
    lock; its ``wait`` keyword (default True) and ``progress`` say how to wait."""

    def wrap(fn: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(fn)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            project = args[0] if args else kwargs["project"]
            progress = kwargs.get("progress")
            on_wait = progress.log if progress is not None else None  # type: ignore[attr-defined]
            root: Path = project.root  # type: ignore[attr-defined]
            with project_lock(
                root, wait=bool(kwargs.get("wait", True)), command=command, on_wait=on_wait
            ):
                return fn(*args, **kwargs)

        return run

    return wrap
