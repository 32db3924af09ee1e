"""speak: text to speech per shot, with word timings and visemes, cached per shot."""

from __future__ import annotations

import math
import threading
import wave
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from personaforge.backends import registry
from personaforge.backends.base import Speech, SpeechRequest, TTSBackend, VoiceSetup
from personaforge.backends.tts import director
from personaforge.core.manifests import (
    CARD_KINDS,
    EmotionPoint,
    PlanManifest,
    PlannedShot,
    SpeechManifest,
    SpokenShot,
    VisemeKey,
    Word,
)
from personaforge.core.specs import (
    FPS,
    Persona,
    spoken_language,
)
from personaforge.core.yamlio import line_of
from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.runtime.common import (
    Context,
    Stage,
    StageResult,
    backend_located,
    read_shot_record,
    record,
    recorded_fields,
    reusable_shots,
    save_shot,
)
from personaforge.runtime.graph import current
from personaforge.runtime.work import ShotWork, StageWork, seconds_for
from personaforge.text import languages
from personaforge.text.markup import clean
from personaforge.text.normalize import NORMALIZE_VERSION

SPEECH_DIR = "speech"
DEFAULT_RATE = 22050  # every voice speaks at this rate (piper's joe, ElevenLabs pcm_22050)


def make_backend(
    persona: Persona,
    *,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    state_dir: Path | None = None,
    max_concurrency: int = 2,
    language: str = languages.DEFAULT,
) -> TTSBackend:
    """The persona's voice (or ``name``'s), built from its persona.yaml settings, for a
    script in ``language``. The offline voice is piper's in English and espeak-ng's draft
    voice in the other languages it speaks; where none does, one line naming the language."""
    name = backend_name(name or persona.voice.backend, language)
    setup = VoiceSetup(persona, language, env, state_dir, max_concurrency)
    return registry.resolve("speak", name).from_setup(setup)


def backend_name(name: str, language: str) -> str:
    """The voice backend that speaks ``language`` for the one chosen: the offline voice is
    piper's joe in English and espeak-ng's draft voice in the languages it speaks."""
    lang = languages.get(language)
    if name != "piper" or lang.code == "en":
        return name
    if lang.espeak is None:
        raise PersonaForgeError(
            f"no offline voice speaks {lang.name} ({language})",
            hint="the elevenlabs voice does: voice: {backend: elevenlabs} in persona.yaml",
        )
    return "espeak"


def backend(ctx: Context, *, check: bool = True) -> TTSBackend:
    """The stage's voice; with ``check``, also fail now if it lacks a key (before any work)."""
    env = ctx.environment()
    try:
        tts = make_backend(
            ctx.persona,
            name=ctx.video.backends.speak,
            env=env,
            state_dir=ctx.project.build / SPEECH_DIR,
            max_concurrency=ctx.video.max_concurrency,
            language=spoken_language(ctx.video, ctx.persona),
        )
    except PersonaForgeError as exc:
        if exc.field != "backends.speak":  # not the choice of backend: its settings
            raise
        raise backend_located(ctx, "speak", exc) from None
    if check:
        _check(tts)
    return tts


def _check(tts: TTSBackend) -> None:
    """Fail now, before any work, if the voice lacks its key."""
    tts.check()


def voice_key(tts: TTSBackend, language: str = languages.DEFAULT) -> str:
    # The text normaliser decides what is said, so its version is part of the voice.
    extra = {"language": language} if language != languages.DEFAULT else {}
    return canonical_hash(
        {"backend": tts.name, "normalize": NORMALIZE_VERSION, **tts.settings_key(), **extra}
    )


def inputs(ctx: Context) -> dict[str, str]:
    if ctx.video.narration is not None:  # a recorded take: aligned, not synthesised
        from personaforge.stages.parts import narration

        return narration.inputs(ctx)
    plan = current(ctx, PlanManifest, "plan")
    tts = backend(ctx, check=False)
    return {
        "plan": plan.content_hash(),
        "voice": voice_key(tts, spoken_language(ctx.video, ctx.persona)),
        "director": director.DIRECTOR_VERSION,
        "persona": canonical_hash(
            {
                "archetype": ctx.persona.archetype,
                "pronunciations": _persona(ctx).pronunciations or {},
            }
        ),
    }


# A title or quote card stays on screen at least this long, however short its spoken text
# ("# Hola"): long enough to read, and for its caption to last the 5/6 s the caption rules
# ask, with the gap before the next cue (a recorded take's silent cards last as long).
CARD_MIN_S = 1.5


