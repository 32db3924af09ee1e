"""The submitting side of the queue: enqueue projects, list jobs, cancel one."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personaforge.backends.cloud import RetryPolicy
from personaforge.core.project import Project
from personaforge.errors import MissingDependencyError, PersonaForgeError

DEFAULT_QUEUE = "personaforge"
JOB_FUNC = "personaforge.queue.work.make_video_job"
RETRIES = 3
RETRY_INTERVALS_S = (10, 60, 300)
JOB_TIMEOUT_S = 4 * 3600
KEEP_S = 7 * 24 * 3600  # how long finished and failed jobs stay listed
CACHE_DIR = "shotcache"


def connect(url: str | None, env: Mapping[str, str] | None = None) -> Any:
    """A Redis connection from ``--redis`` or ``REDIS_URL``, checked with a PING."""
    env = os.environ if env is None else env
    url = (url or env.get("REDIS_URL", "")).strip()
    if not url:
        raise MissingDependencyError(
            "the job queue needs a Redis URL", hint="pass --redis URL or export REDIS_URL=..."
        )
    try:
        import redis
    except ImportError as exc:
        raise MissingDependencyError(
            "the job queue needs rq and redis", hint="pip install 'personaforge[queue]'"
        ) from exc
    conn = redis.Redis.from_url(url)
    try:
        conn.ping()
    except redis.exceptions.RedisError as exc:
        from personaforge.backends.cloud import RemoteError

        # The URL may carry a password: name only where it points.
        where = url.split("@")[-1]
        raise RemoteError(
            f"cannot reach Redis at {where}: {exc}", hint="check --redis / REDIS_URL"
        ) from None
    return conn


@dataclass
class Enqueued:
    project: Path
    job_id: str
    bundle: str
    # The job was already waiting or running with the same inputs: that one is answered.
    queued_before: str | None = None  # its status then


def retry_intervals(env: Mapping[str, str]) -> list[int]:
    """Backoff between attempts, scaled like every other retry (PERSONAFORGE_RETRY_SCALE)."""
    scale = RetryPolicy.from_env(env).scale
    return [int(s * scale) for s in RETRY_INTERVALS_S]


def enqueue(
    conn: Any,
    folders: Sequence[Path],
    *,
    queue_name: str = DEFAULT_QUEUE,
    env: Mapping[str, str] | None = None,
) -> list[Enqueued]:
    """Upload each project's inputs as a bundle to its own publish storage, then queue a job."""
    from rq import Queue, Retry

    from personaforge.backends.storage.s3 import S3Storage
    from personaforge.queue.bundle import upload_bundle

    queue = Queue(queue_name, connection=conn)
    out: list[Enqueued] = []
    for folder in folders:
        project = Project.open(folder)
        video = project.load_video()
        target = video.publish.target
        if target == "local":
            raise PersonaForgeError(
                "a queued project must publish to S3/R2, where workers on other machines "
                "can fetch its inputs",
                file=project.video_path,
                field="publish.target",
                hint="set publish: {target: s3://bucket/prefix} (or r2)",
            )
        penv = dict(env) if env is not None else project.environment()
        storage = S3Storage.from_target(target, penv)
        bundle = upload_bundle(project, storage)
        # Checked and queued under a lock, so two enqueues at once can't both miss the other.
        with conn.lock(f"personaforge:enqueue:{queue_name}", timeout=60, blocking_timeout=60):
            waiting = _unfinished(queue, bundle)
            if waiting is not None:
                job, status = waiting
                out.append(Enqueued(project.root, job.id, bundle, queued_before=status))
                continue
            # The bucket spelled out: a worker's R2_BUCKET may name another.
            where = f"s3://{storage.bucket}" + (f"/{storage.prefix}" if storage.prefix else "")
            # The shot cache lets a retried job (on any machine) resume from the shots made.
            cache = video.cache or f"{where}/{CACHE_DIR}"
            name = project.root.resolve().name
            job = queue.enqueue(
                JOB_FUNC,
                {"target": where, "bundle": bundle, "cache": cache, "name": name},
                retry=Retry(max=RETRIES, interval=retry_intervals(penv)),
                job_timeout=JOB_TIMEOUT_S,
                result_ttl=KEEP_S,
                failure_ttl=KEEP_S,
                description=f"make-video {name}",
                meta={"project": str(project.root.resolve()), "name": name, "bundle": bundle,
                      "stage": "queued", "attempts": 0},
            )  # fmt: skip
        out.append(Enqueued(project.root, job.id, bundle))
    return out


