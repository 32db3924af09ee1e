"""What every cloud backend shares, written once: retry with backoff, waiting for a free
concurrency slot, polling a remote job, and a journal of remote jobs so that an interrupted run
resumes the job it already paid for instead of creating (and paying for) another.

Backends adapt their SDK's exceptions to a :class:`Fault` with a ``classify`` function; this
module decides what to do about it.
"""

from __future__ import annotations

import enum
import json
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

from personaforge.envnum import env_number
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text

T = TypeVar("T")


class FaultKind(enum.Enum):
    RETRY = "retry"  # transient: 429 busy, 5xx, timeouts, dropped connections
    WAIT = "wait"  # the account's concurrency is full: wait for a slot, not an error
    FATAL = "fatal"  # bad key, quota, bad request: stop at once


@dataclass
class Fault:
    kind: FaultKind
    message: str  # one line, safe to show (never contains a secret)
    hint: str | None = None


class RemoteError(PersonaForgeError):
    """A cloud backend failed: a fatal answer, or retries/waiting ran out."""


@dataclass
class RetryPolicy:
    """Bounded exponential backoff with full jitter.

    ``PERSONAFORGE_RETRY_SCALE`` (a float, default 1) scales every delay: gateways with
    strict rate limits raise it; tests set it near zero.
    """

    attempts: int = 5
    base_s: float = 1.0
    cap_s: float = 30.0
    slot_wait_s: float = 600.0  # the most time spent waiting for a free concurrency slot
    scale: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kw: Any) -> RetryPolicy:
        env = os.environ if env is None else env
        return cls(scale=env_number(env, "PERSONAFORGE_RETRY_SCALE", 1.0, low=0.0), **kw)

    def delay(self, attempt: int) -> float:
        return self.rng.uniform(0, min(self.cap_s, self.base_s * 2**attempt)) * self.scale


def call_with_retries(
    call: Callable[[], T],
    classify: Callable[[BaseException], Fault | None],
    *,
    what: str,
    policy: RetryPolicy | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> T:
    """Run ``call``; on a fault ``classify`` recognises, retry, wait or stop as it says.

    Exceptions ``classify`` returns None for are not ours to handle and propagate unchanged.
    """
    policy = policy or RetryPolicy.from_env()
    attempt = 0
    waited = 0.0
    while True:
        try:
            return call()
        except Exception as exc:
            fault = classify(exc)
            if fault is None:
                raise
        if fault.kind is FaultKind.FATAL:
            raise RemoteError(f"{what}: {fault.message}", hint=fault.hint) from None
        if fault.kind is FaultKind.WAIT:
            if waited >= policy.slot_wait_s * max(policy.scale, 1e-9):
                raise RemoteError(
                    f"{what}: no free concurrency slot after {waited:.0f} s ({fault.message})",
                    hint=fault.hint,
                ) from None
            pause = policy.delay(min(attempt, 3)) or 0.0
            if on_wait:
                on_wait(f"{what}: {fault.message}; waiting for a free slot")
            policy.sleep(pause)
            waited += max(pause, 0.05 * policy.scale)
            continue
        attempt += 1
        if attempt >= policy.attempts:
            raise RemoteError(
                f"{what}: {fault.message} (gave up after {attempt} attempts)", hint=fault.hint
            ) from None
        policy.sleep(policy.delay(attempt))


JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "timed_out"]
FINAL_STATES: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "timed_out"})


@dataclass
class JobState:
    """A remote job as a provider reports it, mapped onto one vocabulary."""

    status: JobStatus
    output: Any = None
    error: str | None = None  # the service's own message for a failed job
    progress: float | None = None  # 0..1 where the service reports it
    metrics: dict[str, float] = field(default_factory=dict)  # e.g. gpu seconds


def poll_job(
    fetch: Callable[[], JobState],
    *,
    what: str,
    timeout_s: float,
    interval_s: float = 2.0,
    max_interval_s: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_state: Callable[[JobState], None] | None = None,
) -> JobState:
    """Poll until the job is final; a failed, cancelled or timed-out job raises with the
    service's message, and so does waiting longer than ``timeout_s``."""
    deadline = clock() + timeout_s
    pause = interval_s
    while True:
        state = fetch()
        if on_state:
            on_state(state)
        if state.status == "succeeded":
            return state
        if state.status in FINAL_STATES:
            detail = f": {state.error}" if state.error else ""
            raise RemoteError(f"{what} {state.status.replace('_', ' ')}{detail}")
        if clock() + pause > deadline:
            raise RemoteError(
                f"{what} still {state.status} after {timeout_s:.0f} s; "
                "the job id is recorded, so the next run resumes waiting for it"
            )
        sleep(pause)
        pause = min(max_interval_s, pause * 1.5)


