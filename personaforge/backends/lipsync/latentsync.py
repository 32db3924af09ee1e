"""LatentSync on a RunPod serverless endpoint (the worker in deploy/runpod), through the official
``runpod`` SDK (``RUNPOD_API_KEY``, ``RUNPOD_ENDPOINT_ID``, ``RUNPOD_ENDPOINT_BASE_URL``).

LatentSync re-renders the mouth of a video, so the portrait goes as a silent idle clip made by
the offline photo animator, with the shot's audio. Media travel as presigned URLs on the
project's S3/R2 storage: request payloads are capped, and results are kept only briefly.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import Any, Final

from personaforge.backends.base import AnimationRequest, LipsyncBackend, LipsyncSetup
from personaforge.backends.cloud import (
    Fault,
    FaultKind,
    JobJournal,
    JobState,
    RemoteError,
    RetryPolicy,
    base_url,
    call_with_retries,
    download,
    fault_for_status,
    require_key,
)
from personaforge.backends.lipsync import remote
from personaforge.backends.rates import Rates, gpu_seconds
from personaforge.costs import Billing, bill
from personaforge.errors import MissingDependencyError
from personaforge.progress import Progress

PROVIDER: Final = "runpod"
KEY_NAME: Final = "RUNPOD_API_KEY"
ENDPOINT_NAME: Final = "RUNPOD_ENDPOINT_ID"
BASE_URL_NAME: Final = "RUNPOD_ENDPOINT_BASE_URL"
DEFAULT_BASE_URL: Final = "https://api.runpod.ai/v2"
MEDIA_PREFIX: Final = "personaforge-jobs"
URL_LIFETIME_S: Final = 6 * 3600  # long enough for a queued job to start and finish

_STATES: Final = {
    "IN_QUEUE": "queued",
    "IN_PROGRESS": "running",
    "COMPLETED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "TIMED_OUT": "timed_out",
}


def classify(exc: BaseException) -> Fault | None:
    import requests
    from runpod.endpoint.helpers import UNAUTHORIZED_MSG

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        text = exc.response.text.strip().splitlines()[:1] or [exc.response.reason or "error"]
        return fault_for_status(exc.response.status_code, text[0][:200], key_name=KEY_NAME)
    if isinstance(exc, RuntimeError) and str(exc) == UNAUTHORIZED_MSG:
        return Fault(FaultKind.FATAL, "HTTP 401: unauthorized", hint=f"check {KEY_NAME}")
    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return Fault(FaultKind.RETRY, f"network error: {type(exc).__name__}")
    return None


def media_storage(setup: LipsyncSetup) -> Any:
    """The project's S3/R2 storage: the publish target if it is one, else the R2_* variables."""
    from personaforge.backends.storage.s3 import S3Storage

    target = setup.storage_target if setup.storage_target != "local" else "r2"
    try:
        return S3Storage.from_target(target, setup.env)
    except MissingDependencyError as exc:
        raise MissingDependencyError(
            "the latentsync lip-sync sends its media by URL and needs S3/R2 storage: "
            + exc.message,
            hint="set R2_ENDPOINT, R2_ACCESS_KEY, R2_SECRET_KEY and R2_BUCKET (or publish to "
            "s3://bucket/prefix)",
        ) from None


