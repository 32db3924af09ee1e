"""publish: copy the finished files to a local bucket-like folder or to S3-compatible storage."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.base import Storage, StorageSetup
from personaforge.core.manifests import PublishedFile, PublishManifest, Recorded, RenderManifest
from personaforge.fsutil import canonical_hash
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    record,
    recorded_fields,
)
from personaforge.runtime.graph import current
from personaforge.runtime.work import StageWork

CONTENT_TYPES = {
    ".mp4": "video/mp4",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".jpg": "image/jpeg",
    ".txt": "text/plain; charset=utf-8",
}


def storage_for(ctx: Context) -> Storage:
    """The publish target's storage; a missing key fails here, before any upload."""
    setup = StorageSetup(ctx.video.publish.target, ctx.project.root, ctx.environment())
    return registry.storage(setup)


def inputs(ctx: Context) -> dict[str, str]:
    render = current(ctx, RenderManifest, "render")
    return {"render": render.content_hash(), "target": canonical_hash(ctx.video.publish.target)}


# Presigned links are signed again when they would stop working within this time (or when
# --expires asks for new ones).
RESIGN_MARGIN_S = 3600


def storage_problem(
    storage: Storage, render: RenderManifest, manifest: PublishManifest
) -> str | None:
    """Why recorded uploads can't be trusted: gone from storage, now at another URL, or
    their signed links (about to) expire."""
    gone = [f.name for f in manifest.files if not storage.exists(_key(render, f.name), f.sha256)]
    if gone:
        return f"not in storage any more: {', '.join(gone)}"
    if any(storage.url_for(_key(render, f.name)) != (f.location or f.url) for f in manifest.files):
        return "the published files' URLs changed (project moved?)"
    if any(f.url.startswith("s3://") for f in manifest.files):
        return "the recorded URLs cannot be opened; signing links"
    expiring = [f.expires_at for f in manifest.files if f.expires_at is not None]
    if expiring and min(expiring) < time.time() + RESIGN_MARGIN_S:
        return "the signed links expire soon; signing new ones"
    return None


def local_problem(ctx: Context, manifest: PublishManifest) -> str | None:
    """storage_problem for the local target only: `status` needs no keys or network."""
    if manifest.target != "local":
        return None
    return storage_problem(storage_for(ctx), current(ctx, RenderManifest, "render"), manifest)


def recorded_problem(ctx: Context, previous: Recorded) -> str | None:
    """Why a publish whose key matches must still run: its files gone from storage, moved,
    or their signed links (about to) expire, or new links asked for (--expires)."""
    assert isinstance(previous, PublishManifest)
    render = current(ctx, RenderManifest, "render")
    reason = storage_problem(storage_for(ctx), render, previous)
    if reason is None and ctx.url_expires_s is not None and _signed(previous):
        reason = "new links asked for (--expires)"
    return reason


def make(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    storage = storage_for(ctx)
    render = current(ctx, RenderManifest, "render")

    files: list[PublishedFile] = []
    for out in render.deliverables():
        local = ctx.project.root / out.path
        name = Path(out.path).name
        key = _key(render, name)
        if ctx.force or not storage.exists(key, out.sha256):
            ctx.progress.log(f"publish: uploading {name}")
            content_type = CONTENT_TYPES.get(local.suffix, "application/octet-stream")
            storage.put(local, key, out.sha256, content_type)
        # Keys hold the content hash: unchanged files are never uploaded again, only linked.
        url, expires_at = storage.share_url(key, ctx.url_expires_s)
        location = storage.url_for(key)
        files.append(
            PublishedFile(
                name=name,
                sha256=out.sha256,
                url=url,
                location=location if location != url else None,
                expires_at=expires_at,
            )
        )
    manifest = PublishManifest(
        **recorded_fields(ins, storage.name, "1"),
        target=ctx.video.publish.target,
        files=files,
    )
    path = record(ctx, "publish", manifest)
    return StageResult("publish", path, True, reason or "publishing", shots=len(files))


def _signed(manifest: PublishManifest) -> bool:
    return any(f.expires_at is not None for f in manifest.files)


def _key(render: RenderManifest, name: str) -> str:
    return f"{render.slug}/{render.video.sha256[:16]}/{name}"


# ---------------------------------------------------------------- the plan of work

PUBLISH_S = 0.5  # measured: copying the files of a 60 s video, 0.3-0.8 s


def work(ctx: Context, reason: str | None, before: Mapping[str, StageWork]) -> StageWork:
    """What publishing would do: the files put in storage again, or nothing."""
    runs = reason is not None
    out = StageWork("publish", ctx.video.publish.target, runs, reason or "up to date")
    out.seconds = PUBLISH_S if runs else 0.0
    return out


def _local_problem(ctx: Context, previous: Recorded) -> str | None:
    assert isinstance(previous, PublishManifest)
    return local_problem(ctx, previous)


STAGE = Stage("publish", PublishManifest, inputs, make, recorded_problem, work, _local_problem)
