"""The cost before the spend: the sum over the stages' own plans of work (each stage's
``work``, runtime/work.py): what would run and what is reused, the units each paid backend
would bill (priced from costs.py), and the time, from the rates measured beside each backend.

Nothing is sent anywhere. Estimates are deliberately on the high side where the cache cannot be
checked cheaply (a lip-sync clip counts as to be made unless its stage is up to date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from personaforge.core.project import STAGES, Project
from personaforge.costs import PRICES_AS_OF, Billing, summarize
from personaforge.errors import PersonaForgeError
from personaforge.runtime import graph
from personaforge.runtime.common import Context, located
from personaforge.runtime.work import StageWork, will_call
from personaforge.stages import plan
from personaforge.stages.speak import speak_name

# Starting Python, reading the project and checking what every stage recorded (hashing its
# files, which grow with the video's length and frame size): measured with
# bench/estimate_bench.py's no-op run. Each stage's own time is its StageWork's, from the
# rates beside its backends (backends/rates.py) and the stage's own measured constants.
RUN_S: Final = 0.6
RUN_S_PER_S_MPX: Final = 0.005


@dataclass
class StageEstimate:
    stage: str
    backend: str
    would_run: bool
    reason: str
    shots: int
    shots_to_make: int
    bills: list[Billing]
    seconds: float
    requests: int = 0  # paid calls: Claude requests, TTS requests, lip-sync predictions
    shots_reused: int = 0

    @property
    def usd(self) -> float:
        return round(sum(b.usd for b in self.bills), 6)

    def as_json(self) -> dict[str, object]:
        units = summarize(self.bills)["units"]
        return {
            "backend": self.backend,
            "would_run": self.would_run,
            "reason": self.reason,
            "shots": self.shots,
            "shots_to_make": self.shots_to_make,
            "shots_reused": self.shots_reused,
            "units": units,
            "requests": self.requests,
            "usd": self.usd,
            "seconds": round(self.seconds, 1),
        }


@dataclass
class Estimate:
    stages: list[StageEstimate]
    duration_s: float
    overhead_s: float = 0.0  # what every run costs, even one that makes nothing
    works: dict[str, StageWork] = field(default_factory=dict)  # what it sums

    @property
    def usd(self) -> float:
        return round(sum(s.usd for s in self.stages), 6)

    @property
    def seconds(self) -> float:
        return self.overhead_s + sum(s.seconds for s in self.stages)

    def calls(self, stage: str) -> bool:
        """Whether a run would call ``stage``'s backend (runtime.work.will_call)."""
        return will_call(self.works, stage)

    def as_json(self) -> dict[str, object]:
        return {
            "stages": {s.stage: s.as_json() for s in self.stages},
            "usd": self.usd,
            "seconds": round(self.seconds, 1),
            "duration_s": round(self.duration_s, 1),
            "prices_as_of": PRICES_AS_OF,
            "estimated": True,
        }


# ---------------------------------------------------------------- the estimate


def estimate(
    project: Project,
    *,
    fmt: str | None = None,
    do_publish: bool = True,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    cache: str | None = None,
) -> Estimate:
    """What ``make-video`` would do and cost now. Reads the project (and the shared shot
    cache, ``cache`` over video.yaml's, without downloading); sends nothing."""
    ctx = Context.load(project, force=force, env=env)
    ctx.cache_url = cache
    if fmt is not None:
        ctx.video = ctx.video.for_format(fmt)
    return estimate_for(ctx, do_publish=do_publish)


def estimate_for(ctx: Context, *, do_publish: bool = True) -> Estimate:
    """``estimate`` for a loaded context (its manifests found current are noted in it): the
    sum over the stages' own works (runtime.graph.works), each priced and timed by the rates
    beside its backends."""
    from personaforge.runtime import preflight

    _check_names(ctx)
    preflight.check(ctx)  # media a run would refuse are refused here too
    stages = [s for s in STAGES if do_publish or s != "publish"]
    works = graph.works(ctx, stages)
    every = works["speak"].shots
    duration = works["speak"].duration_s
    width, height = ctx.project.frame_size(ctx.video)
    mpx = width * height / 1e6
    out = [
        StageEstimate(
            stage=w.stage,
            backend=w.backend,
            would_run=w.runs,
            reason=w.reason,
            shots=len(every),
            shots_to_make=len(w.to_make),
            shots_reused=len(w.reused) if w.shots else 0,
            bills=w.bills,
            seconds=w.seconds,
            requests=w.calls,
        )
        for w in works.values()
    ]
    return Estimate(out, duration, RUN_S + RUN_S_PER_S_MPX * duration * mpx, works)


