"""The cost before the spend: per stage, what would run and what is cached, the units each paid
backend would bill, the money (from the one price table in costs.py) and a rough time.

Nothing is sent anywhere. Estimates are deliberately on the high side where the cache cannot be
checked cheaply (a lip-sync clip counts as to be made unless its stage is up to date).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from personaforge.core.manifests import (
    PERSONA_KINDS,
    PlanManifest,
    PlannedShot,
    SpeechManifest,
    SpokenShot,
)
from personaforge.core.project import STAGES, Project
from personaforge.costs import PRICES_AS_OF, Billing, bill, summarize
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import canonical_hash
from personaforge.runtime.common import (
    Context,
    load_recorded,
    located,
    reusable_shots,
    why_rerun,
)

WORDS_PER_SECOND: Final = 2.5  # speech at about 150 words a minute
CHARS_PER_TOKEN: Final = 3.5  # English prose and JSON, on the high side of Claude's tokenizer


@dataclass
class ShotWork:
    """One shot a stage would make."""

    text: str
    kind: str
    seconds: float  # spoken length: recorded where known, else from the word count


@dataclass
class StageWork:
    stage: str
    backend: str
    shots: list[ShotWork]  # what it would make (not cached)
    ctx: Context
    extra: dict[str, float] = field(default_factory=dict)  # e.g. prompt characters


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

    @property
    def usd(self) -> float:
        return round(sum(s.usd for s in self.stages), 6)

    @property
    def seconds(self) -> float:
        return self.overhead_s + sum(s.seconds for s in self.stages)

    def calls(self, stage: str) -> bool:
        """Whether a run would call ``stage``'s backend, erring on the side of yes: not when
        the stage is up to date or every shot it needs is made already; always after a
        director re-plans, as the shots it will choose are not known before it answers."""
        by = {s.stage: s for s in self.stages}
        planning = by["plan"]
        if stage != "plan" and planning.would_run and planning.backend != "offline":
            return True
        work = by[stage]
        if not work.would_run:
            return False
        return work.requests > 0 if work.backend in ESTIMATORS else work.shots_to_make > 0

    def as_json(self) -> dict[str, object]:
        return {
            "stages": {s.stage: s.as_json() for s in self.stages},
            "usd": self.usd,
            "seconds": round(self.seconds, 1),
            "duration_s": round(self.duration_s, 1),
            "prices_as_of": PRICES_AS_OF,
            "estimated": True,
        }


# ---------------------------------------------------------------- per-backend units


def _speak_name(ctx: Context) -> str:
    """The voice that will speak: piper's name stands for the offline voice of the language."""
    from personaforge.core.specs import spoken_language
    from personaforge.stages.speak import backend_name

    name = ctx.video.backends.speak or ctx.persona.voice.backend
    try:
        return backend_name(name, spoken_language(ctx.video, ctx.persona))
    except PersonaForgeError:
        return name  # no offline voice: make-video says so, the estimate counts nothing


def _claude(work: StageWork) -> list[Billing]:
    """One request: the prompt and numbered sentences in, a JSON shot list (and any thinking)
    out."""
    model = work.ctx.video.director.model
    sentences = work.extra.get("sentences", 0.0)
    tokens_in = round(work.extra.get("prompt_chars", 0.0) / CHARS_PER_TOKEN)
    tokens_out = round(300 + 40 * sentences)
    return [
        bill("anthropic", "input_token", tokens_in, model=model, estimated=True),
        bill("anthropic", "output_token", tokens_out, model=model, estimated=True),
    ]


def _elevenlabs(work: StageWork) -> list[Billing]:
    """ElevenLabs bills the characters of the text sent, after normalisation."""
    from personaforge.core.specs import spoken_language
    from personaforge.text.normalize import spoken_text, tokenize

    language = spoken_language(work.ctx.video, work.ctx.persona)
    chars = sum(len(spoken_text(tokenize(s.text, language), language)) for s in work.shots)
    model = getattr(work.ctx.persona.voice, "model", None)
    return [bill("elevenlabs", "character", chars, model=model, estimated=True)]


