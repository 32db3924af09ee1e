"""The stage graph: which stage feeds which, and the check that what a stage reads is current."""

from __future__ import annotations

import importlib
from typing import Protocol, TypeVar

from personaforge.core.manifests import MANIFEST_MODELS, Recorded
from personaforge.core.project import STAGES
from personaforge.core.yamlio import MAX_MANIFEST_BYTES, load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import USER_FIXABLE, os_problem
from personaforge.runtime import shotcache
from personaforge.runtime.common import Context, StageResult, why_rerun

R = TypeVar("R", bound=Recorded)

UPSTREAM: dict[str, str] = dict(zip(STAGES[1:], STAGES[:-1], strict=True))


class StageModule(Protocol):
    def inputs(self, ctx: Context) -> dict[str, str]: ...
    def run(self, ctx: Context) -> StageResult: ...


def module(stage: str) -> StageModule:
    if stage not in STAGES:
        raise ValueError(stage)
    found: StageModule = importlib.import_module(f"personaforge.stages.{stage}")  # type: ignore[assignment]
    return found


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
    """Run one stage; any expected error is tagged with the stage that broke."""
    try:
        result = module(stage).run(ctx)
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