def _hold(voiced: Voiced, seconds: float) -> None:
    """Pad ``voiced`` with silence at its end to last at least ``seconds``."""
    short = round(seconds * voiced.sample_rate) - len(voiced.samples) // 2
    if short > 0:
        voiced.samples += bytes(2 * short)  # 16-bit mono silence


def frames_for(duration_s: float, fps: int = FPS) -> int:
    return max(1, math.ceil(duration_s * fps - 1e-6))


@dataclass
class ShotJob:
    """One shot to voice: what to say, how, and where its audio goes."""

    index: int
    planned: PlannedShot
    direction: director.Direction
    key: str
    wav: Path
    previous_text: str
    next_text: str


def plan_jobs(ctx: Context, plan: PlanManifest, tts: TTSBackend) -> list[ShotJob]:
    language = spoken_language(ctx.video, ctx.persona)
    persona = _persona(ctx)
    vkey = voice_key(tts, language)
    folder = ctx.project.build / SPEECH_DIR
    jobs = []
    texts = [clean(s.text) for s in plan.shots]
    for i, planned in enumerate(plan.shots):
        direction = director.direct(
            persona,
            planned.text,
            emotion=planned.emotion,
            kind=planned.kind,
            backend=tts.name,
            language=language,
        )
        # The neighbours' text is sent for prosody but is not part of the key: an edit to one
        # sentence re-voices that shot only (its neighbours keep the take they paid for).
        hold = {"card_min_s": CARD_MIN_S} if planned.kind in CARD_KINDS else {}
        key = canonical_hash({"text": planned.text, "voice": vkey, **direction.key(), **hold})
        jobs.append(
            ShotJob(
                index=i,
                planned=planned,
                direction=direction,
                key=key,
                wav=folder / f"{key[:24]}.wav",
                previous_text=texts[i - 1] if i else "",
                next_text=texts[i + 1] if i + 1 < len(texts) else "",
            )
        )
    return jobs


def make(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    if ctx.video.narration is not None:
        from personaforge.stages.parts import narration

        return narration.run(ctx, ins, reason)
    plan = current(ctx, PlanManifest, "plan")
    # The key is checked only if a shot must be voiced: with every take made already (a
    # heading or caption edit), the stage needs no key.
    tts = backend(ctx, check=False)
    jobs = plan_jobs(ctx, plan, tts)
    check_languages(ctx, plan, tts)
    done: dict[int, SpokenShot] = {}
    todo: list[ShotJob] = []
    records = [(job.wav.with_suffix(".json"), job.key) for job in jobs]
    found = reusable_shots(ctx, SpokenShot, records)
    for job, shot in zip(jobs, found, strict=True):
        if shot is None:
            todo.append(job)
        else:
            done[job.index] = shot
    reused = len(done)
    if todo:
        _check(tts)
        _resolve_voice(ctx, tts)
    ctx.progress.start("speaking", total=len(jobs))
    for _ in range(reused):
        ctx.progress.advance()

    def voice(job: ShotJob) -> SpokenShot:
        # Recorded the moment it is made: a failed or interrupted run never pays for it again.
        shot = _synthesize(ctx, tts, job, len(jobs))
        save_shot(ctx, shot, job.wav.with_suffix(".json"))
        return shot

    # A sentence said twice is voiced (and paid for) once.
    unique = list({job.key: job for job in reversed(todo)}.values())[::-1]
    made: dict[int, SpokenShot] = {}
    workers = max(1, min(tts.max_concurrency, len(unique)))
    if workers == 1:
        for job in unique:
            made[job.index] = voice(job)
            ctx.progress.advance()
    else:
        _voice_in_parallel(ctx, unique, voice, workers, made)
    by_key = {shot.key: shot for shot in made.values()}
    for job in todo:
        done[job.index] = by_key[job.key]
        if job.index not in made:
            ctx.progress.advance()
    ctx.progress.finish()
    if unique:
        # An in-process voice stays loaded for the next project, but not the working memory
        # its longest sentence needed: lipsync and render would carry it.
        tts.release_memory()
    shots = [
        # Kind, emotion and camera come from this plan, whatever shot first made the audio.
        done[job.index].model_copy(update=job.planned.model_dump())
        for job in jobs
    ]
    manifest = SpeechManifest(
        **recorded_fields(ins, tts.name, tts.version),
        sample_rate=_rate(ctx.project.root / shots[0].audio),
        shots=shots,
    )
    path = record(ctx, "speak", manifest)
    return StageResult("speak", path, True, reason, shots=len(shots), reused=reused)


class _Skipped(Exception):
    """A shot not started because another one failed."""


def _voice_in_parallel(
    ctx: Context,
    todo: list[ShotJob],
    voice: Callable[[ShotJob], SpokenShot],
    workers: int,
    done: dict[int, SpokenShot],
) -> None:
    """Voice up to ``workers`` shots at once. The first failure stops every shot not yet
    started at once (a bad key must not be tried on every shot) and is raised when the
    running ones have finished and been recorded."""
    stop = threading.Event()

    def guarded(job: ShotJob) -> SpokenShot:
        if stop.is_set():
            raise _Skipped
        try:
            return voice(job)
        except BaseException:
            stop.set()
            raise

    error: BaseException | None = None
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="speak") as pool:
        futures = {pool.submit(guarded, job): job for job in todo}
        try:
            for fut in as_completed(futures):
                exc = fut.exception()
                if exc is None:
                    done[futures[fut].index] = fut.result()
                    ctx.progress.advance()
                elif not isinstance(exc, _Skipped) and error is None:
                    error = exc
        except BaseException:  # interrupted: start nothing more, let the running ones end
            stop.set()
            raise
    if error is not None:
        raise error


