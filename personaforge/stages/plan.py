"""plan: turn the script into shots."""

from __future__ import annotations

from personaforge.backends import registry
from personaforge.core.models import PlanManifest
from personaforge.core.project import slugify
from personaforge.core.yamlio import dump_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_bytes
from personaforge.stages.common import (
    Context,
    StageResult,
    load_recorded,
    recorded_fields,
    why_rerun,
)


def _planner(ctx: Context) -> object:
    cls = registry.resolve("plan", ctx.video.backends.plan)
    return cls()


def inputs(ctx: Context) -> dict[str, str]:
    planner = _planner(ctx)
    script = ctx.project.script_text(ctx.video)
    return {
        "script": sha256_bytes(script.encode("utf-8")),
        "title": sha256_bytes(ctx.video.title.encode("utf-8")),
        "persona": canonical_hash({"name": ctx.persona.name, "archetype": ctx.persona.archetype}),
        "planner": f"{planner.name}@{planner.version}",  # type: ignore[attr-defined]
    }


def run(ctx: Context) -> StageResult:
    project = ctx.project
    path = project.manifest_path("plan")
    ins = inputs(ctx)
    previous = load_recorded(PlanManifest, path)
    reason = why_rerun(project, previous, ins, force=ctx.force)
    if reason is None:
        assert previous is not None
        return StageResult("plan", path, False, "up to date", shots=len(previous.shots))
    planner = _planner(ctx)
    shots = planner.plan(project.script_text(ctx.video), ctx.persona)  # type: ignore[attr-defined]
    if not shots:
        raise PersonaForgeError(
            "the script has no words to speak",
            file=project.video_path,
            field="script",
            stage="plan",
        )
    manifest = PlanManifest(
        **recorded_fields(ins, planner.name, planner.version),  # type: ignore[attr-defined]
        title=ctx.video.title,
        slug=slugify(ctx.video.title),
        shots=shots,
    )
    dump_model(manifest, path)
    return StageResult("plan", path, True, reason, shots=len(shots))
