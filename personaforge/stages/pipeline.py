"""make-video and status: every stage in order, each run only when out of date."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from personaforge.core.models import (
    LipsyncManifest,
    PlanManifest,
    PublishManifest,
    Recorded,
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
    """Per stage: up to date, or why it would re-run. Runs nothing, uploads nothing."""
    ctx = Context.load(project)
    out: list[StageStatus] = []
    stale: str | None = None
    key = ""
    checks: list[tuple[str, type[Recorded], Callable[[str], dict[str, str]]]] = [
        ("plan", PlanManifest, lambda _: plan.inputs(ctx)),
        ("speak", SpeechManifest, lambda k: speak.inputs(ctx, k)),
        ("lipsync", LipsyncManifest, lambda k: lipsync.inputs(ctx, k)),
        ("render", RenderManifest, lambda k: render.inputs(ctx, k)),
        ("publish", PublishManifest, lambda k: publish.inputs(ctx, k)),
    ]
    for stage, model, inputs_of in checks:
        ins = inputs_of(key)
        previous = load_recorded(model, project.manifest_path(stage))
        reason = why_rerun(project, previous, ins)
        if reason is None and isinstance(previous, PublishManifest):
            reason = publish.local_problem(project, previous)
        if reason is not None and stale and reason.startswith("changed"):
            reason = f"upstream {stale} would re-run"
        out.append(StageStatus(stage, reason is None, reason or "up to date"))
        if reason is not None and stale is None:
            stale = stage
        key = make_key(ins)
    return out
