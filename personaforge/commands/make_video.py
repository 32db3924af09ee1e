"""make-video and status: every stage in order, each run only when out of date."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from personaforge.core.manifests import (
    MANIFEST_MODELS,
    PublishManifest,
    Recorded,
    RenderManifest,
    SpeechManifest,
)
from personaforge.core.project import Project
from personaforge.costs import Billing, summarize
from personaforge.errors import MissingKeyError, PersonaForgeError
from personaforge.lock import locked
from personaforge.progress import Progress
from personaforge.runtime import preflight as media
from personaforge.runtime import shotcache
from personaforge.runtime.common import (
    Context,
    StageResult,
    load_recorded,
    located,
)
from personaforge.runtime.graph import current, run_stage, works
from personaforge.stages import lipsync, plan, publish, render, speak
from personaforge.stages.parts import soundtrack

__all__ = ["VideoResult", "make_video", "run_stage", "status"]


@dataclass
class VideoResult:
    video: Path
    captions: Path
    duration_s: float
    published: list[str]
    stages: list[StageResult] = field(default_factory=list)
    cost: dict[str, object] | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "video": str(self.video),
            "captions": str(self.captions),
            "duration_s": self.duration_s,
            "published": self.published,
            "stages": {s.stage: s.as_json() for s in self.stages},
            "cost": self.cost or summarize([]),
        }


def recorded_billing(
    project: Project, stage: str, known: Mapping[str, Recorded] | None = None
) -> list[Billing]:
    """What a stage's recorded manifest was billed (paid backends only): per shot, and for
    the stage as a whole (the Claude director's request). ``known``: manifests already
    read in this run, by stage (a 10-minute video's speech manifest takes ~0.3 s to read)."""
    manifest = (known or {}).get(stage) or load_recorded(
        MANIFEST_MODELS[stage], project.manifest_path(stage)
    )
    shots = getattr(manifest, "shots", None) or []
    whole: list[Billing] = list(getattr(manifest, "billing", None) or [])
    return whole + [b for shot in shots for b in getattr(shot, "billing", [])]


def recorded_cost(
    project: Project, known: Mapping[str, Recorded] | None = None
) -> dict[str, object]:
    """The recorded cost of the video as built: its plan, its speech and its clips."""
    stages = ("plan", "speak", "lipsync")
    return summarize(b for stage in stages for b in recorded_billing(project, stage, known))


def preflight(ctx: Context, stages: list[str]) -> None:
    """Choose every backend and check every file and key the run needs, before any work:
    a typo in video.yaml must not surface after minutes of synthesis."""
    video, persona = ctx.project.video_path, ctx.project.persona_path
    media.check(ctx)  # the script's directives and every media file it names, probed
    speak_from_video = ctx.video.backends.speak is not None
    checks: list[tuple[Callable[[], object], Path, tuple[str, ...]]] = [
        (lambda: plan.backend(ctx), video, ("backends", "plan")),
        (
            lambda: speak.backend(ctx),
            video if speak_from_video else persona,
            ("backends", "speak") if speak_from_video else ("voice",),
        ),
        (lambda: lipsync.backend(ctx), video, ("backends", "lipsync")),
        (lambda: render.music_hash(ctx), video, ("music", "file")),
        (lambda: lipsync.check_media(ctx), video, ("brand",)),
    ]
    if "publish" in stages:
        checks.append((lambda: publish.storage_for(ctx), video, ("publish", "target")))
    will_call = _will_call(ctx)
    for check, path, loc in checks:
        stage = {"backends": loc[-1], "voice": "speak", "music": "render",
                 "brand": "lipsync"}.get(loc[0])  # fmt: skip
        try:
            check()
        except MissingKeyError as exc:
            if stage in ("speak", "lipsync") and not will_call(stage):
                continue  # every shot it needs is made: no key wanted
            raise located(exc, path, loc, stage or "publish") from None
        except PersonaForgeError as exc:
            raise located(exc, path, loc, stage or "publish") from None


def _will_call(ctx: Context) -> Callable[[str], bool]:
    """Whether this run would call a stage's cloud backend, by the stages' own works (a key is
    needed only where a paid call will happen), asked only when a key is missing; worked out
    once per run."""
    from personaforge.runtime.graph import works
    from personaforge.runtime.work import StageWork, will_call

    found: list[dict[str, StageWork]] = []

    def calls(stage: str) -> bool:
        try:
            if not found:
                fresh = dataclasses.replace(ctx, verified={})
                found.append(works(fresh, ["plan", "speak", "lipsync"]))
        except PersonaForgeError:
            return True  # can't tell: the key is asked for, as before
        return will_call(found[0], stage)

    return calls


def _soundtrack_early(ctx: Context) -> soundtrack.EarlyStart | None:
    """Start making the soundtrack while the segments are encoded, when render will need a
    new one: it needs only the speech, and the audio passes then cost no time of their own."""
    speech = current(ctx, SpeechManifest, "speak")
    try:
        layout = soundtrack.expected_layout(ctx, speech)
        if soundtrack.path_for(ctx, speech, layout).is_file():
            return None
    except PersonaForgeError:
        return None  # render says what is wrong, in its turn
    return soundtrack.EarlyStart(ctx, speech, layout)


@locked("make-video")
def make_video(
    project: Project,
    *,
    fmt: str | None = None,
    force: bool = False,
    do_publish: bool = True,
    progress: Progress | None = None,
    env: Mapping[str, str] | None = None,
    max_cost: float | None = None,
    wait: bool = True,  # for the project lock (@locked): False fails at once if it is busy
    cache: str | None = None,
    expires_s: int | None = None,
    debug_overlay: bool = False,
) -> VideoResult:
    ctx = Context.load(project, progress=progress, force=force, env=env)
    ctx.cache_url, ctx.url_expires_s = cache, expires_s
    ctx.debug_overlay = debug_overlay
    if fmt is not None:
        # A one-off format, at a preview size like video.yaml's resolution (if it sets one).
        ctx.video = ctx.video.for_format(fmt)
    stages = ["plan", "speak", "lipsync", "render"] + (["publish"] if do_publish else [])
    preflight(ctx, stages)
    shotcache.for_context(ctx)  # the shared cache's keys, too, before any work
    limit = max_cost if max_cost is not None else ctx.video.budget
    if limit is not None:  # nothing is paid for before the estimate is within the budget
        from personaforge.commands.estimate import estimate, over_budget

        guess = estimate(project, fmt=fmt, do_publish=do_publish, force=force, env=env, cache=cache)
        source = "--max-cost" if max_cost is not None else "budget in video.yaml"
        refusal = over_budget(guess, limit, source=source)
        if refusal is not None:
            raise refusal
    results: list[StageResult] = []
    early: soundtrack.EarlyStart | None = None
    try:
        for stage in stages:
            if stage == "render" and early is not None:
                early.wait()
            results.append(run_stage(stage, ctx))
            if stage == "speak":
                early = _soundtrack_early(ctx)
    finally:
        if early is not None:
            early.wait()  # its files are whole or gone before the run ends
    rendered = current(ctx, RenderManifest, "render")
    published: list[str] = []
    if do_publish:
        published = [f.url for f in current(ctx, PublishManifest, "publish").files]
    return VideoResult(
        video=project.root / rendered.video.path,
        captions=project.root / rendered.captions_vtt.path,
        duration_s=rendered.duration_s,
        published=published,
        stages=results,
        cost=recorded_cost(project, ctx.verified),  # what this run read or wrote
    )


@dataclass
class StageStatus:
    stage: str
    up_to_date: bool
    reason: str
    cost: dict[str, object] | None = None  # what its recorded shots were billed, if anything
    to_make: int = 0  # shots a run would make, by the stage's own work
    reused: int = 0  # and those it would reuse

    def as_json(self) -> dict[str, object]:
        return {
            "up_to_date": self.up_to_date,
            "reason": self.reason,
            **({"cost": self.cost} if self.cost else {}),
        }


def status(project: Project, read: dict[str, Recorded] | None = None) -> list[StageStatus]:
    """Per stage: up to date, or why it would re-run, and the shots it would make or reuse
    (the stage's own work, runtime.graph.works). Runs nothing, uploads nothing. ``read``, if
    given, is filled with the manifests found current, by stage (for the cost)."""
    ctx = Context.load(project)
    out: list[StageStatus] = []
    for stage, w in works(ctx, status=True).items():
        reason = w.reason
        if reason.startswith("upstream ") and not project.manifest_path(stage).is_file():
            reason = "no previous run"
        previous = w.previous
        if previous is not None and read is not None:
            read[stage] = previous
        known = {stage: previous} if previous is not None else None
        bills = recorded_billing(project, stage, known) if stage in ("speak", "lipsync") else []
        cost = summarize(bills) if bills else None
        made = len(w.to_make) if w.runs else 0
        reused = len(w.reused) if w.shots else 0
        out.append(StageStatus(stage, not w.runs, reason, cost, made, reused))
    return out
