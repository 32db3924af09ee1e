"""What every stage shares: its context, its result, and the check of whether it is up to date."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TypedDict, TypeVar

from pydantic import BaseModel, ValidationError

from personaforge import __version__
from personaforge.core.manifests import Recorded
from personaforge.core.project import Project
from personaforge.core.specs import Brand, Persona, VideoSpec
from personaforge.core.yamlio import (
    MAX_MANIFEST_BYTES,
    dump_model,
    line_of,
    load_model,
)
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text, canonical_hash, sha256_file
from personaforge.progress import NullProgress, Progress
from personaforge.runtime import shotcache
from personaforge.runtime.work import StageWork

R = TypeVar("R", bound=Recorded)
B = TypeVar("B", bound=BaseModel)


@dataclass
class Context:
    project: Project
    persona: Persona
    video: VideoSpec
    progress: Progress = field(default_factory=NullProgress)
    force: bool = False
    env: Mapping[str, str] | None = None  # None: the process environment and the project .env
    # Manifests known to be current in this run, by stage: each is checked once.
    verified: dict[str, Recorded] = field(default_factory=dict)
    # How long presigned publish links live (--expires); None: the storage's default.
    url_expires_s: int | None = None
    # The shared shot cache: --cache over video.yaml's `cache`; opened on first use, once for
    # the run (the stages' copies of the context share the dict).
    cache_url: str | None = None
    shot_cache: dict[str, shotcache.RemoteShotCache | None] = field(default_factory=dict)
    # The shot records this run wrote (save_shot): with --force every shot is made again,
    # and a shot repeated in the video (or asked for twice) is still made, and paid for, once.
    made: set[Path] = field(default_factory=set)
    # make-video --debug-overlay: the talking clips show what drove the face (media.overlay).
    debug_overlay: bool = False

    def environment(self) -> Mapping[str, str]:
        """Where backends read keys and settings: the environment given (tests, the queue
        worker), else the process's over the project's .env."""
        return self.env if self.env is not None else self.project.environment()

    @classmethod
    def load(
        cls,
        project: Project,
        *,
        progress: Progress | None = None,
        force: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> Context:
        return cls(
            project=project,
            persona=project.load_persona(),
            video=project.load_video(),
            progress=progress or NullProgress(),
            force=force,
            env=env,
        )


@dataclass
class StageResult:
    stage: str
    manifest: Path
    ran: bool
    reason: str
    shots: int = 0
    reused: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ran" if self.ran else "skipped",
            "reason": self.reason,
            "manifest": str(self.manifest),
            "shots": self.shots,
            "reused_shots": self.reused,
        }


class RecordedFields(TypedDict):
    key: str
    inputs: dict[str, str]
    backend: str
    backend_version: str
    tool_version: str


def recorded_fields(inputs: dict[str, str], backend: str = "", version: str = "") -> RecordedFields:
    """The fields every recorded manifest shares (its stage name comes from its model)."""
    return {
        "key": canonical_hash(inputs),
        "inputs": inputs,
        "backend": backend,
        "backend_version": version,
        "tool_version": __version__,
    }


def load_recorded(model: type[R], path: Path, *, check_seal: bool = True) -> R | None:
    """The previous manifest, or None if there is none or it cannot be trusted. Without
    ``check_seal`` a hand-edited one is read all the same (what `cache gc` must keep)."""
    if not path.is_file():
        return None
    try:
        return load_model(model, path, max_bytes=MAX_MANIFEST_BYTES, sealed=check_seal)
    except PersonaForgeError:
        return None


def untrusted_reason(path: Path) -> str:
    """Why the record at ``path`` was not used (it exists, but load_recorded gave None)."""
    from personaforge.core.manifests import MANIFEST_MODELS
    from personaforge.core.project import MANIFEST_NAMES

    stage = next((s for s, name in MANIFEST_NAMES.items() if name == path.name), None)
    if stage is None:
        return f"{path.name} is not a valid record"
    try:
        load_model(MANIFEST_MODELS[stage], path, max_bytes=MAX_MANIFEST_BYTES, sealed=True)
    except PersonaForgeError as exc:
        field = f"{exc.field}: " if exc.field else ""
        return f"{path.name} is not trusted: {field}{exc.message}; it will be rebuilt"
    return f"{path.name} is not a valid record"


def changed_inputs(old: dict[str, str], new: dict[str, str]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def output_problem(project: Project, outputs: Iterable[tuple[str, str]]) -> str | None:
    """Why recorded outputs can't be reused: the first missing or modified file, else None."""
    for rel, sha in outputs:
        path = project.root / rel
        if not path.is_file():
            return f"output {rel} is missing"
        if sha256_file(path) != sha:
            return f"output {rel} was modified"
    return None


