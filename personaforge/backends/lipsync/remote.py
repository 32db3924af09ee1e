"""What the cloud lip-sync backends share beyond cloud.py: the still they animate (the photo
placed in the shot's frame), the job key they journal under, and how long they wait."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from personaforge.backends.base import AnimationRequest, LipsyncSetup
from personaforge.backends.cloud import FINAL_STATES, JobJournal, JobState, RetryPolicy, poll_job
from personaforge.envnum import env_number
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file

DEFAULT_TIMEOUT_S = 1800.0


def timeout_s(env: Mapping[str, str]) -> float:
    """The most time to wait for one remote clip (``PERSONAFORGE_JOB_TIMEOUT_S``)."""
    return env_number(env, "PERSONAFORGE_JOB_TIMEOUT_S", DEFAULT_TIMEOUT_S, unit="seconds", low=0.0)


def poll_interval(policy: RetryPolicy) -> float:
    # Scaled like the retry delays, so tests (and gateways) can tune both at once.
    return max(0.005, 2.0 * policy.scale)


def require_setup(setup: LipsyncSetup | None, name: str) -> LipsyncSetup:
    if setup is None:
        raise PersonaForgeError(f"the {name} lip-sync backend needs the project's setup")
    return setup


def still(setup: LipsyncSetup, request: AnimationRequest, out: Path) -> None:
    """The portrait placed in the shot's frame, as a PNG: models animate what they are given,
    so the clip they return already has the shot's framing and aspect."""
    from PIL import Image

    from personaforge.backends.lipsync.photo import PhotoLipsync

    animator = PhotoLipsync(setup).animator(request)
    frame = next(iter(animator.frames([], 1)))
    img = Image.frombytes("RGB", (request.width, request.height), frame)
    with atomic_path(out) as tmp:
        img.save(tmp, format="PNG")


def job_key(provider: str, version: str, request: AnimationRequest, **inputs: Path) -> str:
    """What the remote job was made from: same key, same job (the one already paid for)."""
    return canonical_hash(
        {
            "provider": provider,
            "version": version,
            "size": [request.width, request.height, request.fps],
            "seed": request.seed,
            **{name: sha256_file(path) for name, path in sorted(inputs.items())},
        }
    )


def wait(
    fetch: Callable[[], JobState],
    journal: JobJournal,
    key: str,
    *,
    what: str,
    env: Mapping[str, str],
) -> JobState:
    """Poll a journalled job to its end. A job that failed is forgotten (the next run starts a
    new one); one still running when the wait runs out stays recorded, to be resumed."""
    policy = RetryPolicy.from_env(env)
    last: list[JobState] = []
    try:
        return poll_job(
            fetch,
            what=what,
            timeout_s=timeout_s(env),
            interval_s=poll_interval(policy),
            max_interval_s=max(poll_interval(policy), 15.0 * policy.scale),
            sleep=policy.sleep,
            on_state=last.append,
        )
    except PersonaForgeError:
        if last and last[-1].status in FINAL_STATES:
            journal.forget(key)
        raise
