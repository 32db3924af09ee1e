"""A project's inputs as a content-addressed bundle in S3/R2, so workers need no shared disk.

Each file is stored once under ``bundles/files/<sha256>`` (a persona shared by a hundred
projects goes up once); the bundle is a small JSON index ``bundles/<sha256 of the index>.json``
of project-relative paths to file hashes. Uploading unchanged inputs uploads nothing.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import sha256_bytes, sha256_file

PREFIX = "bundles"
# What a bundle never carries: what the tool records (built again, or fetched from the shot
# cache) and hidden files: .env holds secrets, which workers take from their own environment.
SKIP_DIRS = frozenset({"build", "published"})
MAX_FILES = 1000


def project_files(root: Path) -> list[str]:
    """The project's input files, as sorted POSIX paths relative to ``root``."""
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root)
        dirnames[:] = sorted(
            d for d in dirnames
            if not d.startswith(".") and not (rel_dir == Path(".") and d in SKIP_DIRS)
        )  # fmt: skip
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath) / name
            if path.is_file():
                found.append(PurePosixPath(*(rel_dir / name).parts).as_posix())
    if len(found) > MAX_FILES:
        raise PersonaForgeError(
            f"the project folder holds {len(found)} files; a bundle takes at most {MAX_FILES}",
            file=root,
            hint="keep only the project's inputs in its folder",
        )
    return sorted(found)


def upload_bundle(project: Project, storage: Any) -> str:
    """Upload the project's inputs (only those not there yet); return the bundle id."""
    project.load_video()  # bad input fails here, on the submitting machine, not on a worker
    project.load_persona()
    files: dict[str, str] = {}
    for rel in project_files(project.root):
        local = project.root / rel
        sha = sha256_file(local)
        files[rel] = sha
        key = f"{PREFIX}/files/{sha}"
        if not storage.exists(key, sha):
            storage.put(local, key, sha, "application/octet-stream")
    index = json.dumps({"schema_version": 1, "files": files}, sort_keys=True).encode("utf-8")
    bundle_id = sha256_bytes(index)
    key = f"{PREFIX}/{bundle_id}.json"
    if not storage.exists(key, bundle_id):
        with tempfile.TemporaryDirectory(prefix="personaforge-bundle-") as tmp:
            path = Path(tmp) / "index.json"
            path.write_bytes(index)
            storage.put(path, key, bundle_id, "application/json")
    return bundle_id


def download_bundle(storage: Any, bundle_id: str, dest: Path) -> Project:
    """Materialise a bundle in ``dest`` (files already there with the right hash are kept,
    so a retried job keeps its build/ and resumes)."""
    raw = storage.read_bytes(f"{PREFIX}/{bundle_id}.json")
    if raw is None:
        raise PersonaForgeError(f"bundle {bundle_id[:12]} is not in storage", field="bundle")
    if sha256_bytes(raw) != bundle_id:
        raise PersonaForgeError(f"bundle {bundle_id[:12]} is damaged in storage", field="bundle")
    files: dict[str, str] = json.loads(raw)["files"]
    dest.mkdir(parents=True, exist_ok=True)
    for rel, sha in files.items():
        parts = PurePosixPath(rel).parts
        if PurePosixPath(rel).is_absolute() or ".." in parts:
            raise PersonaForgeError(f"bundle {bundle_id[:12]} names a path outside: {rel!r}")
        local = dest.joinpath(*parts)
        if local.is_file() and sha256_file(local) == sha:
            continue
        if not storage.download(f"{PREFIX}/files/{sha}", local, sha):
            raise PersonaForgeError(f"bundle {bundle_id[:12]}: {rel} is not in storage")
    return Project(dest)