def _resolve_voice(ctx: Context, tts: TTSBackend) -> None:
    """Resolve a voice name once, before the first shot, so that an unknown voice is one
    line pointing at persona.yaml rather than one failure per shot."""
    try:
        tts.check_voice()
    except PersonaForgeError as exc:
        if exc.file is None and exc.field:
            path = ctx.project.persona_path
            exc.file = str(path)
            exc.line = line_of(path, tuple(exc.field.split(".")))
        raise


def _rate(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        return w.getframerate()


@dataclass
class Voiced:
    """A shot's speech, all pieces joined: what the stage records and `speak --text` writes."""

    samples: bytes
    sample_rate: int
    words: list[Word]
    visemes: list[VisemeKey]
    spoken: str
    billing: list[Billing]
    emotion_curve: list[EmotionPoint]

    @property
    def duration_s(self) -> float:
        return len(self.samples) / 2 / self.sample_rate

    def write_wav(self, path: Path) -> None:
        with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(self.samples)


def voice_text(
    tts: TTSBackend,
    direction: director.Direction,
    *,
    previous_text: str = "",
    next_text: str = "",
    label: str = "",
) -> Voiced:
    """Voice each piece of a shot (split at [pause] marks), joined with their silences."""
    pieces = direction.pieces
    samples = bytearray()
    rate = 0
    words: list[Word] = []
    emphasised: list[bool] = []
    visemes: list[VisemeKey] = []
    spoken: list[str] = []
    billing: list[Billing] = []
    said_before = previous_text
    for k, piece in enumerate(pieces):
        offset = len(samples) / 2 / rate if rate else 0.0
        if piece.tokens:
            later = " ".join(p.text for p in pieces[k + 1 :] if p.text)
            request = SpeechRequest(
                tokens=piece.tokens,
                emphasis=piece.emphasis,
                previous_text=said_before.strip(),
                next_text=(later + " " + next_text).strip(),
                delivery=direction.delivery,
                label=label,
            )
            speech: Speech = tts.synthesize(piece.text, request)
            if rate and speech.sample_rate != rate:
                raise PersonaForgeError(f"{label}: the voice changed its sample rate mid-shot")
            rate = speech.sample_rate
            samples += speech.samples
            words += [Word(text=w.text, start=round(w.start + offset, 3),
                           end=round(w.end + offset, 3)) for w in speech.words]  # fmt: skip
            emphasised += [i in piece.emphasis for i in range(len(speech.words))]
            for t, v in speech.visemes:
                t = round(t + offset, 3)
                if visemes and visemes[-1].t >= t:
                    visemes[-1] = VisemeKey(t=visemes[-1].t, v=v)
                elif not visemes or visemes[-1].v != v:
                    visemes.append(VisemeKey(t=t, v=v))
            spoken.append(speech.spoken)
            billing += speech.billing
            said_before = (said_before + " " + piece.text).strip()
        if piece.pause_after_s > 0:
            rate = rate or DEFAULT_RATE
            if not visemes or visemes[-1].v != "sil":
                visemes.append(VisemeKey(t=round(len(samples) / 2 / rate, 3), v="sil"))
            samples += b"\0\0" * round(piece.pause_after_s * rate)
    if not samples:  # a shot of nothing at all still takes a moment
        rate = rate or DEFAULT_RATE
        samples += b"\0\0" * int(0.3 * rate)
    if not visemes:
        visemes.append(VisemeKey(t=0.0, v="sil"))
    duration = len(samples) / 2 / rate
    curve = director.emotion_curve(direction, words, duration, emphasised)
    return Voiced(
        samples=bytes(samples),
        sample_rate=rate,
        words=words,
        visemes=visemes,
        spoken=" ".join(s for s in spoken if s),
        billing=billing,
        emotion_curve=[EmotionPoint(t=t, emotion=e, intensity=i) for t, e, i in curve],
    )


def _synthesize(ctx: Context, tts: TTSBackend, job: ShotJob, total: int) -> SpokenShot:
    label = f"shot {job.index + 1}/{total} ({_excerpt(job.planned.text)})"
    voiced = voice_text(
        tts,
        job.direction,
        previous_text=job.previous_text,
        next_text=job.next_text,
        label=label,
    )
    if job.planned.kind in CARD_KINDS:
        _hold(voiced, CARD_MIN_S)
    voiced.write_wav(job.wav)
    context = None
    if tts.uses_context and (job.previous_text or job.next_text):
        context = canonical_hash({"previous": job.previous_text, "next": job.next_text})
    return SpokenShot(
        id="",
        kind="talking",
        key=job.key,
        text=job.planned.text,
        spoken=voiced.spoken,
        audio=ctx.project.rel(job.wav),
        audio_sha256=sha256_file(job.wav),
        duration_s=round(voiced.duration_s, 4),
        frames=frames_for(voiced.duration_s),
        words=voiced.words,
        visemes=voiced.visemes,
        billing=voiced.billing,
        emotion_curve=voiced.emotion_curve,
        delivery=job.direction.delivery,
        context=context,
        language=spoken_language(ctx.video, ctx.persona),
    )


def _persona(ctx: Context) -> Persona:
    """The persona with the pronunciations of the script's language."""
    said = ctx.persona.pronunciations_for(spoken_language(ctx.video, ctx.persona))
    return ctx.persona.model_copy(update={"pronunciations": said or None})


def speaks(tts: TTSBackend, language: languages.Language) -> bool:
    """Whether ``tts`` can say text in ``language`` (a backend without the question is
    taken at its word: it speaks what it is given)."""
    return tts.speaks(language.code)


def check_languages(ctx: Context, plan: PlanManifest, tts: TTSBackend) -> None:
    """Nothing is dropped in silence: text in a script the voice cannot say is one line,
    naming where it is in the script and the language found, before anything is voiced."""
    own = languages.get(spoken_language(ctx.video, ctx.persona))
    for shot in plan.shots:
        for offset, _script in languages.foreign_scripts(shot.text, own):
            run = _run_at(shot.text, offset)
            found = languages.guess_language(run)
            if found is None or not speaks(tts, found):
                raise _unsaid(ctx, tts, run, found, own)
    if not speaks(tts, own):
        raise PersonaForgeError(
            f"the {tts.name} voice does not speak {own.name}",
            file=str(ctx.project.video_path),
            field="language",
            hint=_who_speaks(own),
        )


def _run_at(text: str, offset: int) -> str:
    """The words from ``offset`` to the end of their sentence (or the next Latin word)."""
    end = offset
    while end < len(text) and languages.script_of(text[end]) != "LATIN":
        end += 1
    return text[offset:end].strip()


def _unsaid(
    ctx: Context,
    tts: TTSBackend,
    run: str,
    found: languages.Language | None,
    own: languages.Language,
) -> PersonaForgeError:
    script_name = ctx.video.script
    line = None
    path = None
    if script_name is not None:
        path = ctx.project.root / script_name
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            text = ""
        probe = run.split()[0] if run.split() else run
        at = text.find(probe)
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
    what = found.name if found else "another script"
    excerpt = run if len(run) <= 30 else run[:29] + "…"
    return PersonaForgeError(
        f"{what} text ({excerpt!r}) in {_article(own.name)} {own.name} script: "
        f"the {tts.name} voice cannot say it",
        file=str(path) if path else str(ctx.project.video_path),
        line=line,
        hint=_who_speaks(found) if found else "write it in the script's language",
    )


def _who_speaks(lang: languages.Language) -> str:
    offline = " (offline: espeak-ng's draft voice)" if lang.espeak else ""
    return (
        f"a voice that speaks {lang.name}: voice: {{backend: elevenlabs}} in persona.yaml; "
        f"a script in {lang.name}: language: {lang.code} in video.yaml{offline}"
    )


def _excerpt(text: str, n: int = 40) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


# ---------------------------------------------------------------- the plan of work


def speak_name(ctx: Context) -> str:
    """The voice that will speak: piper's name stands for the offline voice of the language."""
    name = ctx.video.backends.speak or ctx.persona.voice.backend
    try:
        return backend_name(name, spoken_language(ctx.video, ctx.persona))
    except PersonaForgeError:
        return name  # no offline voice: make-video says so, the estimate counts nothing


def _takes(ctx: Context) -> list[Path]:
    """The recorded takes video.yaml's narration names (those that exist)."""
    n = ctx.video.narration
    if n is None:
        return []
    names = [n.file] if n.file else []
    return [p for p in (ctx.project.root / f for f in [*names, *n.files.values()]) if p.is_file()]


def _takes_seconds(ctx: Context) -> float:
    from personaforge.media.probe import probe

    seconds = 0.0
    for take in _takes(ctx):
        try:
            seconds += probe(take).duration_s or 0.0
        except PersonaForgeError:  # an unreadable take is speak's error to report
            continue
    return seconds


def _speech(
    ctx: Context, shots: list[PlannedShot]
) -> tuple[dict[int, str], dict[int, SpokenShot], set[int]]:
    """Each shot's take, keyed as the stage keys it (plan_jobs: a sentence said twice the
    same way is one take), the shots whose take is made already (per-shot records, here or in
    the shared cache, not downloaded), by index, each as the stage would record it for this
    plan; and those of them found only in the shared cache."""
    try:
        tts = backend(ctx, check=False)
        # plan_jobs reads only the shots; the rest of a plan manifest is not known yet.
        draft = PlanManifest.model_construct(key="", title=ctx.video.title, slug="", shots=shots)
        jobs = plan_jobs(ctx, draft, tts)
    except PersonaForgeError:
        return {}, {}, set()
    records = [(job.wav.with_suffix(".json"), job.key) for job in jobs]
    here = {job.index for job in jobs if read_shot_record(SpokenShot, job.wav.with_suffix(".json"))}
    found = reusable_shots(ctx, SpokenShot, records, fetch=False)
    made = {
        job.index: done.model_copy(update=job.planned.model_dump())
        for job, done in zip(jobs, found, strict=True)
        if done is not None
    }
    return {job.index: job.key for job in jobs}, made, set(made) - here


def work(ctx: Context, reason: str | None, before: Mapping[str, StageWork]) -> StageWork:
    """What speaking would do: per shot, its take reused (recorded, in the shared cache, or
    the same take as an earlier shot) or voiced, by the voice's own rates and prices."""
    from personaforge.backends import registry
    from personaforge.text.normalize import spoken_text, tokenize

    runs = reason is not None
    shots: list[PlannedShot] = before["plan"].draft
    takes: dict[int, str] = {}
    cached: set[int] = set()
    manifest = ctx.verified.get("speak")
    if not runs and isinstance(manifest, SpeechManifest):
        spoken = dict(enumerate(manifest.shots))
    else:
        takes, spoken, cached = _speech(ctx, shots)
    name = speak_name(ctx)
    rates = registry.rates("speak", name)
    if ctx.video.narration is not None:  # a recorded take: aligned, not voiced
        name = f"narration:{ctx.video.narration.align}"
        rates = registry.rates("align", ctx.video.narration.align)
    speed = ctx.persona.voice.speed
    language = spoken_language(ctx.video, ctx.persona)
    first: dict[str, int] = {}
    out = StageWork("speak", name, runs, reason or "up to date", paid=rates.paid)
    for i, shot in enumerate(shots):
        seconds = spoken[i].duration_s if i in spoken else seconds_for(shot.text, speed)
        w = ShotWork(shot.text, shot.kind, seconds)
        earlier = first.setdefault(takes[i], i) if i in takes else i
        if not runs:
            w.reason = "up to date"
        elif i in spoken:
            w.reason = "in the shared cache" if i in cached else "take made already"
        elif earlier != i:
            w.reason = f"the same take as shot {earlier + 1}"
        else:
            w.make, w.reason = True, "new take" if not ctx.force else "forced with --force"
            if rates.paid:
                w.paid = True
                w.chars = len(spoken_text(tokenize(shot.text, language), language))
        out.shots.append(w)
    out.duration_s = sum(w.seconds for w in out.shots)
    out.draft = (spoken, takes)
    if runs:
        todo = [w.paid_shot() for w in out.to_make]
        if ctx.video.narration is not None:
            extra = {"audio_seconds": _takes_seconds(ctx)} if rates.paid else {}
            out.bills = rates.bills([], extra) if rates.paid else []
            out.calls = len(_takes(ctx)) if rates.paid else 0
        else:
            model = getattr(ctx.persona.voice, "model", None)
            out.bills = rates.bills(todo, {}, model) if rates.paid else []
            out.calls = len(todo) if rates.paid else 0
        out.seconds = rates.seconds(todo)
    return out


STAGE = Stage("speak", SpeechManifest, inputs, make, work=work)