def _takes(ctx: Context) -> list[Path]:
    """The recorded takes video.yaml's narration names (those that exist)."""
    n = ctx.video.narration
    if n is None:
        return []
    names = [n.file] if n.file else []
    return [p for p in (ctx.project.root / f for f in [*names, *n.files.values()]) if p.is_file()]


def _aligned(work: StageWork) -> list[Billing]:
    """ElevenLabs forced alignment bills the seconds of audio sent: the takes' length."""
    from personaforge.media.probe import probe

    seconds = 0.0
    for take in _takes(work.ctx):
        try:
            seconds += probe(take).duration_s or 0.0
        except PersonaForgeError:  # an unreadable take is speak's error to report
            continue
    return [bill("elevenlabs", "audio_second", round(seconds, 1), estimated=True)]


Estimator = Callable[[StageWork], list[Billing]]


def _gpu(provider: str, per_shot_s: float, per_audio_s: float) -> Estimator:
    """A hosted lip-sync model: GPU seconds per prediction (start-up plus a multiple of the
    shot's length). Title cards are drawn locally and cost nothing."""

    def estimate(work: StageWork) -> list[Billing]:
        talking = [s for s in work.shots if s.kind in PERSONA_KINDS]
        gpu = sum(per_shot_s + per_audio_s * s.seconds for s in talking)
        return [bill(provider, "gpu_second", round(gpu, 1), estimated=True)] if talking else []

    return estimate


# Keyed by backend name; the lip-sync factors are rough, measured on typical 5-10 s shots.
ESTIMATORS: Final[dict[str, Estimator]] = {
    "claude": _claude,
    "elevenlabs": _elevenlabs,
    "narration:elevenlabs": _aligned,
    "sadtalker": _gpu("replicate", 8.0, 3.0),  # A100 on Replicate
    "latentsync": _gpu("runpod", 10.0, 4.0),  # 24 GB GPU on RunPod serverless
}

# Wall-clock rates from bench/render_bench.py on the 2-core development machine, unloaded
# (README: a 59 s video at 1080p in 26-37 s, its one-sentence edit in 6-9 s), and 320x180
# test renders: what a run costs per thing it really makes, not per shot listed.
# A speaking backend: (seconds per take made, per second of speech made).
TIMES: Final[dict[str, tuple[float, float]]] = {
    "offline": (0.0, 0.0),
    "claude": (0.0, 0.0),  # one request, counted below
    "piper": (0.05, 0.08),
    "espeak": (0.05, 0.08),  # not measured apart: taken as piper's, which it does not exceed
    "elevenlabs": (1.0, 0.1),
    "narration:offline": (0.1, 0.1),  # the offline voice says the text, then one time warp
    "narration:elevenlabs": (0.5, 0.05),
    # A hosted lip-sync model: its wait per clip made (the local encode is counted apart).
    "sadtalker": (25.0, 3.0),
    "latentsync": (20.0, 4.0),
}
VOICE_LOAD_S: Final = 0.5  # the packaged voice, loaded once per run that speaks
# Encoding a segment (drawing the frames and x264): per frame, plus per frame per megapixel.
SEGMENT_S_PER_FRAME: Final = 0.0017
SEGMENT_S_PER_FRAME_MPX: Final = 0.005
# Around the segments: the soundtrack (loudness passes and AAC, per second of video) and the
# join, made once a lipsync run has any segment to make.
LIPSYNC_S: Final = 0.3
LIPSYNC_S_PER_S: Final = 0.03
RENDER_S: Final = 0.3  # the segments are joined without encoding them again
RENDER_S_PER_S: Final = 0.01  # and the soundtrack muxed under the video
PUBLISH_S: Final = 1.0
CLAUDE_REQUEST_S: Final = 20.0
# Starting Python, reading the project and checking what every stage recorded (hashing its
# files, which grow with the video's length and frame size).
RUN_S: Final = 0.6
RUN_S_PER_S_MPX: Final = 0.005


