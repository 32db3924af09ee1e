"""The job queue on a real redis-server and moto_server: workers drain a queue of projects,
one killed mid-job; bad input fails at once; a store that is down is retried."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from helpers import CLI, child_pids, run_cli, write_project

pytestmark = pytest.mark.slow

MOTO_REGION = "eu-west-1"
ACCESS_KEY = "pf-queue-access-1f2e"
SECRET_KEY = "pf-queue-secret-never-shown-9a8b"


# What publishing one video uploads (one heading: no chapters, YouTube needs three).
PER_VIDEO = (".mp4", ".vtt", ".srt", ".jpg")


def _env(moto: str, redis_url: str, home: Path, **extra: str) -> dict[str, str]:
    return {
        "HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_STATE_HOME": str(home / "state"),
        "R2_ENDPOINT": moto, "R2_ACCESS_KEY": ACCESS_KEY, "R2_SECRET_KEY": SECRET_KEY,
        "R2_BUCKET": "", "R2_PUBLIC_URL": "", "R2_PUBLIC_BASE_URL": "",
        "REDIS_URL": redis_url, "PERSONAFORGE_RETRY_SCALE": "0",
        **extra,
    }  # fmt: skip


def _bucket(s3_client: Any) -> str:
    name = f"pf-queue-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    return name


def _worker(env: dict[str, str], queue: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*CLI, "worker", "--queue", queue, *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _jobs(env: dict[str, str], queue: str) -> list[dict[str, Any]]:
    proc = run_cli("jobs", "--queue", queue, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    data: list[dict[str, Any]] = json.loads(proc.stdout)
    return data


def _meta(redis_url: str, job_id: str) -> dict[str, Any]:
    from redis import Redis
    from rq.job import Job

    meta: dict[str, Any] = Job.fetch(job_id, connection=Redis.from_url(redis_url)).get_meta()
    return meta


def _started_expiry(redis_url: str, queue: str, job_id: str) -> float | None:
    """When the job's entry in the started registry expires (its heartbeat's deadline)."""
    from redis import Redis
    from rq import Queue

    registry = Queue(queue, connection=Redis.from_url(redis_url)).started_job_registry
    for member, score in registry.connection.zrange(registry.key, 0, -1, withscores=True):
        if registry.parse_job_id(member) == job_id:
            return float(score)
    return None


def _fetch(url: str) -> bytes:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        resp = conn.getresponse()
        assert resp.status == 200, resp.status
        return resp.read()
    finally:
        conn.close()


def _stop(proc: subprocess.Popen[str]) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err or ""


def test_two_workers_one_killed_every_video_published_once(
    tmp_path: Path, moto_endpoint: str, redis_url: str, s3_client: Any
) -> None:
    bucket = _bucket(s3_client)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    # A short heartbeat: the running job's registry entry lives seconds, not the job timeout.
    # Real retry backoff (10 s): the dead worker's job must still go straight back in the queue.
    env = _env(moto_endpoint, redis_url, tmp_path, PERSONAFORGE_WORKER_HEARTBEAT_S="1",
               PERSONAFORGE_RETRY_SCALE="1")  # fmt: skip
    projects = [
        write_project(
            tmp_path / "src" / f"video{i}",
            f"# Video {i}\n\nThis is video {i}, first sentence.\nIts second sentence is here.\n"
            f"And a third one, number {i}.\n",
            extra=f"publish: {{target: 's3://{bucket}/videos'}}\n",
        )
        for i in range(3)
    ]
    (projects[0] / ".env").write_text(f"R2_SECRET_KEY={SECRET_KEY}\n")  # never uploaded
    proc = run_cli("enqueue", *map(str, projects), "--queue", queue, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    ids = [e["job"] for e in json.loads(proc.stdout)]
    assert len(set(ids)) == 3
    assert {j["status"] for j in _jobs(env, queue)} == {"queued"}

    # Two machines: separate work folders, nothing shared but Redis and the bucket.
    work_a, work_b, work_c = (tmp_path / f"work-{m}" for m in "abc")
    a = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_a)}, queue, "--burst")
    b = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_b)}, queue, "--burst")
    killed_job = None
    expiry: float | None = None
    try:
        deadline = time.monotonic() + 180
        while killed_job is None and time.monotonic() < deadline and a.poll() is None:
            for job_id in ids:
                meta = _meta(redis_url, job_id)
                if meta.get("pid") != a.pid or meta.get("stage") == "done":
                    continue
                clips = work_a / meta["bundle"][:16] / meta["name"] / "build" / "clips"
                if _shared(s3_client, bucket, clips):  # a clip made, shared, job not done
                    a.send_signal(signal.SIGKILL)
                    expiry = _started_expiry(redis_url, queue, job_id)
                    killed_job = job_id
                    break
            time.sleep(0.05)
        assert killed_job is not None, "worker A never got to a clip"
        a.wait()
        b_err = _stop_when_done(b)
        # Another worker (on the second machine) finds the dead worker's job and finishes it.
        c = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_c)}, queue, "--burst")
        c_err = _stop_when_done(c)
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()
    jobs = {j["id"]: j for j in _jobs(env, queue)}
    assert {jobs[i]["status"] for i in ids} == {"finished"}, (jobs, b_err, c_err)
    killed = _meta(redis_url, killed_job)
    assert killed["attempts"] == 2
    assert killed["pid"] != a.pid
    assert expiry is not None and expiry < time.time() + 3 * 1 + 5, expiry
    # It resumed: every speech shot and at least one clip came from the shared cache.
    assert killed["reused"]["speak"] >= 3 and killed["reused"]["lipsync"] >= 1, killed

    # Every video published exactly once: one content-hash folder per video, each with the
    # video, its captions (vtt, srt) and thumbnail.
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix="videos/")
    keys = [o["Key"] for o in listed.get("Contents", [])]
    published = [k for k in keys if not k.startswith(("videos/bundles/", "videos/shotcache/"))]
    folders = {k.rsplit("/", 1)[0] for k in published}
    assert len(folders) == 3 and len(published) == 3 * len(PER_VIDEO), published
    for folder in folders:
        names = sorted(k.rsplit("/", 1)[1] for k in published if k.startswith(folder + "/"))
        assert names == sorted(f"tiny-test{ext}" for ext in PER_VIDEO), names
    for job_id in ids:
        urls = jobs[job_id]["published"]
        assert len(urls) == len(PER_VIDEO) and all(u.startswith("http://127.0.0.1:") for u in urls)
        mp4 = next(u for u in urls if ".mp4?" in u)
        key = urlsplit(mp4).path.split("/", 2)[2]
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert _fetch(mp4) == body and len(body) > 1000
    # The project's .env (secrets) never went up with its bundle.
    for k in keys:
        obj = s3_client.get_object(Bucket=bucket, Key=k)["Body"].read()
        assert SECRET_KEY.encode() not in obj, k


def test_a_worker_dying_on_another_machine_is_noticed_by_its_heartbeat(
    tmp_path: Path, moto_endpoint: str, redis_url: str, s3_client: Any
) -> None:
    from redis import Redis
    from rq.job import Job

    bucket = _bucket(s3_client)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    env = _env(moto_endpoint, redis_url, tmp_path, PERSONAFORGE_WORKER_HEARTBEAT_S="1")
    folder = write_project(
        tmp_path / "src" / "far",
        "# Far\n\nA worker far away starts this.\nIt dies before the end.\nAnother one ends it.\n",
        extra=f"publish: {{target: 's3://{bucket}/videos'}}\n",
    )
    job_id = run_cli("enqueue", str(folder), "--queue", queue, env=env).stdout.strip()
    work_a = tmp_path / "work-a"
    a = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_a)}, queue, "--burst")
    try:
        deadline = time.monotonic() + 180
        while a.poll() is None and time.monotonic() < deadline:
            meta = _meta(redis_url, job_id)
            clips = work_a / meta.get("bundle", "")[:16] / "far" / "build" / "clips"
            if meta.get("pid") == a.pid and _shared(s3_client, bucket, clips):
                a.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
    finally:
        if a.poll() is None:
            a.kill()
        a.wait()
    assert a.returncode == -signal.SIGKILL
    # As if it had run on another machine: no pid to check, only the heartbeat that stopped.
    job = Job.fetch(job_id, connection=Redis.from_url(redis_url))
    job.meta["host"] = "a-machine-far-away"
    job.save_meta()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        expiry = _started_expiry(redis_url, queue, job_id)
        if expiry is None or expiry < time.time():
            break
        time.sleep(0.2)
    c = _worker({**env, "PERSONAFORGE_WORK_DIR": str(tmp_path / "work-c")}, queue, "--burst")
    err = _stop_when_done(c)
    shown = json.loads(run_cli("jobs", job_id, "--json", env=env).stdout)
    assert shown["status"] == "finished", (shown, err)
    assert shown["attempts"] == 2 and len(shown["published"]) == len(PER_VIDEO)
    assert _meta(redis_url, job_id)["reused"]["lipsync"] >= 1


def _shared(s3_client: Any, bucket: str, clips: Path) -> bool:
    """True once a clip made in ``clips`` has its record in the shared shot cache: a clip
    recorded locally is uploaded a moment later, and only a shared one can be reused."""
    made = {p.name for p in clips.glob("*.json")}
    if not made:
        return False
    listed = s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])
    return any(obj["Key"].rsplit("/", 1)[-1] in made for obj in listed)


def _stop_when_done(proc: subprocess.Popen[str]) -> str:
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    assert proc.returncode == 0, err
    return err or ""


def test_bad_input_fails_at_once_and_a_down_store_is_retried(
    tmp_path: Path, moto_endpoint: str, redis_url: str, s3_client: Any
) -> None:
    bucket = _bucket(s3_client)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    env = _env(moto_endpoint, redis_url, tmp_path)
    target = f"publish: {{target: 's3://{bucket}/v'}}\n"
    bad = write_project(tmp_path / "bad", extra=target + "backends: {lipsync: avtar}\n")
    good = write_project(tmp_path / "good", extra=target)
    bad_id = run_cli("enqueue", str(bad), "--queue", queue, env=env).stdout.strip()
    worker = _worker({**env, "PERSONAFORGE_WORK_DIR": str(tmp_path / "w1")}, queue, "--burst")
    _stop_when_done(worker)
    shown = json.loads(run_cli("jobs", bad_id, "--json", env=env).stdout)
    assert shown["status"] == "failed" and shown["attempts"] == 1
    assert "avtar" in shown["reason"] and "lipsync" in shown["reason"]

    # The worker's store is down: a fault worth retrying, up to the limit, then failed.
    down = run_cli("enqueue", str(good), "--queue", queue, env=env).stdout.strip()
    dead_store = {"R2_ENDPOINT": "http://127.0.0.1:9", "PERSONAFORGE_S3_ATTEMPTS": "1"}
    worker = _worker({**env, **dead_store, "PERSONAFORGE_WORK_DIR": str(tmp_path / "w2")},
                     queue, "--burst")  # fmt: skip
    _stop_when_done(worker)
    shown = json.loads(run_cli("jobs", down, "--json", env=env).stdout)
    assert shown["status"] == "failed" and shown["attempts"] == 4, shown
    assert "cannot read" in shown["reason"]
    assert SECRET_KEY not in json.dumps(shown)


def test_cancel_a_queued_job_and_enqueue_refuses_a_local_target(
    tmp_path: Path, moto_endpoint: str, redis_url: str, s3_client: Any
) -> None:
    bucket = _bucket(s3_client)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    env = _env(moto_endpoint, redis_url, tmp_path)
    folder = write_project(tmp_path / "p", extra=f"publish: {{target: 's3://{bucket}/v'}}\n")
    job_id = run_cli("enqueue", str(folder), "--queue", queue, env=env).stdout.strip()
    # The same inputs again, while the job waits: the same bundle, and the same job (a second
    # one beside it would make the same video, and pay for its shots twice).
    proc = run_cli("enqueue", str(folder), "--queue", queue, "--json", env=env)
    again = json.loads(proc.stdout)
    assert again[0]["bundle"] in json.dumps(_meta(redis_url, job_id))
    assert (again[0]["job"], again[0]["queued_before"]) == (job_id, "queued")
    assert f"already queued as {job_id}" in proc.stderr
    assert [j["id"] for j in _jobs(env, queue)] == [job_id]
    proc = run_cli("jobs", "cancel", job_id, env=env)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(run_cli("jobs", job_id, "--json", env=env).stdout)["status"] == "canceled"
    # Once that job is over (cancelled, failed or done), the same inputs are queued anew.
    proc = run_cli("enqueue", str(folder), "--queue", queue, "--json", env=env)
    anew = json.loads(proc.stdout)[0]
    assert anew["job"] != job_id and anew["queued_before"] is None
    proc = run_cli("jobs", "cancel", anew["job"], env=env)
    assert proc.returncode == 0, proc.stderr
    # --watch ends by itself once no job is waiting or running.
    watched = subprocess.run(
        [*CLI, "jobs", "--queue", queue, "--watch"],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.count(job_id) == 1
    assert watched.stdout.count("canceled") == 2, watched.stdout
    local = write_project(tmp_path / "local")
    refused = run_cli("enqueue", str(local), "--queue", queue, env=env)
    assert refused.returncode == 1 and "publish.target" in refused.stderr
    no_redis = run_cli("jobs", env={**env, "REDIS_URL": ""})
    assert no_redis.returncode == 1 and "REDIS_URL" in no_redis.stderr


def test_sigterm_stops_a_job_cleanly_and_another_worker_resumes_it(
    tmp_path: Path, moto_endpoint: str, redis_url: str, s3_client: Any
) -> None:
    bucket = _bucket(s3_client)
    queue = f"q-{uuid.uuid4().hex[:8]}"
    # Real retry backoff (10 s): the stopped job must still go straight back in the queue.
    env = _env(moto_endpoint, redis_url, tmp_path, PERSONAFORGE_RETRY_SCALE="1")
    script = "# Stopped\n\n" + "\n".join(
        f"Sentence {n} is spoken here, so the job takes a little while." for n in range(6)
    )
    project = write_project(
        tmp_path / "src" / "v", script, extra=f"publish: {{target: 's3://{bucket}/v'}}\n"
    )
    proc = run_cli("enqueue", str(project), "--queue", queue, "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    job_id = json.loads(proc.stdout)[0]["job"]
    work_a, work_b = tmp_path / "work-a", tmp_path / "work-b"
    a = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_a)}, queue, "--burst")
    try:
        deadline = time.monotonic() + 180
        folder = None
        while time.monotonic() < deadline and a.poll() is None:
            meta = _meta(redis_url, job_id)
            if meta.get("pid") == a.pid and "bundle" in meta:
                folder = work_a / meta["bundle"][:16] / meta["name"]
                if _shared(s3_client, bucket, folder / "build" / "clips"):
                    break
            time.sleep(0.05)
        assert folder is not None and a.poll() is None, "worker A never got to a clip"
        a.send_signal(signal.SIGTERM)
        _, a_err = a.communicate(timeout=120)
    finally:
        if a.poll() is None:
            a.kill()
            a.wait()
    assert a.returncode == 0, a_err
    assert "Traceback" not in a_err
    assert not (folder / ".personaforge.lock").exists()
    assert [p for p in (folder / "build").rglob("*") if ".tmp" in p.name] == []
    assert child_pids(a.pid, live=True) == []
    meta = _meta(redis_url, job_id)
    assert meta["stage"] == "stopped" and "SIGTERM" in meta["error"], meta
    assert {j["status"] for j in _jobs(env, queue)} == {"queued"}  # at once, no backoff

    b = _worker({**env, "PERSONAFORGE_WORK_DIR": str(work_b)}, queue, "--burst")
    b_err = _stop_when_done(b)
    jobs = {j["id"]: j for j in _jobs(env, queue)}
    assert jobs[job_id]["status"] == "finished", (jobs, b_err)
    meta = _meta(redis_url, job_id)
    assert meta["attempts"] == 2 and meta["pid"] == b.pid
    assert meta["reused"]["speak"] >= 1 and meta["reused"]["lipsync"] >= 1, meta


def test_the_worker_listener_wakes_often_so_the_worker_stops_at_once(redis_url: str) -> None:
    """rq's command listener sleeps 60 s between reads, and rq joins it when the worker
    stops: a burst worker done, or one sent SIGTERM, then took up to a minute to exit."""
    import redis
    from rq import Queue

    from personaforge.queue.work import PUBSUB_WAKE_S, worker_class

    conn = redis.Redis.from_url(redis_url)
    worker = worker_class()([Queue(f"q-{uuid.uuid4().hex[:8]}", connection=conn)], connection=conn)
    worker.subscribe()
    try:
        assert worker.pubsub_thread.sleep_time == PUBSUB_WAKE_S <= 1.0
        assert worker.pubsub_thread.is_alive()
    finally:
        worker.unsubscribe()
    assert not worker.pubsub_thread.is_alive()