class JobJournal:
    """Remote jobs by the shot key they were created for, one small JSON file each.

    A job id is recorded the moment the job is created, before waiting for it, so that an
    interrupted or timed-out run resumes polling the same job instead of paying again.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key[:24]}.job.json"

    def get(self, key: str, provider: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("key") != key or data.get("provider") != provider:
            return None
        return data

    def put(self, key: str, provider: str, job_id: str, **extra: Any) -> None:
        with self._lock:
            self.folder.mkdir(parents=True, exist_ok=True)
            record = {"key": key, "provider": provider, "job_id": job_id, **extra}
            atomic_write_text(self._path(key), json.dumps(record, indent=1, sort_keys=True))

    def forget(self, key: str) -> None:
        with self._lock:
            self._path(key).unlink(missing_ok=True)


def base_url(env: Mapping[str, str], name: str) -> str | None:
    """A base-URL override from the environment, without a trailing slash; None if unset."""
    value = env.get(name, "").strip()
    return value.rstrip("/") or None


def require_key(env: Mapping[str, str], name: str, *, what: str) -> str:
    """A secret from the environment (or the project's .env), or a clear error naming it."""
    value = env.get(name, "").strip()
    if not value:
        from personaforge.errors import MissingKeyError

        raise MissingKeyError(
            f"{what} needs {name}", hint=f"export {name}=... or add it to the project's .env"
        )
    return value


def fault_for_status(status: int, message: str, *, key_name: str | None = None) -> Fault:
    """The usual meaning of an HTTP status from a cloud API: busy and server errors are worth
    retrying; a refused key, a bad request or an unpaid bill are not."""
    if status in (408, 425, 429) or status >= 500:
        return Fault(FaultKind.RETRY, f"HTTP {status}: {message}")
    if status in (401, 403) and key_name:
        return Fault(FaultKind.FATAL, f"HTTP {status}: {message}", hint=f"check {key_name}")
    return Fault(FaultKind.FATAL, f"HTTP {status}: {message}")


def _http_fault(exc: BaseException) -> Fault | None:
    import urllib.error

    if isinstance(exc, urllib.error.HTTPError):
        # Never the URL: a presigned URL's query string is a credential.
        return fault_for_status(exc.code, str(exc.reason))
    if isinstance(exc, (urllib.error.URLError, TimeoutError, ConnectionError)):
        reason = getattr(exc, "reason", exc)
        return Fault(FaultKind.RETRY, f"network error: {reason}")
    return None


def download(url: str, out: Path, *, what: str, policy: RetryPolicy | None = None) -> None:
    """Fetch ``url`` into ``out`` (a temporary name, then renamed), retrying transient faults."""
    import shutil
    import urllib.request

    from personaforge.fsutil import atomic_path

    def fetch() -> None:
        with (
            urllib.request.urlopen(url, timeout=120) as resp,
            atomic_path(out) as tmp,
            tmp.open("wb") as fh,
        ):
            shutil.copyfileobj(resp, fh, 1 << 20)

    call_with_retries(fetch, _http_fault, what=what, policy=policy)


def upload(
    url: str, local: Path, *, content_type: str, what: str, policy: RetryPolicy | None = None
) -> None:
    """PUT ``local`` to a (presigned) ``url``, retrying transient faults."""
    import urllib.request

    def put() -> None:
        data = local.read_bytes()
        request = urllib.request.Request(
            url, data=data, method="PUT", headers={"Content-Type": content_type}
        )
        with urllib.request.urlopen(request, timeout=300) as resp:
            resp.read()

    call_with_retries(put, _http_fault, what=what, policy=policy)


def concurrency(env: Mapping[str, str], default: int = 4) -> int:
    """How many remote jobs may run at once (``PERSONAFORGE_CLOUD_CONCURRENCY``, at least 1):
    accounts cap concurrent jobs, and a long video should not queue its shots one by one."""
    return int(env_number(env, "PERSONAFORGE_CLOUD_CONCURRENCY", default, whole=True, low=1))


def run_bounded(tasks: list[Callable[[], T]], limit: int) -> list[T]:
    """Run ``tasks`` with at most ``limit`` at a time; results in order. On a failure no new
    task starts, the running ones finish (their jobs are journalled either way), and the
    first failure is raised."""
    from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

    if limit <= 1 or len(tasks) <= 1:
        return [task() for task in tasks]
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="pf-cloud") as pool:
        futures = [pool.submit(task) for task in tasks]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in futures if f in done and f.exception() is not None]
        if failed:
            for f in pending:
                f.cancel()
            wait(pending)
            raise failed[0].exception()  # type: ignore[misc]
        return [f.result() for f in futures]
