"""What every stage shares: its context, its result, and the check of whether it is up to date."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, TypeVar

from pydantic import BaseModel, ValidationError

from personaforge import __version__
from personaforge.core.models import Persona, Recorded, VideoSpec
from personaforge.core.project import Project
from personaforge.core.yamlio import load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text, canonical_hash, sha256_file
from personaforge.progress import NullProgress, Progress

R = TypeVar("R", bound=Recorded)
B = TypeVar("B", bound=BaseModel)


@dataclass
class Context:
    project: Project
    persona: Persona
    video: VideoSpec
    progress: Progress = field(default_factory=NullProgress)
    force: bool = False
    log: list[str] = field(default_factory=list)

    @classmethod
    def load(
        cls, project: Project, *, progress: Progress | None = None, force: bool = False
    ) -> Context:
        return cls(
            project=project,
            persona=project.load_persona(),
            video=project.load_video(),
            progress=progress or NullProgress(),
            force=force,
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


def make_key(inputs: dict[str, str]) -> str:
    return canonical_hash(inputs)


class RecordedFields(TypedDict):
    key: str
    inputs: dict[str, str]
    backend: str
    backend_version: str
    tool_version: str


def recorded_fields(inputs: dict[str, str], backend: str = "", version: str = "") -> RecordedFields:
    """The fields every recorded manifest shares (its stage name comes from its model)."""
    return {
        "key": make_key(inputs),
        "inputs": inputs,
        "backend": backend,
        "backend_version": version,
        "tool_version": __version__,
    }


def load_recorded(model: type[R], path: Path) -> R | None:
    """The previous manifest, or None if there is none or it cannot be trusted."""
    if not path.is_file():
        return None
    try:
        return load_model(model, path)
    except PersonaForgeError:
        return None


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
) -> str | None:
    """None if the stage is up to date, else the reason it must run (cheapest check first)."""
    if force:
        return "forced with --force"
    if previous is None:
        return "no previous run"
    if previous.key != make_key(inputs):
        changed = changed_inputs(previous.inputs, inputs)
        return "changed: " + ", ".join(changed) if changed else "inputs changed"
    return output_problem(project, previous.outputs())


def require_upstream(model: type[R], project: Project, stage: str, upstream: str) -> R:
    path = project.manifest_path(upstream)
    if not path.is_file():
        raise PersonaForgeError(
            f"{path.name} not found; run `personaforge {upstream}` first", file=path, stage=stage
        )
    return load_model(model, path)


# Per-shot records live beside their media so an interrupted stage resumes without redoing
# (and paying again for) the shots it already finished.
def read_shot_record(model: type[B], path: Path) -> B | None:
    try:
        return model.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None


def write_shot_record(record: BaseModel, path: Path) -> None:
    atomic_write_text(path, record.model_dump_json(indent=1))
