"""The worker side of the queue: the job that makes one bundled project, and the worker that
runs jobs and hands a job whose worker was killed to another."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from personaforge.backends.cloud import RemoteError
from personaforge.envnum import env_number
from personaforge.errors import MissingDependencyError, PersonaForgeError
from personaforge.fsutil import user_cache_dir
from personaforge.interrupts import Terminated, stop_signals_interrupt
from personaforge.progress import NullProgress

HOST = socket.gethostname()


def _pid_namespace() -> str:
    # Containers can share a hostname (host networking) but not their pids: a pid is only
    # worth checking from inside the same pid namespace.
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


PID_NS = _pid_namespace()


def work_root(env: dict[str, str] | os._Environ[str]) -> Path:
    """Where a worker keeps the projects it makes (and resumes them from after a retry)."""
    explicit = env.get("PERSONAFORGE_WORK_DIR", "").strip()
    if explicit:
        return Path(explicit)
    return user_cache_dir(env) / "work"


def retriable(exc: BaseException) -> bool:
    """Worth another attempt: a backend or the store failing (RemoteError), or anything
    unexpected. Bad input (any other PersonaForgeError) fails the same way every time."""
    if isinstance(exc, RemoteError):
        return True
    return not isinstance(exc, PersonaForgeError)


class JobProgress(NullProgress):
    """Progress that records the job's current stage in its meta (for `personaforge jobs`);
    counts and bars are not kept."""

    def __init__(self, job: Any) -> None:
        self.job = job
        self._saved = 0.0

    def _stage(self, stage: str) -> None:
        if self.job.meta.get("stage") != stage or time.monotonic() - self._saved > 5:
            self.job.meta["stage"] = stage
            self.job.save_meta()
            self._saved = time.monotonic()

    def start(self, task: str, total: float | None = None) -> None:
        # Tasks are named by what they do ("speaking", "rendering"); jobs show the stage.
        for stage in ("plan", "speak", "lipsync", "render", "publish"):
            if task.lower().startswith(stage[:5]):
                self._stage(stage)

    def log(self, message: str) -> None:
        head = message.split(":", 1)[0]
        if head in ("plan", "speak", "lipsync", "render", "publish"):
            self._stage(head)


def make_video_job(payload: dict[str, Any]) -> dict[str, Any]:
    """Download the bundle, make the video (the shared shot cache brings back every shot
    already made, here or on a machine that died), publish, record the URLs on the job."""
    from rq import get_current_job

    from personaforge.backends.storage.s3 import S3Storage
    from personaforge.commands.make_video import make_video
    from personaforge.queue.bundle import download_bundle

    job: Any = get_current_job()
    if job is None:  # pragma: no cover - only ever run by a worker
        raise RuntimeError("make_video_job runs inside an RQ worker")
    # Who runs it: a worker that finds this pid gone on this host hands the job on at once.
    job.meta.update(host=HOST, pidns=PID_NS, pid=os.getpid(), stage="download", error=None)
    job.meta["attempts"] = int(job.meta.get("attempts", 0)) + 1
    job.save_meta()
    env = dict(os.environ)
    try:
        # SIGTERM/SIGHUP (docker stop, systemd, a closed terminal) stop the job the way Ctrl-C
        # stops a run: ffmpeg stopped, temp files gone, the project's lock released.
        with stop_signals_interrupt():
            storage = S3Storage.from_target(payload["target"], env)
            folder = work_root(env) / payload["bundle"][:16] / payload["name"]
            project = download_bundle(storage, payload["bundle"], folder)
            result = make_video(
                project, progress=JobProgress(job), env=env, cache=payload.get("cache")
            )
    except Terminated as exc:
        # Stopping is not the job's fault: the attempt is given back, the job is handed on
        # (PersonaForgeWorker puts it at the front of the queue) and this worker stops.
        job.meta.update(stage="stopped", error=f"its worker was stopped by {exc.name}")
        job.retries_left = (job.retries_left or 0) + 1
        job.save_meta()
        signal.raise_signal(exc.signum)  # to rq's own handler: stop after this job
        raise
    except BaseException as exc:
        job.meta["error"] = str(exc) if isinstance(exc, PersonaForgeError) else repr(exc)
        if not retriable(exc):
            # Bad input: no retry can help. rq reads this off the job when the function raises.
            job.retries_left = 0
            job.meta["retry"] = "no (bad input)"
        job.save_meta()
        raise
    job.meta.update(
        stage="done", published=result.published, video=result.video.name, error=None,
        reused={s.stage: s.reused for s in result.stages if s.ran},
    )  # fmt: skip
    job.save_meta()
    out = result.as_json()
    out["video"] = result.video.name
    out["captions"] = result.captions.name
    return out


def _seconds(name: str, default: float) -> float:
    return env_number(os.environ, name, default, unit="seconds", low=0.5)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def requeue_orphans(queue: Any) -> list[str]:
    """Jobs started by a worker on this host whose process is gone (kill -9, OOM): hand them
    back to the queue now (rq's own cleanup, which uses one retry), rather than after rq's
    heartbeat runs out. Jobs of workers on other hosts are left to that heartbeat."""
    from rq.job import Job, JobStatus
    from rq.registry import StartedJobRegistry

    conn = queue.connection
    # One worker at a time, so two never hand the same job on twice.
    if not conn.set(f"personaforge:orphans:{queue.name}", HOST, nx=True, ex=30):
        return []
    try:
        registry = StartedJobRegistry(queue=queue)
        orphans: list[Any] = []
        for member in conn.zrange(registry.key, 0, -1):
            job_id = registry.parse_job_id(member)
            try:
                job = Job.fetch(job_id, connection=conn)
            except Exception:
                continue
            meta = job.get_meta(refresh=True)
            here = meta.get("host") == HOST and meta.get("pidns", "") == PID_NS
            if job.get_status() != JobStatus.STARTED or not here:
                continue
            if not isinstance(meta.get("pid"), int) or _pid_alive(meta["pid"]):
                continue
            orphans.append(member)
        if not orphans:
            return []
        # Mark them expired, then let rq's cleanup retry (or fail) exactly those.
        conn.zadd(registry.key, dict.fromkeys(orphans, 0), xx=True)
        registry.cleanup(timestamp=0.5)
        ids = [registry.parse_job_id(m) for m in orphans]
        # The worker died, not the backend: no reason to wait out the retry backoff (and a
        # burst worker would quit before a scheduled retry came due).
        for again in Job.fetch_many(ids, connection=conn):
            if again is not None and again.get_status() == JobStatus.SCHEDULED:
                queue.scheduled_job_registry.remove(again)
                queue.enqueue_job(again, at_front=True)
        return ids
    finally:
        conn.delete(f"personaforge:orphans:{queue.name}")


def hand_on(queue: Any, job: Any) -> None:
    """A job stopped with its worker: back at the front of the queue now, not after the
    retry backoff (a burst worker would quit before it came due)."""
    from rq.job import JobStatus

    if job.get_status(refresh=True) == JobStatus.SCHEDULED:
        queue.scheduled_job_registry.remove(job)
        queue.enqueue_job(job, at_front=True)


PUBSUB_WAKE_S = 1.0  # how often the worker's command listener wakes (rq: 60 s)


def worker_class() -> Any:
    try:
        from rq import SimpleWorker
    except ImportError as exc:
        raise MissingDependencyError(
            "the job queue needs rq and redis", hint="pip install 'personaforge[queue]'"
        ) from exc

    from rq.worker import WorkerStatus

    class PersonaForgeWorker(SimpleWorker):  # type: ignore[misc]
        """Runs jobs in its own process (no fork): `kill -9` of the worker ends its job too,
        so a job is never finished twice by a dead worker's orphaned work-horse.

        A thread keeps the running job's heartbeat fresh, with a short time to live, so a
        worker that dies on another machine leaves its job to the others within minutes
        instead of after the whole job timeout (SimpleWorker's own heartbeat)."""

        beat_s = _seconds("PERSONAFORGE_WORKER_HEARTBEAT_S", 30)

        def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
            return int(self.beat_s * 3 + 5)

        def execute_job(self, job: Any, queue: Any) -> None:
            execution = self.prepare_execution(job)
            stop = threading.Event()

            def beat() -> None:
                while not stop.wait(self.beat_s):
                    try:
                        self.maintain_heartbeats(job, execution)
                    except Exception as exc:  # a missed beat is retried at the next one
                        self.log.warning("job %s: heartbeat failed: %s", job.id, exc)

            beating = threading.Thread(target=beat, name="heartbeat", daemon=True)
            beating.start()
            try:
                self.perform_job(job, queue, execution)
            finally:
                stop.set()
                beating.join()
            self.set_state(WorkerStatus.IDLE)
            if job.get_meta(refresh=True).get("stage") == "stopped":
                hand_on(queue, job)

        def subscribe(self) -> None:
            """rq's, with the listening thread waking every second instead of every 60 s: at
            the worker's exit (a burst done, a SIGTERM) rq unsubscribes and then joins that
            thread, which waits out its sleep when it was between two reads, so a worker
            could take a minute to stop (seen: 60-130 s for a job of 4 s)."""
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(  # type: ignore[assignment]
                sleep_time=PUBSUB_WAKE_S,
                daemon=True,
                exception_handler=self._pubsub_exception_handler,
            )

        def handle_exception(self, job: Any, *exc_info: Any) -> None:
            if exc_info and isinstance(exc_info[1], Terminated):
                # Not a failure of the job: one line, no traceback.
                self.log.warning("job %s: %s; handed back", job.id, job.meta.get("error"))
                return
            super().handle_exception(job, *exc_info)  # type: ignore[no-untyped-call]

        def _install_signal_handlers(self) -> None:
            super()._install_signal_handlers()  # type: ignore[no-untyped-call]
            # SIGHUP as rq treats SIGTERM (between jobs: stop; in a job: the job's own
            # handler, see make_video_job); ignored if the worker was started to ignore it.
            if signal.getsignal(signal.SIGHUP) is not signal.SIG_IGN:
                signal.signal(signal.SIGHUP, self.request_stop)

        def run_maintenance_tasks(self) -> None:
            for queue in self.queues:
                for job_id in requeue_orphans(queue):
                    self.log.warning("job %s: its worker died; handed back to the queue", job_id)
            super().run_maintenance_tasks()  # type: ignore[no-untyped-call]

    return PersonaForgeWorker


def run_worker(
    conn: Any, queue_names: list[str], *, burst: bool, maintenance_s: int | None = None
) -> bool:
    """Run jobs until stopped (or, with ``burst``, until the queues are empty)."""
    from rq import Queue

    interval = maintenance_s or int(_seconds("PERSONAFORGE_WORKER_MAINTENANCE_S", 60))
    cls = worker_class()
    worker = cls(
        [Queue(name, connection=conn) for name in queue_names],
        connection=conn,
        name=f"{HOST}.{os.getpid()}.{uuid.uuid4().hex[:6]}",
        maintenance_interval=interval,
    )
    return bool(worker.work(burst=burst, with_scheduler=not burst, logging_level="WARNING"))