# ---------------------------------------------------------------- the estimate


def _seconds_for(text: str, speed: float) -> float:
    return max(0.5, len(text.split()) / WORDS_PER_SECOND / max(speed, 0.1))


def _reasons(ctx: Context) -> dict[str, str | None]:
    """Per stage None (up to date) or why it would run, with the upstream cascade."""
    from personaforge.runtime.graph import module

    out: dict[str, str | None] = {}
    stale: str | None = None
    for stage in STAGES:
        if stale is not None:
            out[stage] = f"upstream {stale} would re-run"
            continue
        from personaforge.core.manifests import MANIFEST_MODELS

        previous = load_recorded(MANIFEST_MODELS[stage], ctx.project.manifest_path(stage))
        try:
            reason = why_rerun(ctx.project, previous, module(stage).inputs(ctx), force=ctx.force)
        except PersonaForgeError as exc:
            reason = f"cannot check ({exc.message})"
        if reason is None and previous is not None:
            ctx.verified[stage] = previous
        else:
            stale = stage
        out[stage] = reason
    return out


def _planned(ctx: Context, plan_current: bool) -> list[PlannedShot]:
    """The shots: the recorded plan if current, else the offline director's split of the
    script (the Claude director groups the same sentences, so the words are the same)."""
    if plan_current:
        manifest = ctx.verified.get("plan")
        if isinstance(manifest, PlanManifest):
            return manifest.shots
    from personaforge.backends.planner.offline import OfflinePlanner

    return OfflinePlanner().plan(ctx.project.script_text(ctx.video), ctx.persona)


def _speech(ctx: Context, shots: list[PlannedShot]) -> tuple[dict[int, str], dict[int, SpokenShot]]:
    """Each shot's take, keyed as the speak stage keys it (a sentence said twice the same way
    is one take), and the shots whose take is already made (per-shot records), by index, each
    as the speak stage would record it for this plan."""
    from personaforge.stages import speak

    try:
        tts = speak.backend(ctx, check=False)
        # plan_jobs reads only the shots; the rest of a plan manifest is not known yet.
        draft = PlanManifest.model_construct(key="", title=ctx.video.title, slug="", shots=shots)
        jobs = speak.plan_jobs(ctx, draft, tts)
    except PersonaForgeError:
        return {}, {}
    records = [(job.wav.with_suffix(".json"), job.key) for job in jobs]
    found = reusable_shots(ctx, SpokenShot, records, fetch=False)
    made = {
        job.index: done.model_copy(update=job.planned.model_dump())
        for job, done in zip(jobs, found, strict=True)
        if done is not None
    }
    return {job.index: job.key for job in jobs}, made


def _segments_to_make(
    ctx: Context, shots: list[PlannedShot], spoken: dict[int, SpokenShot], every: list[ShotWork]
) -> set[int]:
    """The shots (by index) whose segment the lipsync stage would make, each key once: its
    own plan of the segments (lipsync.segment_work) over the speech as it would be, the shots
    still to speak standing in with their estimated length (new audio: a new segment)."""
    from personaforge.core.specs import FPS
    from personaforge.stages import lipsync

    draft = [
        spoken[i]
        if i in spoken
        else SpokenShot.model_construct(
            **shot.model_dump(),
            key="",
            spoken=shot.text,
            audio="",
            audio_sha256=f"not made yet: {i}",
            duration_s=every[i].seconds,
            frames=max(1, round(every[i].seconds * FPS)),
            words=[],
            visemes=[],
        )
        for i, shot in enumerate(shots)
    ]
    try:
        plans, made = lipsync.segment_work(ctx, lipsync.shot_inputs(ctx), draft, fetch=False)
    except PersonaForgeError:
        return set(range(len(shots)))  # on the high side: the run will say what is wrong
    first: dict[str, int] = {}
    return {
        i
        for i, (plan, segment) in enumerate(zip(plans, made, strict=True))
        if segment is None and first.setdefault(plan.key, i) == i
    }


