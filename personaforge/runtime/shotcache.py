"""The shared shot cache: per-shot speech and clips kept in S3/R2 so that a shot made on any
machine is fetched, never made (or paid for) again. Keys are exactly the local cache's."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from personaforge.backends.base import SharedStore, StorageSetup
from personaforge.errors import DamagedObject, PersonaForgeError
from personaforge.fsutil import atomic_write_bytes, sha256_file

if TYPE_CHECKING:  # the stages import this module: the context is named for typing only
    from personaforge.runtime.common import Context

T = TypeVar("T")
S = TypeVar("S")  # the model a shot's record is read as (speech, clip)

CONTENT_TYPES = {".wav": "audio/wav", ".mp4": "video/mp4", ".json": "application/json"}


@runtime_checkable
class _Shot(Protocol):
    key: str

    def media(self) -> list[tuple[str, str]]: ...

    def model_dump_json(self, *, indent: int | None = None) -> str: ...


class RemoteShotCache:
    """Records and media under ``s3://bucket/prefix/<speech|clips>/<name>``, mirroring build/."""

    def __init__(self, storage: SharedStore, root: Path, url: str) -> None:
        self.storage = storage
        self.root = root
        self.build = root / "build"
        self.url = url
        self._uploads: _Uploader | None = None
        self._pending: list[tuple[Path, Future[None]]] = []
        self._round = 0  # drop() starts a new round: uploads of an older one are skipped
        self._lock = threading.Lock()  # shots are made (and pushed) from several threads
        # Why the cache is out of use for the rest of the run (None: in use).
        self.down: str | None = None

    def _remote(self, local: Path) -> str | None:
        """The cache key of a file under build/; None for anything outside it."""
        try:
            rel = Path(local).relative_to(self.build)
        except ValueError:
            return None
        return PurePosixPath(*rel.parts).as_posix()

    def _record(
        self, record_path: Path, key: str, validate: Callable[[Any], S]
    ) -> tuple[S, bytes] | None:
        """The cached record of the shot made from ``key``, and its bytes; None: a miss."""
        remote = self._remote(record_path)
        if remote is None:
            return None
        raw = self.storage.read_bytes(remote)
        if raw is None:
            return None
        try:
            shot = validate(json.loads(raw))
        except ValueError:
            return None  # a foreign or damaged record is a miss; making the shot replaces it
        if not isinstance(shot, _Shot):
            return None
        return (shot, raw) if shot.key == key else None

    def peek(self, record_path: Path, key: str, validate: Callable[[Any], S]) -> S | None:
        """The shot recorded at ``record_path`` as the cache holds it, if its media are there
        too (asked, not downloaded); None: a miss. Nothing is written."""
        found = self._record(record_path, key, validate)
        if found is None:
            return None
        shot = found[0]
        if not isinstance(shot, _Shot):
            return None
        for rel, sha in shot.media():
            local = self.root / rel
            media_key = self._remote(local)
            if media_key is None or not self.storage.exists(media_key, sha):
                return None
        return shot

    def fetch(self, record_path: Path, key: str, validate: Callable[[Any], object]) -> bool:
        """Bring the shot recorded at ``record_path`` (made from ``key``) from the cache:
        media first, then the record, so a local record always has its media. False: a miss."""
        found = self._record(record_path, key, validate)
        if found is None:
            return False
        shot, raw = found
        if not isinstance(shot, _Shot):
            return False
        for rel, sha in shot.media():
            local = self.root / rel
            media_key = self._remote(local)
            if media_key is None:
                return False
            if local.is_file() and sha256_file(local) == sha:
                continue
            if not self.storage.download(media_key, local, sha):
                return False
        atomic_write_bytes(record_path, raw)
        return True

    def push(self, record: _Shot, record_path: Path) -> None:
        """Upload a shot just made: media first, the record last (it says the media are there)."""
        remote = self._remote(record_path)
        if remote is None:
            return
        for rel, sha in record.media():
            local = self.root / rel
            media_key = self._remote(local)
            if media_key is None:
                return
            if not self.storage.exists(media_key, sha):
                content_type = CONTENT_TYPES.get(local.suffix, "application/octet-stream")
                self.storage.put(local, media_key, sha, content_type)
        sha = sha256_file(record_path)
        if not self.storage.exists(remote, sha):
            self.storage.put(record_path, remote, sha, CONTENT_TYPES[".json"])

    def out_of_use(self, exc: PersonaForgeError) -> bool:
        """Take the cache out of use for the rest of the run: unreachable, refusing or
        failing, it would cost every shot the same wait (and retries) for the same error.
        True the first time, to say it once."""
        with self._lock:
            first = self.down is None
            self.down = self.down or str(exc)
        return first

    def push_soon(self, record: _Shot, record_path: Path) -> None:
        """``push`` in the background, a few at a time: the stage goes on with its next shot
        while this one goes up (a far bucket costs round trips, four per shot)."""
        with self._lock:
            if self.down is not None:
                return
            if self._uploads is None:
                self._uploads = _Uploader(UPLOADS)
            upload = self._uploads.submit(self._push_in, record, record_path, self._round)
            self._pending.append((record_path, upload))

    def _push_in(self, record: _Shot, record_path: Path, round_: int) -> None:
        if self.down is None and round_ == self._round:
            self.push(record, record_path)

    def wait(self) -> tuple[Path, PersonaForgeError] | None:
        """Wait for the uploads started; the failure that took the cache out of use, if one
        did just now."""
        with self._lock:
            pending, self._pending = self._pending, []
        news = None
        for path, upload in pending:
            try:
                upload.result()
            except PersonaForgeError as exc:
                if self.out_of_use(exc):
                    news = (path, exc)
        self._close()
        return news

    def drop(self) -> None:
        """Forget the uploads not started yet (the run was interrupted); the ones under way
        go on until the process exits."""
        with self._lock:
            self._pending = []
            self._round += 1
        self._close()

    def _close(self) -> None:
        """Let the pool's threads end once their work is done (a later push opens another)."""
        with self._lock:
            pool, self._uploads = self._uploads, None
        if pool is not None:
            pool.close()


