"""plan: turn the script into shots."""

from __future__ import annotations

from personaforge.backends import registry
from personaforge.backends.base import Planner
from personaforge.core.models import PlanManifest
from personaforge.core.project import slugify
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_bytes
from personaforge.stages.common import (
    Context,
    StageResult,
    record,
    recorded_fields,
    skip_if_current,
)
from personaforge.text.normalize import tokenize


def backend(ctx: Context) -> Planner:
    return registry.resolve("plan", ctx.video.backends.plan)()


def _inputs(ctx: Context, script: str, planner: Planner) -> dict[str, str]:
    return {
        "script": sha256_bytes(script.encode("utf-8")),
        "title": sha256_bytes(ctx.video.title.encode("utf-8")),
        "persona": canonical_hash({"name": ctx.persona.name, "archetype": ctx.persona.archetype}),
        "planner": f"{planner.name}@{planner.version}",
    }


def inputs(ctx: Context) -> dict[str, str]:
    return _inputs(ctx, ctx.project.script_text(ctx.video), backend(ctx))


def run(ctx: Context) -> StageResult:
    project = ctx.project
    planner = backend(ctx)
    script = project.script_text(ctx.video)  # read once: the key and the shots agree
    ins = _inputs(ctx, script, planner)
    skipped, reason = skip_if_current(ctx, "plan", PlanManifest, ins)
    if skipped:
        return skipped
    shots = planner.plan(script, ctx.persona)
    if not any(tok.spoken for shot in shots for tok in tokenize(shot.text)):
        raise PersonaForgeError(
            "the script has no words to speak",
            file=project.video_path,
            field="script_text" if ctx.video.script_text is not None else "script",
        )
    manifest = PlanManifest(
        **recorded_fields(ins, planner.name, planner.version),
        title=ctx.video.title,
        slug=slugify(ctx.video.title),
        shots=shots,
    )
    path = record(ctx, "plan", manifest)
    return StageResult("plan", path, True, reason, shots=len(shots))
