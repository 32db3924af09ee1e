"""publish: copy the finished files to a local bucket-like folder or to S3-compatible storage."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from personaforge.core.models import PublishedFile, PublishManifest, RenderManifest
from personaforge.core.project import Project
from personaforge.core.yamlio import dump_model
from personaforge.fsutil import canonical_hash
from personaforge.stages.common import (
    Context,
    StageResult,
    load_recorded,
    recorded_fields,
    require_upstream,
    why_rerun,
)

CONTENT_TYPES = {".mp4": "video/mp4", ".vtt": "text/vtt", ".srt": "application/x-subrip"}
LOCAL_DIR = "published"


def storage_for(project: Project, target: str, env: Mapping[str, str]) -> Any:
    if target == "local":
        from personaforge.backends.storage.local import LocalStorage

        return LocalStorage(project.root / LOCAL_DIR)
    from personaforge.backends.storage.s3 import S3Storage

    return S3Storage.from_target(target, env)


def inputs(ctx: Context, render_key: str) -> dict[str, str]:
    return {"render": render_key, "target": canonical_hash(ctx.video.publish.target)}


def run(ctx: Context, env: Mapping[str, str] | None = None) -> StageResult:
    project = ctx.project
    render = require_upstream(RenderManifest, project, "publish", "render")
    path = project.manifest_path("publish")
    target = ctx.video.publish.target
    ins = inputs(ctx, render.key)
    previous = load_recorded(PublishManifest, path)
    # Storage is created before any check so a missing key fails before work, never midway.
    storage = storage_for(project, target, env if env is not None else project.environment())
    reason = why_rerun(project, previous, ins, force=ctx.force)
    if reason is None and previous is not None:
        missing = [
            f.name for f in previous.files if not storage.exists(_key(render, f.name), f.sha256)
        ]
        if not missing:
            return StageResult("publish", path, False, "up to date", shots=len(previous.files))
        reason = f"not in storage any more: {', '.join(missing)}"

    files: list[PublishedFile] = []
    for out in (render.video, render.captions_vtt, render.captions_srt):
        local = project.root / out.path
        name = Path(out.path).name
        key = _key(render, name)
        if ctx.force or not storage.exists(key, out.sha256):
            ctx.progress.log(f"publish: uploading {name}")
            url = storage.put(
                local, key, out.sha256, CONTENT_TYPES.get(local.suffix, "application/octet-stream")
            )
        else:
            url = storage.url_for(key)
        files.append(PublishedFile(name=name, sha256=out.sha256, url=url))

    manifest = PublishManifest(
        **recorded_fields(ins, storage.name, "1"),
        render_key=render.key,
        target=target,
        files=files,
    )
    dump_model(manifest, path)
    return StageResult("publish", path, True, reason or "publishing", shots=len(files))


def local_problem(project: Project, manifest: PublishManifest) -> str | None:
    """For the local target, a published file that is gone or changed; remote ones are
    checked by `publish` itself, which may need keys and the network."""
    if manifest.target != "local":
        return None
    storage = storage_for(project, "local", {})
    render = load_recorded(RenderManifest, project.manifest_path("render"))
    if render is None:
        return None
    gone = [f.name for f in manifest.files if not storage.exists(_key(render, f.name), f.sha256)]
    return f"not in storage any more: {', '.join(gone)}" if gone else None


def _key(render: RenderManifest, name: str) -> str:
    return f"{render.slug}/{render.video.sha256[:16]}/{name}"