# Uploads at once (boto3 keeps ten connections; lookups may use the rest).
UPLOADS = 4


class _Uploader:
    """A few daemon threads taking uploads off a queue. Not a ThreadPoolExecutor (nor a
    multiprocessing ThreadPool): both join their threads at exit, so an interrupted run would
    wait for its uploads under way. These are abandoned (a shot's record goes up last, so a
    shot is shared whole or not at all)."""

    def __init__(self, workers: int) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._workers = workers
        for n in range(workers):
            threading.Thread(target=self._work, name=f"pf-share-{n}", daemon=True).start()

    def submit(self, fn: Callable[..., None], *args: Any) -> Future[None]:
        done: Future[None] = Future()
        self._jobs.put((done, fn, args))
        return done

    def close(self) -> None:
        """The threads end once the uploads queued before are done."""
        for _ in range(self._workers):
            self._jobs.put(None)

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            done, fn, args = job
            if not done.set_running_or_notify_cancel():
                continue
            try:
                done.set_result(fn(*args))
            except BaseException as exc:  # handed to whoever waits for it
                done.set_exception(exc)


def open_cache(url: str, root: Path, env: Mapping[str, str]) -> RemoteShotCache:
    from personaforge.backends import registry

    try:
        storage = registry.storage(StorageSetup(url, root, env))
    except PersonaForgeError as exc:
        exc.field = exc.field or "cache"
        raise
    if not isinstance(storage, SharedStore):  # a store that cannot read back (a folder)
        raise PersonaForgeError(
            f"the shot cache cannot be kept in {storage.name} storage", field="cache"
        )
    return RemoteShotCache(storage, root, url)


def for_context(ctx: Context) -> RemoteShotCache | None:
    """The run's shared cache (--cache, else video.yaml's ``cache``), opened once; None if
    there is none. Missing keys fail here, so make-video asks before any work."""
    opened: dict[str, RemoteShotCache | None] = ctx.shot_cache  # shared by the ctx's copies
    if "cache" not in opened:
        url = ctx.cache_url or ctx.video.cache
        env = ctx.environment()
        opened["cache"] = open_cache(url, ctx.project.root, env) if url else None
    return opened["cache"]


def _lookup(ctx: Context, miss: T, ask: Callable[[RemoteShotCache], T], then: str = "") -> T:
    """``ask`` the run's shared cache, if there is one; a failing cache is a ``miss``."""
    cache = for_context(ctx)
    if cache is None or cache.down is not None:
        return miss
    try:
        return ask(cache)
    except DamagedObject as exc:
        ctx.progress.log(f"shot cache: {exc}{then}")
    except PersonaForgeError as exc:
        if cache.out_of_use(exc):
            ctx.progress.log(f"shot cache: {exc}; going on without it for the rest of this run")
    return miss


def fetch(ctx: Context, record_path: Path, key: str, validate: Callable[[Any], object]) -> bool:
    """Look a shot up in the shared cache and bring it here; False: a miss."""
    return _lookup(
        ctx, False, lambda c: c.fetch(record_path, key, validate), "; making the shot here"
    )


def peek(ctx: Context, record_path: Path, key: str, validate: Callable[[Any], S]) -> S | None:
    """``fetch`` without downloading: the cached shot, if the shared cache holds it whole."""
    return _lookup(ctx, None, lambda c: c.peek(record_path, key, validate))


def push(ctx: Context, record: _Shot, record_path: Path) -> None:
    """Share a shot just made, in the background (``settle`` waits for it)."""
    cache = for_context(ctx)
    if cache is not None:
        cache.push_soon(record, record_path)


def settle(ctx: Context, *, interrupted: bool = False) -> None:
    """Wait for the run's shots to be shared (a stage ends with its shots shared); an upload
    that failed costs the other machines, not this run, and is said in a line. Interrupted,
    the uploads not yet started are dropped."""
    cache = ctx.shot_cache.get("cache")
    if cache is None:
        return
    if interrupted:
        cache.drop()
        return
    failed = cache.wait()
    if failed is not None:
        path, exc = failed
        ctx.progress.log(
            f"shot cache: cannot share {path.name}: {exc}; going on without it for the rest "
            "of this run"
        )
