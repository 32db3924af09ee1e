"""The stage graph: which stage feeds which, and the check that what a stage reads is current."""

from __future__ import annotations

import importlib
from typing import TypeVar

from personaforge.core.manifests import MANIFEST_MODELS, Recorded
from personaforge.core.project import STAGES
from personaforge.core.yamlio import MAX_MANIFEST_BYTES, load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import USER_FIXABLE, os_problem
from personaforge.runtime import shotcache
from personaforge.runtime.common import Context, Stage, StageResult, skip_if_current, why_rerun

R = TypeVar("R", bound=Recorded)

UPSTREAM: dict[str, str] = dict(zip(STAGES[1:], STAGES[:-1], strict=True))


def module(stage: str) -> Stage:
    """The ``STAGE`` that ``stages/<stage>.py`` declares (imported when first asked for)."""
    if stage not in STAGES:
        raise ValueError(stage)
    found = importlib.import_module(f"personaforge.stages.{stage}").STAGE
    if not isinstance(found, Stage) or found.name != stage:
        raise TypeError(f"personaforge.stages.{stage}.STAGE is not its Stage")
    return found


def _make(stage: str, ctx: Context) -> StageResult:
    st = module(stage)
    ins = st.inputs(ctx)
    skipped, reason = skip_if_current(ctx, stage, st.model, ins, st.recorded_problem)
    return skipped or st.make(ctx, ins, reason)


def current(ctx: Context, model: type[R], stage: str) -> R:
    """The recorded manifest of ``stage``, checked to be current with all that feeds it.

    A stage never builds on a manifest whose own inputs have changed since it was written:
    that is how a clip made for old audio could end up under new audio.
    """
    manifest = ctx.verified.get(stage)
    if manifest is None:
        path = ctx.project.manifest_path(stage)
        if not path.is_file():
            raise PersonaForgeError(
                f"{path.name} not found; run `personaforge {stage}` first", file=path
            )
        loaded = load_model(MANIFEST_MODELS[stage], path, max_bytes=MAX_MANIFEST_BYTES, sealed=True)
        reason = why_rerun(ctx.project, loaded, module(stage).inputs(ctx))
        if reason is not None:
            raise PersonaForgeError(
                f"out of date ({reason}); run `personaforge {stage}` first", file=path
            )
        ctx.verified[stage] = manifest = loaded
    if not isinstance(manifest, model):
        raise TypeError(f"{stage} manifest is {type(manifest).__name__}, not {model.__name__}")
    return manifest


def run_stage(stage: str, ctx: Context) -> StageResult:
    """Run one stage: skipped when its record is current, else made; any expected error is
    tagged with the stage that broke."""
    try:
        result = _make(stage, ctx)
    except PersonaForgeError as exc:
        shotcache.settle(ctx)  # the shots made before the failure are shared all the same
        raise exc.with_stage(stage) from None
    except OSError as exc:
        shotcache.settle(ctx)
        if exc.errno not in USER_FIXABLE:
            raise
        raise os_problem(exc).with_stage(stage) from None
    except BaseException:
        shotcache.settle(ctx, interrupted=True)
        raise
    shotcache.settle(ctx)
    return result
