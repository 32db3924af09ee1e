"""cache gc: remove the build files no recorded manifest refers to (old shots pile up)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from personaforge.core.manifests import (
    PERSONA_KINDS,
    LipsyncManifest,
    RenderManifest,
    SpeechManifest,
)
from personaforge.core.project import Project
from personaforge.lock import project_lock
from personaforge.runtime.common import load_recorded

# Folders of per-shot media and records; kept while a manifest lists the shot.
SHOT_DIRS = ("speech", "clips")
# The video, its captions, thumbnail and chapters (``<slug>.chapters.txt``).
FINAL_SUFFIXES = (".mp4", ".vtt", ".srt", ".jpg", ".txt")


@dataclass
class Collected:
    removed: list[Path] = field(default_factory=list)
    freed_bytes: int = 0
    kept: int = 0


def referenced(project: Project, clips: LipsyncManifest | None) -> set[Path]:
    """Every build file a recorded manifest names (media and the records beside them);
    ``clips``: the recorded lipsync manifest."""
    keep: set[Path] = set()
    speech = load_recorded(SpeechManifest, project.manifest_path("speak"), check_seal=False)
    render = load_recorded(RenderManifest, project.manifest_path("render"), check_seal=False)
    segments = clips.segments if clips else []
    shots_and_segments: tuple[list[Any], ...] = (
        speech.shots if speech else [],
        clips.shots if clips else [],
        segments,
    )
    for shots in shots_and_segments:
        for shot in shots:
            for rel, _ in shot.media():
                media = (project.root / rel).resolve()
                # A segment's record, and the captions burned into it, sit beside it.
                keep.update({media, media.with_suffix(".json"), media.with_suffix(".ass")})
    if render is not None:
        keep.update((project.root / rel).resolve() for rel, _ in render.outputs())
    for clip in clips.shots if clips else []:
        if clip.source:
            source = (project.root / clip.source).resolve()
            keep.update({source, source.with_suffix(".json")})
    return keep


def _shot_dirs(clips: LipsyncManifest | None) -> tuple[str, ...]:
    """The folders to collect in. A cloud lip-sync's clips only where the recorded manifest
    says which it was made from: one recorded before it said so would lose paid clips."""
    from personaforge.stages.lipsync import SOURCE_DIR

    if clips is not None and all(c.source for c in clips.shots if c.kind in PERSONA_KINDS):
        return (*SHOT_DIRS, SOURCE_DIR)
    return SHOT_DIRS


def _garbage(project: Project, keep: set[Path], dirs: tuple[str, ...]) -> list[Path]:
    build = project.build
    found: list[Path] = []
    for name in dirs:
        folder = build / name
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                # A remote job's journal lets an interrupted run resume a job already paid for.
                journal = path.name.endswith(".job.json")
                if path.is_file() and not journal and path.resolve() not in keep:
                    found.append(path)
    if build.is_dir():
        for path in sorted(build.iterdir()):
            old_final = path.suffix in FINAL_SUFFIXES and path.resolve() not in keep
            if path.is_file() and old_final:
                found.append(path)
        # Temp files a killed run left anywhere in build/ (render/, clips/source/ too): under
        # the project's lock no run is writing them.
        for path in sorted(build.rglob(".*.tmp*")):
            if path.is_file() and path not in found:
                found.append(path)
    return found


def collect(project: Project, *, dry_run: bool = False, wait: bool = True) -> Collected:
    """Remove (or with ``dry_run`` only list) unreferenced build files, under the project's
    lock so that no running stage loses a shot it just made."""
    out = Collected()
    with project_lock(project.root, wait=wait, command="cache gc"):
        clips = load_recorded(LipsyncManifest, project.manifest_path("lipsync"), check_seal=False)
        keep = referenced(project, clips)
        for path in _garbage(project, keep, _shot_dirs(clips)):
            try:
                size = path.stat().st_size
                if not dry_run:
                    path.unlink()
            except OSError:
                continue
            out.removed.append(path)
            out.freed_bytes += size
        out.kept = len(keep)
    return out
