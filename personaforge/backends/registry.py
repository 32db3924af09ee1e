"""Lazy registry of backends per stage kind: name -> import path, with an install hint."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

from personaforge.backends.base import (
    Aligner,
    LipsyncBackend,
    Planner,
    Storage,
    StorageSetup,
    TTSBackend,
)
from personaforge.backends.rates import FREE, Rates
from personaforge.errors import MissingDependencyError, PersonaForgeError

Kind = Literal["plan", "speak", "lipsync", "align"]

# The modules each optional extra installs. Backends import their SDK lazily (importing an SDK
# can take seconds), so the registry checks these are there when a backend is chosen: a
# missing one is an install hint before any work, never a crash halfway.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "elevenlabs": ("elevenlabs",),
    "claude": ("anthropic",),
    "replicate": ("replicate",),
    "runpod": ("runpod", "boto3"),
    "r2": ("boto3",),
    "queue": ("rq", "redis", "boto3"),
}


@dataclass(frozen=True)
class Entry:
    target: str  # "module:attribute"
    description: str
    extra: str | None = None  # the pip extra that provides its dependencies


REGISTRY: dict[Kind, dict[str, Entry]] = {
    "plan": {
        "offline": Entry(
            "personaforge.backends.planner.offline:OfflinePlanner",
            "deterministic offline director (sentences to shots)",
        ),
        "claude": Entry(
            "personaforge.backends.planner.claude:ClaudePlanner",
            "Claude director: groups the script's sentences into shots and directs them",
            extra="claude",
        ),
    },
    "speak": {
        "piper": Entry(
            "personaforge.backends.tts.piper:PiperTTS",
            "offline neural voice (piper-tts, en_US joe) with phoneme alignments",
        ),
        "espeak": Entry(
            "personaforge.backends.tts.espeak:EspeakTTS",
            "offline draft voice for other languages (espeak-ng, formant synthesis)",
        ),
        "elevenlabs": Entry(
            "personaforge.backends.tts.elevenlabs:ElevenLabsTTS",
            "ElevenLabs voices with character timestamps (ELEVENLABS_API_KEY)",
            extra="elevenlabs",
        ),
    },
    "lipsync": {
        "avatar": Entry(
            "personaforge.backends.lipsync.avatar:AvatarLipsync",
            "offline 2D illustrated avatar drawn per viseme",
        ),
        "photo": Entry(
            "personaforge.backends.lipsync.photo:PhotoLipsync",
            "offline photo animator: the persona's portrait (look.photo) warped per viseme",
        ),
        "sadtalker": Entry(
            "personaforge.backends.lipsync.sadtalker:SadTalkerLipsync",
            "SadTalker on Replicate: the portrait lip-synced in the cloud",
            extra="replicate",
        ),
        "latentsync": Entry(
            "personaforge.backends.lipsync.latentsync:LatentSyncLipsync",
            "LatentSync on a RunPod serverless endpoint (our worker, deploy/runpod)",
            extra="runpod",
        ),
    },
    # Who finds the script's words in a recorded take (video.yaml's narration.align).
    "align": {
        "offline": Entry(
            "personaforge.backends.align.offline:OfflineAligner",
            "offline: time-warps the take against the offline voice saying the script",
        ),
        "elevenlabs": Entry(
            "personaforge.backends.align.elevenlabs:ElevenLabsAligner",
            "ElevenLabs forced alignment (ELEVENLABS_API_KEY)",
            extra="elevenlabs",
        ),
    },
}


# Where `publish` puts the files, by video.yaml's publish target: its URL scheme
# ("s3://bucket/prefix") or the target itself ("local"; "r2", the bucket in R2_BUCKET).
STORAGE: dict[str, Entry] = {
    "local": Entry(
        "personaforge.backends.storage.local:LocalStorage",
        "a folder in the project (published/), file:// links",
    ),
    "s3": Entry(
        "personaforge.backends.storage.s3:S3Storage",
        "S3-compatible storage: Cloudflare R2, AWS S3, MinIO (R2_* variables)",
        extra="r2",
    ),
    "r2": Entry(
        "personaforge.backends.storage.s3:S3Storage",
        "Cloudflare R2, the bucket from R2_BUCKET (R2_* variables)",
        extra="r2",
    ),
}


def storage_name(target: str) -> str:
    """The ``STORAGE`` entry a target names: its URL scheme, or the target itself."""
    scheme, sep, _ = target.partition("://")
    return scheme if sep else target


def storage(setup: StorageSetup) -> Storage:
    """The store for ``setup.target``, built by its own ``from_setup``."""
    name = storage_name(setup.target)
    entry = STORAGE.get(name)
    if entry is None:
        raise PersonaForgeError(
            f"storage target {setup.target!r} is not understood",
            field="target",
            hint=f"one of: {', '.join(sorted(STORAGE))} (s3://bucket/prefix)",
        )
    found: type[Storage] = _load("storage", name, entry)
    return found.from_setup(setup)


def names(kind: Kind) -> list[str]:
    return sorted(REGISTRY[kind])


@overload
def resolve(kind: Literal["plan"], name: str) -> type[Planner]: ...
@overload
def resolve(kind: Literal["speak"], name: str) -> type[TTSBackend]: ...
@overload
def resolve(kind: Literal["lipsync"], name: str) -> type[LipsyncBackend]: ...
@overload
def resolve(kind: Literal["align"], name: str) -> type[Aligner]: ...


def resolve(kind: Kind, name: str) -> Callable[..., Any]:
    """Import and return the backend class registered as ``name``; clear errors otherwise."""
    entry = REGISTRY[kind].get(name)
    if entry is None:
        raise PersonaForgeError(
            f"unknown {kind} backend {name!r}; available: {', '.join(names(kind))}",
            field=f"backends.{kind}",
        )
    factory: Callable[..., Any] = _load(kind, name, entry)
    return factory


def _load(kind: str, name: str, entry: Entry) -> Any:
    module_name, _, attr = entry.target.partition(":")
    hint = f"pip install 'personaforge[{entry.extra}]'" if entry.extra else None
    for needed in EXTRA_MODULES.get(entry.extra or "", ()):
        if importlib.util.find_spec(needed) is None:
            raise MissingDependencyError(
                f"the {kind} backend {name!r} needs {needed}", hint=hint
            ) from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise MissingDependencyError(
            f"the {kind} backend {name!r} needs {exc.name or 'a missing package'}", hint=hint
        ) from None
    factory: Callable[..., Any] = getattr(module, attr)
    return factory


def rates(kind: Kind, name: str) -> Rates:
    """What ``name``'s work costs, from its module's ``RATES`` (beside the backend): free and
    instant for a backend that declares none, or one not registered (make-video refuses it)."""
    entry = REGISTRY[kind].get(name)
    if entry is None:
        return FREE
    try:
        module = importlib.import_module(entry.target.partition(":")[0])
    except ImportError:
        return FREE
    found = getattr(module, "RATES", FREE)
    return found if isinstance(found, Rates) else FREE