def _repeats(identity: dict[int, str]) -> set[int]:
    """The shots (by index) whose identity an earlier shot has: made (and paid for) once."""
    first: dict[str, int] = {}
    return {i for i, key in sorted(identity.items()) if first.setdefault(key, i) != i}


def _clips_not_to_pay(
    ctx: Context, shots: list[PlannedShot], spoken: dict[int, SpokenShot], takes: dict[int, str]
) -> set[int]:
    """Shots (by index) whose paid clip is already made, or made for an earlier shot in the
    run: keyed as the lipsync stage keys them where the speech is known, else by the take and
    what else the clip is asked to show."""
    from personaforge.core.specs import FPS
    from personaforge.stages import lipsync
    from personaforge.stages.parts import faces

    identity = {
        i: canonical_hash([takes[i], shot.kind, shot.emotion, shot.camera])
        for i, shot in enumerate(shots)
        if i in takes and i not in spoken and shot.kind in PERSONA_KINDS
    }
    made: set[int] = set()
    if spoken:
        w, h = ctx.project.frame_size(ctx.video)
        try:
            ins = {
                "look": faces.look_hash(ctx),
                "frame": f"{w}x{h}@{FPS}",
                "lipsync": faces.backend_id(ctx),
                "title_card": lipsync.TITLE_CARD_VERSION,
            }
        except PersonaForgeError:
            return _repeats(identity)
        for i, (key, done) in lipsync.source_clips(ctx, spoken, ins).items():
            identity[i] = key
            if done:
                made.add(i)
    return made | _repeats(identity)


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
    """``estimate`` for a loaded context (its manifests found current are noted in it)."""
    from personaforge.runtime import preflight

    _check_names(ctx)
    preflight.check(ctx)  # media a run would refuse are refused here too
    reasons = _reasons(ctx)
    speed = ctx.persona.voice.speed
    shots = _planned(ctx, reasons["plan"] is None)
    spoken: dict[int, SpokenShot] = {}
    takes: dict[int, str] = {}
    if reasons["speak"] is None and isinstance(ctx.verified.get("speak"), SpeechManifest):
        manifest = ctx.verified["speak"]
        assert isinstance(manifest, SpeechManifest)
        spoken = dict(enumerate(manifest.shots))
    else:
        takes, spoken = _speech(ctx, shots)

    def seconds(i: int, shot: PlannedShot) -> float:
        return spoken[i].duration_s if i in spoken else _seconds_for(shot.text, speed)

    every = [ShotWork(s.text, s.kind, seconds(i, s)) for i, s in enumerate(shots)]
    duration = sum(w.seconds for w in every)
    width, height = ctx.project.frame_size(ctx.video)
    mpx = width * height / 1e6
    names = {
        "plan": ctx.video.backends.plan,
        "speak": _speak_name(ctx),
        "lipsync": _lipsync_name(ctx),
        "render": "ffmpeg",
        "publish": ctx.video.publish.target,
    }
    if ctx.video.narration is not None:  # a recorded take: aligned, not voiced
        names["speak"] = f"narration:{ctx.video.narration.align}"
    out: list[StageEstimate] = []
    for stage in STAGES:
        if stage == "publish" and not do_publish:
            continue
        reason = reasons[stage]
        runs = reason is not None
        backend = names[stage]
        todo: list[ShotWork] = []
        billed: list[ShotWork] = []
        extra: dict[str, float] = {}
        if runs and stage == "plan":
            todo = every
            extra = _plan_extra(ctx)
        elif runs and stage == "speak":
            said = set(spoken) | _repeats(takes)
            todo = [w for i, w in enumerate(every) if i not in said]
        elif runs and stage == "lipsync":
            segments = _segments_to_make(ctx, shots, spoken, every)
            todo = [w for i, w in enumerate(every) if i in segments]
            # A segment made again (new captions, say) reuses the paid clip it was made from.
            clipped = _clips_not_to_pay(ctx, shots, spoken, takes)
            billed = [w for i, w in enumerate(every) if i in segments and i not in clipped]
        work = StageWork(stage, backend, billed if stage == "lipsync" else todo, ctx, extra)
        estimator = ESTIMATORS.get(backend)
        bills = estimator(work) if (runs and estimator) else []
        requests = 0
        if bills:  # a paid backend: one request to plan, one per shot to speak or lip-sync
            paid = [w for w in work.shots if stage != "lipsync" or w.kind in PERSONA_KINDS]
            requests = 1 if stage == "plan" else len(paid)
            if backend.startswith("narration:"):
                requests = len(_takes(ctx))
        out.append(
            StageEstimate(
                stage=stage,
                backend=backend,
                would_run=runs,
                reason=reason or "up to date",
                shots=len(every),
                shots_to_make=len(todo),
                bills=bills,
                seconds=_time(stage, backend, runs, todo, duration, mpx),
                requests=requests,
            )
        )
    return Estimate(out, duration, RUN_S + RUN_S_PER_S_MPX * duration * mpx)


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


