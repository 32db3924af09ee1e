"""SadTalker on Replicate: the portrait and the shot's audio in, a talking-head clip out,
through the official ``replicate`` SDK (``REPLICATE_API_TOKEN``, ``REPLICATE_BASE_URL``)."""

from __future__ import annotations

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
from personaforge.progress import Progress

MODEL: Final = "cjwbw/sadtalker"
# The model version is pinned, here only: a new version makes new clips (it is part of the
# backend's version, hence of every clip's cache key), never a silent change.
MODEL_VERSION: Final = "3aa3dac9353cc4d6bd62a8f95957bd844003b401ca4e4a9b33baa574c549d376"
KEY_NAME: Final = "REPLICATE_API_TOKEN"
PROVIDER: Final = "replicate"

_STATES: Final = {
    "starting": "queued",
    "processing": "running",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "cancelled",
}


def classify(exc: BaseException) -> Fault | None:
    """Replicate's errors (RFC 7807 problem details) and dropped connections, as faults."""
    import httpx
    from replicate.exceptions import ReplicateError

    if isinstance(exc, ReplicateError):
        detail = exc.detail or exc.title or "error"
        return fault_for_status(exc.status or 0, detail, key_name=KEY_NAME)
    if isinstance(exc, httpx.TransportError):
        return Fault(FaultKind.RETRY, f"network error: {type(exc).__name__}")
    return None


class SadTalkerLipsync(LipsyncBackend):
    name = "sadtalker"
    version = f"1+{MODEL_VERSION[:16]}"

    def __init__(self, setup: LipsyncSetup | None = None) -> None:
        self.setup = setup

    @classmethod
    def from_setup(cls, setup: LipsyncSetup) -> SadTalkerLipsync:
        import replicate  # noqa: F401  (a missing SDK fails here, with the install hint)

        require_key(setup.env, KEY_NAME, what="the sadtalker lip-sync (Replicate)")
        from personaforge.backends.lipsync.photo import PhotoLipsync

        PhotoLipsync.from_setup(setup)  # the portrait must be usable before anything is paid
        return cls(setup)

    def _client(self, setup: LipsyncSetup) -> Any:
        from replicate.client import Client

        token = require_key(setup.env, KEY_NAME, what="the sadtalker lip-sync (Replicate)")
        return Client(api_token=token, base_url=base_url(setup.env, "REPLICATE_BASE_URL"))

    def render(
        self, request: AnimationRequest, audio: Path, out: Path, progress: Progress
    ) -> list[Billing]:
        setup = remote.require_setup(self.setup, self.name)
        client = self._client(setup)
        policy = RetryPolicy.from_env(setup.env)
        journal = JobJournal(setup.jobs)
        with tempfile.TemporaryDirectory(prefix="pf-sadtalker-") as tmp:
            image = Path(tmp) / "face.png"
            remote.still(setup, request, image)
            key = remote.job_key(PROVIDER, MODEL_VERSION, request, image=image, audio=audio)
            found = journal.get(key, PROVIDER)
            if found is not None:
                prediction_id = str(found["job_id"])
                progress.log(f"sadtalker: resuming Replicate prediction {prediction_id}")
            else:
                urls = {
                    name: call_with_retries(
                        lambda path=path: client.files.create(path).urls["get"],  # type: ignore[misc]
                        classify,
                        what=f"uploading the {name} to Replicate",
                        policy=policy,
                    )
                    for name, path in (("source_image", image), ("driven_audio", audio))
                }
                created = call_with_retries(
                    lambda: client.predictions.create(
                        version=MODEL_VERSION,
                        input={**urls, "preprocess": "full", "still": True, "enhancer": "gfpgan"},
                    ),
                    classify,
                    what="Replicate SadTalker",
                    policy=policy,
                )
                prediction_id = str(created.id)
                # Recorded before any waiting: an interrupted run resumes this prediction.
                journal.put(key, PROVIDER, prediction_id, model=f"{MODEL}:{MODEL_VERSION}")

            def fetch() -> JobState:
                p = call_with_retries(
                    lambda: client.predictions.get(prediction_id),
                    classify,
                    what="Replicate SadTalker",
                    policy=policy,
                )
                metrics = {
                    k: float(v) for k, v in (p.metrics or {}).items() if isinstance(v, (int, float))
                }
                return JobState(
                    status=_STATES.get(p.status, "running"),  # type: ignore[arg-type]
                    output=p.output,
                    error=p.error if isinstance(p.error, str) else None,
                    metrics=metrics,
                )

            state = remote.wait(
                fetch, journal, key, what=f"Replicate prediction {prediction_id}", env=setup.env
            )
            url = state.output[0] if isinstance(state.output, list) else state.output
            if not isinstance(url, str) or not url:
                journal.forget(key)
                raise RemoteError(f"Replicate prediction {prediction_id} returned no video")
            download(url, out, what="downloading the SadTalker clip", policy=policy)
            journal.forget(key)
        seconds = state.metrics.get("predict_time", 0.0)
        return [bill(PROVIDER, "gpu_second", seconds, request_id=prediction_id)]


# Waited for per clip (the local encode is the lipsync stage's), and GPU seconds billed per
# prediction: rough, measured on typical 5-10 s shots on an A100.
RATES = Rates(per_call_s=25.0, per_audio_s=3.0, units=gpu_seconds("replicate", 8.0, 3.0))