class LatentSyncLipsync(LipsyncBackend):
    name = "latentsync"
    version = "1"

    def __init__(self, setup: LipsyncSetup | None = None) -> None:
        self.setup = setup

    @classmethod
    def from_setup(cls, setup: LipsyncSetup) -> LatentSyncLipsync:
        import runpod  # noqa: F401  (a missing SDK fails here, with the install hint)

        what = "the latentsync lip-sync (RunPod)"
        require_key(setup.env, KEY_NAME, what=what)
        require_key(setup.env, ENDPOINT_NAME, what=what)
        media_storage(setup)
        from personaforge.backends.lipsync.photo import PhotoLipsync

        PhotoLipsync.from_setup(setup)
        return cls(setup)

    def _endpoint(self, setup: LipsyncSetup) -> Any:
        import runpod
        from runpod.endpoint.runner import Endpoint

        # The SDK reads its base URL from a module setting when a client is made.
        runpod.endpoint_url_base = base_url(setup.env, BASE_URL_NAME) or DEFAULT_BASE_URL
        key = require_key(setup.env, KEY_NAME, what="the latentsync lip-sync (RunPod)")
        endpoint_id = require_key(setup.env, ENDPOINT_NAME, what="the latentsync lip-sync")
        return Endpoint(endpoint_id, api_key=key)

    def render(
        self, request: AnimationRequest, audio: Path, out: Path, progress: Progress
    ) -> list[Billing]:
        from personaforge.backends.lipsync.photo import PhotoLipsync
        from personaforge.fsutil import sha256_file

        setup = remote.require_setup(self.setup, self.name)
        endpoint = self._endpoint(setup)
        storage = media_storage(setup)
        policy = RetryPolicy.from_env(setup.env)
        journal = JobJournal(setup.jobs)
        assert setup.photo is not None  # from_setup checked the portrait
        key = remote.job_key(PROVIDER, f"{self.version}:{endpoint.endpoint_id}", request,
                             photo=setup.photo, audio=audio)  # fmt: skip
        folder = f"{MEDIA_PREFIX}/{key[:24]}"
        found = journal.get(key, PROVIDER)
        if found is not None:
            job_id = str(found["job_id"])
            progress.log(f"latentsync: resuming RunPod job {job_id}")
        else:
            with tempfile.TemporaryDirectory(prefix="pf-latentsync-") as tmp:
                idle = Path(tmp) / "idle.mp4"
                # The face without speech: LatentSync draws the mouth from the audio.
                quiet = dataclasses.replace(request, visemes=[])
                photo = PhotoLipsync(setup)
                photo.render(quiet, audio, idle, progress)
                fx, fy, fw, fh = photo.animator(quiet).face
                for name, path, kind in (("face.mp4", idle, "video/mp4"),
                                         ("audio.wav", audio, "audio/wav")):  # fmt: skip
                    storage.put(path, f"{folder}/{name}", sha256_file(path), kind)
            payload = {
                "audio_url": storage.presigned_url(f"{folder}/audio.wav", expires_s=URL_LIFETIME_S),
                "face_url": storage.presigned_url(f"{folder}/face.mp4", expires_s=URL_LIFETIME_S),
                "result_put_url": storage.presigned_url(
                    f"{folder}/result.mp4", method="put", expires_s=URL_LIFETIME_S
                ),
                "fps": request.fps,
                "width": request.width,
                "height": request.height,
                "frames": request.frames,
                # Where the face is in the idle clip: the worker need not find it again.
                "face_box": [round(fx), round(fy), round(fw), round(fh)],
            }
            job = call_with_retries(
                lambda: endpoint.run({"input": payload}),
                classify,
                what="RunPod LatentSync",
                policy=policy,
            )
            job_id = str(job.job_id)
            # Recorded before any waiting: an interrupted run resumes this job.
            journal.put(key, PROVIDER, job_id, endpoint=endpoint.endpoint_id)

        def fetch() -> JobState:
            data = call_with_retries(
                lambda: endpoint.rp_client.get(f"{endpoint.endpoint_id}/status/{job_id}"),
                classify,
                what="RunPod LatentSync",
                policy=policy,
            )
            status = _STATES.get(str(data.get("status")), "running")
            error = data.get("error")
            metrics = {}
            if isinstance(data.get("executionTime"), (int, float)):
                metrics["execution_s"] = float(data["executionTime"]) / 1000
            return JobState(
                status=status,  # type: ignore[arg-type]
                output=data.get("output"),
                error=_one_line(error) if error else None,
                metrics=metrics,
            )

        state = remote.wait(fetch, journal, key, what=f"RunPod job {job_id}", env=setup.env)
        output = state.output if isinstance(state.output, dict) else {}
        engine = output.get("engine", "unknown")
        if engine != "latentsync":
            progress.log(
                f"latentsync: the worker ran {engine!r}, not LatentSync: "
                f"{output.get('note', 'no LatentSync weights on the worker')}"
            )
        download(
            storage.presigned_url(f"{folder}/result.mp4"),
            out,
            what="downloading the LatentSync clip",
            policy=policy,
        )
        if not out.is_file() or out.stat().st_size == 0:
            raise RemoteError(f"RunPod job {job_id} left no clip")
        journal.forget(key)
        seconds = state.metrics.get("execution_s", 0.0)
        return [bill(PROVIDER, "gpu_second", seconds, request_id=job_id)]


def _one_line(error: object) -> str:
    """The service's message, in one line: a handler's crash arrives as a JSON report."""
    import json

    text = str(error)
    try:
        report = json.loads(text)
    except ValueError:
        report = None
    if isinstance(report, dict) and report.get("error_message"):
        text = str(report["error_message"])
    lines = text.strip().splitlines()
    return lines[0][:300] if lines else "no message"


# Waited for per clip, and GPU seconds billed per job on a 24 GB RunPod serverless worker.
RATES = Rates(per_call_s=20.0, per_audio_s=4.0, units=gpu_seconds("runpod", 10.0, 4.0))
