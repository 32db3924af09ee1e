"""make-video and status: every stage in order, each run only when out of date."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from personaforge.core.models import (
    LipsyncManifest,
    PlanManifest,
    PublishManifest,
    RenderManifest,
    SpeechManifest,
)
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.progress import Progress
from personaforge.stages import lipsync, plan, publish, render, speak
from personaforge.stages.common import (
    Context,
    StageResult,
    load_recorded,
    make_key,
    why_rerun,
)


@dataclass
class VideoResult:
    video: Path
    captions: Path
    duration_s: float
    published: list[str]
    stages: list[StageResult] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "video": str(self.video),
            "captions": str(self.captions),
            "duration_s": self.duration_s,
            "published": self.published,
            "stages": {s.stage: s.as_json() for s in self.stages},
        }


def run_stage(stage: str, ctx: Context, env: Mapping[str, str] | None = None) -> StageResult:
    """Run one stage; any expected error is tagged with the stage that broke."""
    try:
        if stage == "plan":
            return plan.run(ctx)
        if stage == "speak":
            return speak.run(ctx)
        if stage == "lipsync":
            return lipsync.run(ctx)
        if stage == "render":
            return render.run(ctx)
        if stage == "publish":
            return publish.run(ctx, env)
    except PersonaForgeError as exc:
        raise exc.with_stage(stage) from None
    raise ValueError(stage)


def make_video(
    project: Project,
    *,
    fmt: str | None = None,
    force: bool = False,
    do_publish: bool = True,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
) -> VideoResult:
    ctx = Context.load(project, progress=progress, force=force)
    if fmt is not None:
        ctx.video = ctx.video.model_validate({**ctx.video.model_dump(), "format": fmt})
    stages = ["plan", "speak", "lipsync", "render"] + (["publish"] if do_publish else [])
    results = [run_stage(s, ctx, env) for s in stages]
    rendered = load_recorded(RenderManifest, project.manifest_path("render"))
    assert rendered is not None
    published: list[str] = []
    if do_publish:
        pub = load_recorded(PublishManifest, project.manifest_path("publish"))
        published = [f.url for f in pub.files] if pub else []
    return VideoResult(
        video=project.root / rendered.video.path,
        captions=project.root / rendered.captions_vtt.path,
        duration_s=rendered.duration_s,
        published=published,
        stages=results,
    )


@dataclass
class StageStatus:
    stage: str
    up_to_date: bool
    reason: str


def status(project: Project) -> list[StageStatus]:
    """Per stage: up to date, or why it would re-run. Runs nothing."""
    ctx = Context.load(project)
    out: list[StageStatus] = []
    upstream_stale: str | None = None

    def check(stage: str, previous: object, ins: dict[str, str], outputs: object) -> str:
        nonlocal upstream_stale
        reason = why_rerun(project, previous, ins, outputs)  # type: ignore[arg-type]
        if reason is not None and upstream_stale and reason.startswith("changed"):
            reason = f"upstream {upstream_stale} would re-run"
        out.append(StageStatus(stage, reason is None, reason or "up to date"))
        if reason is not None and upstream_stale is None:
            upstream_stale = stage
        return make_key(ins)

    p_prev = load_recorded(PlanManifest, project.manifest_path("plan"))
    key = check("plan", p_prev, plan.inputs(ctx), [])
    s_prev = load_recorded(SpeechManifest, project.manifest_path("speak"))
    s_out = [(s.audio, s.audio_sha256) for s in s_prev.shots] if s_prev else None
    key = check("speak", s_prev, speak.inputs(ctx, key), s_out)
    l_prev = load_recorded(LipsyncManifest, project.manifest_path("lipsync"))
    l_out = (
        [(c.clip, c.clip_sha256) for c in l_prev.shots if c.clip and c.clip_sha256]
        if l_prev
        else None
    )
    key = check("lipsync", l_prev, lipsync.inputs(ctx, key), l_out)
    r_prev = load_recorded(RenderManifest, project.manifest_path("render"))
    r_out = (
        [(o.path, o.sha256) for o in (r_prev.video, r_prev.captions_vtt, r_prev.captions_srt)]
        if r_prev
        else None
    )
    key = check("render", r_prev, render.inputs(ctx, key), r_out)
    pub_prev = load_recorded(PublishManifest, project.manifest_path("publish"))
    check("publish", pub_prev, publish.inputs(ctx, key), None)
    return out
