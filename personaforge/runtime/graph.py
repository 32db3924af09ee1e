"""The stage graph: which stage feeds which, and the check that what a stage reads is current."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TypeVar

from personaforge.core.manifests import MANIFEST_MODELS, Recorded
from personaforge.core.project import STAGES
from personaforge.core.yamlio import MAX_MANIFEST_BYTES, load_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import USER_FIXABLE, os_problem
from personaforge.runtime import shotcache
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    load_recorded,
    skip_if_current,
    why_rerun,
)
from personaforge.runtime.work import StageWork

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


def works(
    ctx: Context, stages: Sequence[str] = STAGES, *, local: bool = True, status: bool = False
) -> dict[str, StageWork]:
    """Each stage's ``StageWork``, in order: the same skip check ``run_stage`` makes (the key
    against the record; with ``local``, a stage's check of a matching record that needs no
    keys or network, as ``status`` and ``estimate`` ask), an upstream stage that would run
    making every later one run, then the stage's own ``work`` over the works before it.
    ``status``: a stage whose inputs cannot be read is the error it is (not a reason to run),
    and a work that cannot be said (an unplannable script, say) leaves only the reason, for
    that stage and the later ones (status says why stages run; the run says what is wrong)."""
    out: dict[str, StageWork] = {}
    stale: str | None = None
    said = True
    for stage in stages:
        st = module(stage)
        path = ctx.project.manifest_path(stage)
        reason: str | None
        previous = None
        if stale is not None:
            reason = f"upstream {stale} would re-run"
        else:
            previous = load_recorded(st.model, path)
            try:
                reason = why_rerun(
                    ctx.project, previous, st.inputs(ctx), force=ctx.force, path=path
                )
                if reason is None and previous is not None and local and st.local_problem:
                    reason = st.local_problem(ctx, previous)
            except PersonaForgeError as exc:
                if status:
                    raise
                reason = f"cannot check ({exc.message})"
            if reason is None and previous is not None:
                ctx.verified[stage] = previous
            else:
                stale = stage
        bare = StageWork(stage, "", reason is not None, reason or "up to date")
        try:
            out[stage] = st.work(ctx, reason, out) if st.work is not None and said else bare
        except PersonaForgeError:
            if not status:
                raise
            out[stage], said = bare, False
        out[stage].previous = previous
    return out