def why_rerun(
    project: Project,
    previous: Recorded | None,
    inputs: dict[str, str],
    *,
    force: bool = False,
    path: Path | None = None,
) -> str | None:
    """None if the stage is up to date, else the reason it must run (cheapest check first).
    ``path``: where ``previous`` was read from, to say why a record there was not used."""
    if force:
        return "forced with --force"
    if previous is None:
        if path is not None and path.is_file():
            return untrusted_reason(path)
        return "no previous run"
    if previous.key != canonical_hash(inputs):
        changed = changed_inputs(previous.inputs, inputs)
        return "changed: " + ", ".join(changed) if changed else "inputs changed"
    return output_problem(project, previous.outputs())


@dataclass(frozen=True)
class Stage:
    """What a stage module declares (its ``STAGE``): the manifest it records, what its key
    hashes, and how it makes that manifest when the recorded one is not current.

    ``run_stage`` does the rest the same way for every stage: the key checked against the
    record (and ``recorded_problem``, a stage's own check of a record whose key matches: the
    published files still in storage, say), a skip when current, else ``make`` with the
    inputs it was keyed by and the reason it runs.
    """

    name: str
    model: type[Recorded]
    inputs: Callable[[Context], dict[str, str]]
    make: Callable[[Context, dict[str, str], str], StageResult]
    recorded_problem: Callable[[Context, Recorded], str | None] | None = None
    # What a run would do, said without doing it (runtime/work.py): (ctx, why it would run or
    # None when current, the works of the stages before it) -> its StageWork.
    work: Callable[[Context, str | None, Mapping[str, StageWork]], StageWork] | None = None
    # recorded_problem's part that needs no keys or network (what status and estimate ask).
    local_problem: Callable[[Context, Recorded], str | None] | None = None


def skip_if_current(
    ctx: Context,
    stage: str,
    model: type[R],
    inputs: dict[str, str],
    problem: Callable[[Context, R], str | None] | None = None,
) -> tuple[StageResult | None, str]:
    """(the result of skipping, "") when the recorded manifest is current; else (None, why)."""
    path = ctx.project.manifest_path(stage)
    previous = load_recorded(model, path)
    reason = why_rerun(ctx.project, previous, inputs, force=ctx.force, path=path)
    if reason is None and previous is not None and problem is not None:
        reason = problem(ctx, previous)
    if reason is None and previous is not None:
        ctx.verified[stage] = previous
        return StageResult(stage, path, False, "up to date", shots=_count(previous)), ""
    return None, reason or "no previous run"


def located(
    exc: PersonaForgeError, path: Path, loc: tuple[str, ...], stage: str
) -> PersonaForgeError:
    """The error, pointed at the setting in ``path`` that chose what failed (its own field,
    else ``loc``), unless it names a file already; in ``stage``."""
    if exc.file is None:
        exc.file = str(path)
        exc.line = line_of(path, tuple(exc.field.split(".")) if exc.field else loc)
    return exc.with_stage(stage)


def backend_located(ctx: Context, kind: str, exc: PersonaForgeError) -> PersonaForgeError:
    """A backend choice's error (an unknown name, say) pointed at the file that chose it:
    video.yaml's ``backends.<kind>``, or for the voice, persona.yaml's ``voice.backend``
    unless video.yaml overrides it."""
    if exc.file is not None:
        return exc.with_stage(kind)
    if kind == "speak" and ctx.video.backends.speak is None:
        exc.field = "voice.backend"
        return located(exc, ctx.project.persona_path, ("voice", "backend"), kind)
    exc.field = f"backends.{kind}"
    return located(exc, ctx.project.video_path, ("backends", kind), kind)


