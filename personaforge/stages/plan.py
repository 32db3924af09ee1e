"""plan: turn the script into shots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from personaforge.backends import registry
from personaforge.backends.base import Planner, PlanSetup
from personaforge.backends.planner.offline import ScriptError
from personaforge.core import recipes
from personaforge.core.manifests import PlanManifest, PlannedShot
from personaforge.core.project import slugify
from personaforge.core.specs import spoken_language
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash, sha256_bytes
from personaforge.runtime import preflight
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    backend_located,
    record,
    recorded_fields,
)
from personaforge.runtime.work import ShotWork, StageWork, seconds_for
from personaforge.text.normalize import tokenize

if TYPE_CHECKING:
    from personaforge.backends.planner.claude import DirectorConfig


def backend(ctx: Context) -> Planner:
    try:
        factory = registry.resolve("plan", ctx.video.backends.plan)
    except PersonaForgeError as exc:
        raise backend_located(ctx, "plan", exc) from None
    language = spoken_language(ctx.video, ctx.persona)
    return factory.from_setup(PlanSetup(language, lambda: director_config(ctx)))


def director_config(ctx: Context) -> DirectorConfig:
    """The director's prompt, rendered from the video's recipe for this persona."""
    # The director's module needs anthropic: the registry says what to install, cleanly
    # (estimate and --dry-run build the prompt without running the director).
    registry.resolve("plan", "claude")
    from personaforge.backends.planner.claude import DirectorConfig
    from personaforge.backends.planner.shots import KINDS
    from personaforge.media.avatar import CAMERA_MOVES, EMOTIONS

    recipe = recipes.load(ctx.video.recipe or recipes.DEFAULT_RECIPE, ctx.project.root)
    try:
        prompt = recipe.render(
            recipes.DIRECTOR_TEMPLATE,
            {
                "persona": recipes.persona_context(ctx.persona),
                "title": ctx.video.title,
                "kinds": list(KINDS),
                "emotions": list(EMOTIONS),
                "cameras": list(CAMERA_MOVES),
            },
        )
    except PersonaForgeError as exc:
        raise exc.with_stage("plan") from None
    return DirectorConfig(
        env=ctx.environment(),
        system_prompt=prompt,
        recipe=f"{recipe.name}@{recipe.digest()}",
        model=ctx.video.director.model,
        max_tokens=ctx.video.director.max_tokens,
    )


def _inputs(ctx: Context, script: str, planner: Planner) -> dict[str, str]:
    ins = {
        "script": sha256_bytes(script.encode("utf-8")),
        "title": sha256_bytes(ctx.video.title.encode("utf-8")),
        "persona": canonical_hash({"name": ctx.persona.name, "archetype": ctx.persona.archetype}),
        "planner": f"{planner.name}@{planner.version}",
    }
    if planner.language != "en":  # English projects keep the key they had
        ins["language"] = planner.language
    settings = planner.settings_key()
    if settings is not None:
        # The director's model and prompt (its recipe, the persona's brain prompt).
        ins["director"] = canonical_hash(settings)
    return ins


def inputs(ctx: Context) -> dict[str, str]:
    return _inputs(ctx, ctx.project.script_text(ctx.video), backend(ctx))


def make(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    project = ctx.project
    planner = backend(ctx)
    script = project.script_text(ctx.video)  # read once: the key and the shots agree
    ins = _inputs(ctx, script, planner)  # (of the text planned, should it change meanwhile)
    try:
        shots = planner.plan(script, ctx.persona)
    except ScriptError as exc:
        raise preflight.script_located(ctx, exc) from None
    language = spoken_language(ctx.video, ctx.persona)
    if not any(tok.spoken for shot in shots for tok in tokenize(shot.text, language)):
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
        billing=list(planner.billing),
    )
    path = record(ctx, "plan", manifest)
    return StageResult("plan", path, True, reason, shots=len(shots))


# ---------------------------------------------------------------- the plan of work


def planned(ctx: Context, current: bool) -> list[PlannedShot]:
    """The shots: the recorded plan if current, else the offline director's split of the
    script (the Claude director groups the same sentences, so the words are the same)."""
    if current:
        manifest = ctx.verified.get("plan")
        if isinstance(manifest, PlanManifest):
            return manifest.shots
    from personaforge.backends.planner.offline import OfflinePlanner

    return OfflinePlanner().plan(ctx.project.script_text(ctx.video), ctx.persona)


def _request_size(ctx: Context) -> dict[str, float]:
    """The size of the director's request, from its real prompt (rendered, not sent)."""
    import json

    from personaforge.backends.planner.shots import answer_schema, numbered, prompt_text

    blocks = numbered(ctx.project.script_text(ctx.video))
    try:
        system = director_config(ctx).system_prompt
    except PersonaForgeError:
        system = ""
    chars = len(system) + len(prompt_text(blocks)) + len(json.dumps(answer_schema())) + 200
    return {
        "prompt_chars": float(chars),
        "sentences": float(sum(1 for b in blocks if b.kind == "sentence")),
    }


def work(ctx: Context, reason: str | None, before: Mapping[str, StageWork]) -> StageWork:
    """What planning would do: every shot planned again when it runs (one request to a paid
    director), the recorded plan's shots when current."""
    from personaforge.backends import registry

    runs = reason is not None
    name = ctx.video.backends.plan
    rates = registry.rates("plan", name)
    speed = ctx.persona.voice.speed
    shots = planned(ctx, not runs)
    why = "planned again" if runs else "up to date"
    out = StageWork("plan", name, runs, reason or "up to date", paid=rates.paid, draft=shots)
    out.shots = [ShotWork(s.text, s.kind, seconds_for(s.text, speed), runs, why) for s in shots]
    if runs:
        extra = _request_size(ctx) if rates.paid else {}
        out.bills = rates.bills([], extra, ctx.video.director.model) if rates.paid else []
        out.calls = 1 if rates.paid else 0
        out.seconds = rates.per_call_s
    return out


STAGE = Stage("plan", PlanManifest, inputs, make, work=work)