def _check_names(ctx: Context) -> None:
    """A backend make-video would refuse (a typo, or one whose package is not installed) is
    an error here too, where it is chosen, not an estimate of a run that cannot happen."""
    from personaforge.backends import registry

    video, persona = ctx.project.video_path, ctx.project.persona_path
    spoken_in_video = ctx.video.backends.speak is not None
    chosen: list[tuple[registry.Kind, str, Path, tuple[str, ...]]] = [
        ("plan", ctx.video.backends.plan, video, ("backends", "plan")),
        (
            "speak",
            ctx.video.backends.speak or ctx.persona.voice.backend,
            video if spoken_in_video else persona,
            ("backends", "speak") if spoken_in_video else ("voice", "backend"),
        ),
        ("lipsync", _lipsync_name(ctx), video, ("backends", "lipsync")),
    ]
    for kind, name, path, loc in chosen:
        try:
            registry.resolve(kind, name)
        except PersonaForgeError as exc:
            exc.field = ".".join(loc)  # the registry names video.yaml's field, maybe not here
            raise located(exc, path, loc, kind) from None


def _lipsync_name(ctx: Context) -> str:
    from personaforge.stages.parts import faces

    return faces.backend_name(ctx)


def over_budget(result: Estimate, limit: float, *, source: str) -> PersonaForgeError | None:
    """The one-line refusal when the estimate exceeds ``limit`` USD, else None."""
    if result.usd <= limit:
        return None
    paid = ", ".join(f"{s.stage} ${s.usd:.2f}" for s in result.stages if s.usd > 0)
    return PersonaForgeError(
        f"estimated cost ${result.usd:.2f} ({paid}) exceeds the budget of ${limit:.2f} ({source})",
        hint="see `personaforge estimate`; raise the budget or use offline backends",
    )


# ---------------------------------------------------------------- translations
# Kept apart from estimate_for (one project's stages): the translations are more projects, and
# translating is work on the source done before any of their stages.


@dataclass
class LanguageEstimate:
    """One translation `translate` made: what make-video --with-translations would do in it."""

    language: str
    folder: Path
    voice: str  # the speak backend that would say it
    draft: bool  # espeak-ng's draft offline voice
    no_voice: str  # why no voice chosen says this language ('' when one does)
    characters: int  # what its voice says, the whole script (what ElevenLabs bills on a run)
    retranslate: bool  # the source script changed since this translation was made
    translate: list[Billing]  # what translating it again would bill (nothing if current)
    estimate: Estimate

    @property
    def usd(self) -> float:
        return round(sum(b.usd for b in self.translate) + self.estimate.usd, 6)

    def as_json(self) -> dict[str, object]:
        return {  # its stages, as a project's estimate; usd with translating again
            **{k: v for k, v in self.estimate.as_json().items() if k != "prices_as_of"},
            "language": self.language,
            "project": str(self.folder),
            "voice": self.voice,
            "draft_voice": self.draft,
            **({"no_voice": self.no_voice} if self.no_voice else {}),
            "characters": self.characters,
            "retranslate": self.retranslate,
            "translate": summarize(self.translate),
            "usd": self.usd,
        }


def estimate_translations(
    project: Project,
    *,
    fmt: str | None = None,
    do_publish: bool = True,
    force: bool = False,
    env: Mapping[str, str] | None = None,
    cache: str | None = None,
) -> list[LanguageEstimate]:
    """The translations of ``project`` that `translate` recorded: per language, translating
    again where the script changed (priced by translate's own estimate, the one price table),
    its voice and the characters it says, and make-video's estimate in it. Sends nothing."""
    from personaforge.commands import translate
    from personaforge.core.specs import spoken_language
    from personaforge.text.normalize import spoken_text, tokenize

    made = translate.recorded(project.root)
    source = translate.source_sha256(project.root)
    out: list[LanguageEstimate] = []
    for folder in translate.siblings(project.root):
        code = next(c for c, m in made.items() if (project.root / m.folder).resolve() == folder)
        stale = made[code].source_sha256 != source
        bills = translate.estimate(project.root, [code], model=made[code].model) if stale else []
        ctx = Context.load(Project.open(str(folder)), force=force, env=env)
        ctx.cache_url = cache
        if fmt is not None:
            ctx.video = ctx.video.for_format(fmt)
        language = spoken_language(ctx.video, ctx.persona)
        shots = plan.planned(ctx, False)
        chars = sum(len(spoken_text(tokenize(s.text, language), language)) for s in shots)
        voice, no_voice = speak_name(ctx), ""
        try:
            from personaforge.stages.speak import backend_name

            backend_name(ctx.video.backends.speak or ctx.persona.voice.backend, language)
        except PersonaForgeError as exc:
            no_voice = exc.message  # make-video would refuse this language in one line
        result = estimate_for(ctx, do_publish=do_publish)
        out.append(LanguageEstimate(code, folder, voice, voice == "espeak", no_voice, chars,
                                    stale, bills, result))  # fmt: skip
    return out