def record(ctx: Context, stage: str, manifest: Recorded) -> Path:
    """Write a stage's manifest (atomically) and remember it as current for this run."""
    path = ctx.project.manifest_path(stage)
    dump_model(manifest, path, seal=True)
    ctx.verified[stage] = manifest
    return path


def _count(manifest: Recorded) -> int:
    items = getattr(manifest, "shots", None) or getattr(manifest, "files", None) or []
    return len(items)


# Per-shot records live beside their media so an interrupted stage resumes without redoing
# (and paying again for) the shots it already finished.
def read_shot_record(model: type[B], path: Path) -> B | None:
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None


def write_shot_record(record: BaseModel, path: Path) -> None:
    atomic_write_text(path, record.model_dump_json(indent=1))


class _ShotRecord(Protocol):
    key: str

    def media(self) -> list[tuple[str, str]]: ...


def reusable_shot(
    ctx: Context, model: type[B], path: Path, key: str, *, fetch: bool = True
) -> B | None:
    """The finished shot recorded at ``path`` if it was made from ``key`` and its media are
    intact (here, or fetched from the shared shot cache); None means it must be made (again).
    Without ``fetch``, a shot the shared cache holds is returned as it is recorded there, and
    nothing is downloaded (what an estimate wants)."""
    found = _here(ctx, model, path, key)
    if found is not None or ctx.force:
        return found
    if not fetch:
        peeked: B | None = shotcache.peek(ctx, path, key, model.model_validate)
        return peeked
    if shotcache.fetch(ctx, path, key, model.model_validate):
        found = _local_shot(ctx, model, path, key)
    return found


# Lookups in the shared cache at once: a warm cache on a far bucket costs round trips, a few
# per shot, not bandwidth (boto3 keeps ten connections).
CACHE_LOOKUPS = 8


def reusable_shots(
    ctx: Context, model: type[B], shots: Sequence[tuple[Path, str]], *, fetch: bool = True
) -> list[B | None]:
    """``reusable_shot`` for each (record path, key) of ``shots``, in order; with a shared
    cache, several are asked (and fetched) at a time."""
    from personaforge.backends.cloud import run_bounded

    here = {s: _here(ctx, model, *s) for s in dict.fromkeys(shots)}
    todo = [] if ctx.force else [s for s, shot in here.items() if shot is None]  # asked once
    # Opened only if a shot is not here, as reusable_shot opens it (missing keys fail there).
    limit = CACHE_LOOKUPS if len(todo) > 1 and shotcache.for_context(ctx) is not None else 1
    asked: list[B | None] = run_bounded(
        [functools.partial(reusable_shot, ctx, model, *s, fetch=fetch) for s in todo], limit
    )
    here.update(zip(todo, asked, strict=True))
    return [here[s] for s in shots]


def save_shot(ctx: Context, record: BaseModel, path: Path) -> None:
    """Record a shot just made beside its media, and share it through the shot cache."""
    write_shot_record(record, path)
    ctx.made.add(path)
    shotcache.push(ctx, record, path)  # type: ignore[arg-type]


def _here(ctx: Context, model: type[B], path: Path, key: str) -> B | None:
    """The shot recorded at ``path`` on this machine, if it was made from ``key`` and its
    media are intact; with --force, only one made in this run (made again, but only once)."""
    if ctx.force and path not in ctx.made:
        return None
    return _local_shot(ctx, model, path, key)


def _local_shot(ctx: Context, model: type[B], path: Path, key: str) -> B | None:
    found = read_shot_record(model, path)
    if found is None:
        return None
    shot: _ShotRecord = found  # type: ignore[assignment]
    if shot.key != key or output_problem(ctx.project, shot.media()) is not None:
        return None
    return found


BRAND_FILE = "brand.yaml"  # a brand kit beside video.yaml, shared by several videos


def brand_spec(ctx: Context) -> tuple[Brand | None, Path]:
    """The brand: video.yaml's brand: block, else brand.yaml beside it, else none."""
    if ctx.video.brand is not None:
        return ctx.video.brand, ctx.project.video_path
    path = ctx.project.root / BRAND_FILE
    if path.is_file():
        return load_model(Brand, path), path
    return None, ctx.project.video_path