def _unfinished(queue: Any, bundle: str) -> tuple[Any, str] | None:
    """A job of the same inputs (``bundle``) that is queued, waiting to retry or running,
    and its status; None if there is none. It will make the same video, and a second job
    beside it would pay for its shots again (both miss the shot cache while neither has
    finished a shot)."""
    registries = (
        queue.scheduled_job_registry,
        queue.started_job_registry,
        queue.deferred_job_registry,
    )
    for job in _jobs_in(queue, registries):
        if (job.meta or {}).get("bundle") != bundle:
            continue
        status = str(getattr(job.get_status(), "value", job.get_status()))
        if status in ("queued", "scheduled", "started", "deferred"):
            return job, status
    return None


def _jobs_in(queue: Any, registries: Sequence[Any]) -> list[Any]:
    """The jobs waiting in ``queue`` and those in its ``registries``, each once."""
    from rq.job import Job

    ids: list[str] = list(queue.get_job_ids())
    for registry in registries:
        ids.extend(registry.get_job_ids())
    fetched = Job.fetch_many(list(dict.fromkeys(ids)), connection=queue.connection)
    return [job for job in fetched if job is not None]


@dataclass
class JobInfo:
    id: str
    status: str
    name: str
    stage: str
    reason: str
    attempts: int
    published: list[str] = field(default_factory=list)
    enqueued_at: str | None = None
    ended_at: str | None = None

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def _reason(job: Any) -> str:
    meta = job.meta or {}
    if meta.get("error"):
        return str(meta["error"])
    result = job.latest_result()
    if result is not None and getattr(result, "exc_string", None):
        lines = [ln for ln in str(result.exc_string).strip().splitlines() if ln.strip()]
        return lines[-1] if lines else ""
    return ""


def describe(job: Any) -> JobInfo:
    meta = job.meta or {}
    status = str(job.get_status(refresh=False) or "unknown")
    status = getattr(job.get_status(refresh=False), "value", status)
    return JobInfo(
        id=job.id,
        status=status,
        name=str(meta.get("name", job.description or "")),
        stage=str(meta.get("stage", "")),
        reason=_reason(job) if status in ("failed", "started", "scheduled", "queued") else "",
        attempts=int(meta.get("attempts", 0)),
        published=list(meta.get("published", [])),
        enqueued_at=job.enqueued_at.isoformat() if job.enqueued_at else None,
        ended_at=job.ended_at.isoformat() if job.ended_at else None,
    )


def list_jobs(conn: Any, queue_name: str = DEFAULT_QUEUE) -> list[JobInfo]:
    """Every job the queue knows: queued, scheduled (waiting to retry), started, finished,
    failed, cancelled; oldest first."""
    from rq import Queue

    queue = Queue(queue_name, connection=conn)
    registries = (
        queue.scheduled_job_registry,
        queue.started_job_registry,
        queue.finished_job_registry,
        queue.failed_job_registry,
        queue.canceled_job_registry,
    )
    jobs = _jobs_in(queue, registries)
    jobs.sort(key=lambda j: j.enqueued_at or j.created_at)
    return [describe(j) for j in jobs]


def get_job(conn: Any, job_id: str) -> JobInfo:
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return describe(Job.fetch(job_id, connection=conn))
    except NoSuchJobError:
        raise PersonaForgeError(f"no job {job_id!r} in the queue", field="id") from None


def cancel(conn: Any, job_id: str) -> str:
    """Cancel a waiting job, or stop a running one; returns what was done."""
    from rq.command import send_stop_job_command
    from rq.exceptions import NoSuchJobError
    from rq.job import Job, JobStatus

    try:
        job = Job.fetch(job_id, connection=conn)
    except NoSuchJobError:
        raise PersonaForgeError(f"no job {job_id!r} in the queue", field="id") from None
    status = job.get_status()
    if status == JobStatus.STARTED:
        send_stop_job_command(conn, job_id)
        return "stop requested"
    if status in (JobStatus.FINISHED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.STOPPED):
        raise PersonaForgeError(f"job {job_id} already {getattr(status, 'value', status)}")
    job.cancel()
    return "cancelled"