def _plan_extra(ctx: Context) -> dict[str, float]:
    """The size of the director's request, from its real prompt (rendered, not sent)."""
    from personaforge.backends.planner.shots import answer_schema, numbered, prompt_text
    from personaforge.stages import plan

    if ctx.video.backends.plan not in ESTIMATORS:
        return {}
    blocks = numbered(ctx.project.script_text(ctx.video))
    try:
        system = plan.director_config(ctx).system_prompt
    except PersonaForgeError:
        system = ""
    chars = len(system) + len(prompt_text(blocks)) + len(json.dumps(answer_schema())) + 200
    return {
        "prompt_chars": float(chars),
        "sentences": float(sum(1 for b in blocks if b.kind == "sentence")),
    }


def _time(
    stage: str, backend: str, runs: bool, todo: list[ShotWork], duration: float, mpx: float
) -> float:
    """Seconds a stage would take for what it would make (``todo``) at ``mpx`` megapixels a
    frame, from the measured rates above."""
    from personaforge.core.specs import FPS

    if not runs:
        return 0.0
    if stage == "plan":
        return CLAUDE_REQUEST_S if backend == "claude" else 0.1
    if stage == "render":
        return RENDER_S + RENDER_S_PER_S * duration
    if stage == "publish":
        return PUBLISH_S
    per_shot, per_second = TIMES.get(backend, (5.0, 1.0))
    if stage == "speak":
        load = VOICE_LOAD_S if todo and backend == "piper" else 0.0
        return load + sum(per_shot + per_second * w.seconds for w in todo)
    # lipsync: every segment made is drawn (or conformed) and encoded here; a hosted model
    # is waited for besides, for each persona shot.
    frames = sum(w.seconds for w in todo) * FPS
    encode = frames * (SEGMENT_S_PER_FRAME + SEGMENT_S_PER_FRAME_MPX * mpx)
    if todo:
        encode += LIPSYNC_S + LIPSYNC_S_PER_S * duration
    if backend in ("avatar", "photo"):
        return encode
    talking = [w for w in todo if w.kind in PERSONA_KINDS]
    return encode + sum(per_shot + per_second * w.seconds for w in talking)


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
        shots = _planned(ctx, False)
        chars = sum(len(spoken_text(tokenize(s.text, language), language)) for s in shots)
        voice, no_voice = _speak_name(ctx), ""
        try:
            from personaforge.stages.speak import backend_name

            backend_name(ctx.video.backends.speak or ctx.persona.voice.backend, language)
        except PersonaForgeError as exc:
            no_voice = exc.message  # make-video would refuse this language in one line
        result = estimate_for(ctx, do_publish=do_publish)
        out.append(LanguageEstimate(code, folder, voice, voice == "espeak", no_voice, chars,
                                    stale, bills, result))  # fmt: skip
    return out
