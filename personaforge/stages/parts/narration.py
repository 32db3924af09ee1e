"""speak with a recorded take: the script's words found in the creator's recording (by an
``Aligner``), the take cut into shots at the silences between sentences, recorded exactly as a
synthesised speech manifest is, so lipsync, render and captions cannot tell the difference.

What is learnt about a take (its alignment) is cached under build/narration/, keyed by the
take's hash, the text and the aligner: a re-run, or a re-cut after a plan change that keeps
the text, aligns nothing again.
"""

from __future__ import annotations

import itertools
import json
import wave
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from personaforge.backends import registry
from personaforge.backends.base import (
    ALIGN_RATE,
    AlignedSentence,
    Aligner,
    Alignment,
    AlignSetup,
    NotInTake,
    TimedWord,
)
from personaforge.core.manifests import (
    PlanManifest,
    PlannedShot,
    SpeechManifest,
    SpokenShot,
    VisemeKey,
    Word,
)
from personaforge.core.specs import Narration, spoken_language
from personaforge.core.yamlio import line_of
from personaforge.costs import Billing
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_text, canonical_hash, sha256_file
from personaforge.media import ffmpeg
from personaforge.runtime.common import Context, StageResult, record, recorded_fields
from personaforge.runtime.graph import current
from personaforge.text.markup import clean

NARRATION_DIR = "narration"
SPEECH_DIR = "speech"
RATE = 22050  # the shots' audio, as the voices make it
MARGIN_S = 0.25  # kept before the first word and after the last of a take (its silence trimmed)
TITLE_S = 1.5  # a heading's card: silent (a take narrates the prose, not the headings)
SILENT_DBFS = -50.0  # a take no louder than this (RMS of its loudest second) is silent
CUT_VERSION = "1"  # bump when the way shots are cut from a take changes
# What a cleaned take goes through: rumble below the voice removed, then broadband noise.
CLEAN_FILTER = "highpass=f=80,afftdn=nr=12:nf=-40"
FORMATS = ".wav .flac .mp3 .m4a .ogg .opus .aac"


def make_aligner(name: str, ctx: Context) -> Aligner:
    language = spoken_language(ctx.video, ctx.persona)
    setup = AlignSetup(language, ctx.environment(), ctx.project.build / NARRATION_DIR)
    return registry.resolve("align", name).from_setup(setup)


def aligner_id(ctx: Context, narration: Narration) -> str:
    """Who aligns, at which version, in which language: what an alignment is keyed by."""
    version = registry.resolve("align", narration.align).version
    return f"{narration.align}:{version}:{spoken_language(ctx.video, ctx.persona)}"


@dataclass
class Part:
    """The shots one take narrates."""

    take: str  # as written in video.yaml
    field: str  # the video.yaml field that names it
    shots: list[int]  # indices into the plan's shots (headings excluded)


def parts(ctx: Context, plan: PlanManifest, narration: Narration) -> list[Part]:
    """Which take narrates which shots: a heading listed in ``files`` switches to its take,
    any other heading back to ``file``."""
    by_take: dict[tuple[str, str], Part] = {}
    take: str | None = narration.file
    field = "narration.file"
    heading = ""
    for i, shot in enumerate(plan.shots):
        if shot.kind == "title":
            heading = " ".join(clean(shot.text).split())
            named = {" ".join(k.split()): (k, v) for k, v in narration.files.items()}
            if heading in named:
                key, take = named[heading]
                field = f"narration.files.{key}"
            else:
                take, field = narration.file, "narration.file"
            continue
        if take is None:
            where = f"after the heading {heading!r}" if heading else "before the first heading"
            raise PersonaForgeError(
                f"no take for the script {where}: add it to 'files', or give 'file'",
                file=ctx.project.video_path,
                line=line_of(ctx.project.video_path, ("narration",)),
                field="narration",
            )
        by_take.setdefault((take, field), Part(take, field, [])).shots.append(i)
    unused = set(narration.files) - {
        p.field.removeprefix("narration.files.") for p in by_take.values()
    }
    if unused:
        name = sorted(unused)[0]
        raise PersonaForgeError(
            f"no heading {name!r} in the script",
            file=ctx.project.video_path,
            line=line_of(ctx.project.video_path, ("narration", "files", name)),
            field=f"narration.files.{name}",
        )
    return list(by_take.values())


def _take_path(ctx: Context, part: Part) -> Path:
    video = ctx.project.video_path
    line = line_of(video, tuple(part.field.split(".")))
    path = ctx.project.path(part.take, file=video, field=part.field)
    if not path.is_file():
        raise PersonaForgeError(
            f"the take {part.take} does not exist", file=video, line=line, field=part.field
        )
    if path.suffix.lower() not in FORMATS.split():
        raise PersonaForgeError(
            f"{part.take}: not a recording this reads ({FORMATS})",
            file=video,
            line=line,
            field=part.field,
        )
    return path


def inputs(ctx: Context) -> dict[str, str]:
    """speak's inputs with a take: the plan, each take's hash, how it is cleaned and aligned."""
    narration = ctx.video.narration
    assert narration is not None
    plan = current(ctx, PlanManifest, "plan")
    takes = {p.take: sha256_file(_take_path(ctx, p)) for p in parts(ctx, plan, narration)}
    return {
        "plan": plan.content_hash(),
        "narration": canonical_hash(
            {"takes": takes, "clean": narration.clean, "align": narration.align, "cut": CUT_VERSION}
        ),
    }


def run(ctx: Context, ins: dict[str, str], reason: str) -> StageResult:
    narration = ctx.video.narration
    assert narration is not None
    plan = current(ctx, PlanManifest, "plan")
    folder = ctx.project.build / NARRATION_DIR
    folder.mkdir(parents=True, exist_ok=True)
    aligner: Aligner | None = None
    shots: dict[int, SpokenShot] = {}
    todo = parts(ctx, plan, narration)
    ctx.progress.start("aligning the take", total=len(todo))
    for part in todo:
        take = _take_path(ctx, part)
        take_sha = sha256_file(take)
        prepared = _prepare(take, take_sha, narration.clean, folder)
        sentences = [clean(plan.shots[i].text) for i in part.shots]
        aligned = _cached(ctx, narration, take_sha, sentences, folder)
        if aligned is None and not ctx.force:
            _unchanged_script(ctx, folder, take_sha, sentences, part)
        if aligned is None:
            if aligner is None:
                aligner = make_aligner(narration.align, ctx)
                aligner.check()
            aligned = _align(ctx, aligner, prepared.align_wav, sentences, part, take)
            _store(ctx, narration, take_sha, sentences, folder, aligned)
        atomic_write_text(_said_path(folder, take_sha), json.dumps({"text": sentences}))
        shots.update(_cut(ctx, plan, part, prepared, take_sha, aligned))
        ctx.progress.advance()
    ctx.progress.finish()
    for i, shot in enumerate(plan.shots):
        if i not in shots:
            shots[i] = _title(ctx, shot)
    ordered = [shots[i] for i in range(len(plan.shots))]
    name = f"narration:{narration.align}"
    manifest = SpeechManifest(
        **recorded_fields(ins, name, aligner.version if aligner else ""),
        sample_rate=RATE,
        shots=ordered,
    )
    path = record(ctx, "speak", manifest)
    return StageResult("speak", path, True, reason, shots=len(ordered), reused=0)


# ---------------------------------------------------------------- the take, prepared


@dataclass
class Prepared:
    align_wav: Path  # 16 kHz mono, for the aligner
    shot_wav: Path  # 22.05 kHz mono, cut into the shots
    samples: np.ndarray  # shot_wav's samples (int16)


def _prepare(take: Path, sha: str, clean_it: bool, folder: Path) -> Prepared:
    """Decode any take (any rate, mono or stereo) to the two mono WAVs the stage uses; made
    once per take and clean-up setting."""
    stem = folder / f"{sha[:24]}{'-clean' if clean_it else ''}"
    out = {ALIGN_RATE: stem.with_suffix(".16k.wav"), RATE: stem.with_suffix(".wav")}
    for rate, path in out.items():
        if path.is_file():
            continue
        args = ["-i", str(take), "-vn", "-ac", "1", "-ar", str(rate)]
        if clean_it:
            args += ["-af", CLEAN_FILTER]
        with atomic_path(path) as tmp:
            try:
                ffmpeg.run([*args, "-c:a", "pcm_s16le", "-f", "wav", str(tmp)],
                           what="cannot read the take")  # fmt: skip
            except ffmpeg.FFmpegError as exc:
                lines = [ln for ln in exc.stderr.splitlines() if ln.strip()]
                why = lines[-1].strip() if lines else "ffmpeg could not decode it"
                raise PersonaForgeError(f"cannot read this recording: {why}", file=take) from None
    with wave.open(str(out[RATE]), "rb") as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    if len(samples) < RATE // 4:
        raise PersonaForgeError("the recording is empty (under a quarter of a second)", file=take)
    second = RATE
    x = samples.astype(np.float32) / 32768.0
    n = max(1, len(x) // second)
    rms = (
        np.sqrt((x[: n * second].reshape(n, -1) ** 2).mean(axis=1))
        if len(x) >= second
        else (np.sqrt((x**2).mean(keepdims=True)))
    )
    if 20 * np.log10(float(rms.max()) + 1e-12) < SILENT_DBFS:
        raise PersonaForgeError("the recording is silent", file=take)
    return Prepared(out[ALIGN_RATE], out[RATE], samples)


# ---------------------------------------------------------------- the alignment, cached


def _key(ctx: Context, narration: Narration, take_sha: str, sentences: list[str]) -> str:
    return canonical_hash({"take": take_sha, "clean": narration.clean, "text": sentences,
                           "aligner": aligner_id(ctx, narration)})  # fmt: skip


def _cached(
    ctx: Context, narration: Narration, take_sha: str, sentences: list[str], folder: Path
) -> Alignment | None:
    path = folder / f"{_key(ctx, narration, take_sha, sentences)[:24]}.align.json"
    found = _read_alignment(path, sentences)
    if found is None:
        # Timings `personaforge transcribe` kept for this take and text: no aligning needed.
        found = _transcribed(ctx, take_sha, sentences)
    return found


def _read_alignment(path: Path, sentences: list[str]) -> Alignment | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("text") != sentences:
            return None
        return Alignment(
            sentences=[
                AlignedSentence(
                    words=[TimedWord(w["text"], w["start"], w["end"]) for w in s["words"]],
                    visemes=[(float(t), str(v)) for t, v in s["visemes"]],
                )
                for s in data["sentences"]
            ]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(
    ctx: Context,
    narration: Narration,
    take_sha: str,
    sentences: list[str],
    folder: Path,
    aligned: Alignment,
) -> None:
    path = folder / f"{_key(ctx, narration, take_sha, sentences)[:24]}.align.json"
    data = {
        "take": take_sha,
        "aligner": narration.align,
        "text": sentences,
        "sentences": [
            {
                "words": [{"text": w.text, "start": w.start, "end": w.end} for w in s.words],
                "visemes": [[t, v] for t, v in s.visemes],
            }
            for s in aligned.sentences
        ],
        "billing": [b.model_dump(mode="json") for b in aligned.billing],
    }
    atomic_write_text(path, json.dumps(data, indent=1))


def _said_path(folder: Path, take_sha: str) -> Path:
    return folder / f"{take_sha[:24]}.said.json"


def _words(text: str) -> list[str]:
    return ["".join(c for c in w.lower() if c.isalnum()) for w in text.split()]


def _unchanged_script(
    ctx: Context, folder: Path, take_sha: str, sentences: list[str], part: Part
) -> None:
    """A take already aligned to other words: the script was edited and the take was not
    recorded again. The first sentence whose words changed is named; punctuation and case
    may change freely, and `--force` aligns the take to the new words all the same."""
    try:
        before = json.loads(_said_path(folder, take_sha).read_text(encoding="utf-8"))["text"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    old = [_words(t) for t in before]
    for k, sentence in enumerate(sentences):
        if k < len(old) and _words(sentence) == old[k]:
            continue
        if k >= len(old) and not _words(sentence):
            continue
        file, line = sentence_location(ctx, sentence)
        raise PersonaForgeError(
            f"{_excerpt(sentence)!r} changed since {part.take} was aligned, and the take was "
            "not recorded again: record it, or undo the edit",
            file=file,
            line=line,
            hint="if the take does say it, `personaforge speak --force` aligns it again",
        )
    if len(old) > len(sentences):
        file, _ = sentence_location(ctx, sentences[-1] if sentences else "")
        raise PersonaForgeError(
            f"the script lost sentences since {part.take} was aligned: record it again",
            file=file,
            hint="`personaforge speak --force` aligns the take to this script all the same",
        )


def _transcribed(ctx: Context, take_sha: str, sentences: list[str]) -> Alignment | None:
    from personaforge.stages.parts import transcript

    return transcript.alignment_for(ctx.project.root, take_sha, sentences)


def _align(
    ctx: Context, aligner: Aligner, audio: Path, sentences: list[str], part: Part, take: Path
) -> Alignment:
    try:
        return aligner.align(audio, sentences)
    except NotInTake as exc:
        if exc.index is None:
            raise PersonaForgeError(exc.message, file=take) from None
        shot_text = sentences[exc.index]
        file, line = sentence_location(ctx, shot_text)
        raise PersonaForgeError(
            f"{_excerpt(shot_text)!r}: {exc.message} ({part.take}); record it again, or make "
            "the script say what the take says",
            file=file,
            line=line,
        ) from None


def sentence_location(ctx: Context, text: str) -> tuple[Path, int | None]:
    """The script file and line where ``text`` (a shot's text) starts."""
    video = ctx.video
    if video.script is None:
        return ctx.project.video_path, line_of(ctx.project.video_path, ("script_text",))
    path = ctx.project.path(video.script)
    words = clean(text).split()[:4]
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return path, None
    for n in range(len(words), 0, -1):
        probe = " ".join(words[:n])
        for i, raw in enumerate(lines, 1):
            if probe in " ".join(clean(raw).split()):
                return path, i
    return path, None


# ---------------------------------------------------------------- cutting the take into shots


def _cut(
    ctx: Context,
    plan: PlanManifest,
    part: Part,
    prepared: Prepared,
    take_sha: str,
    aligned: Alignment,
) -> dict[int, SpokenShot]:
    """Cut the take into its shots, each boundary at the quietest moment of the silence
    between two sentences; the take's own leading and trailing silence kept to MARGIN_S."""
    x = prepared.samples
    total = len(x) / RATE
    spans = [_span(s) for s in aligned.sentences]
    cuts = [max(0.0, spans[0][0] - MARGIN_S)]
    for (_, end), (start, _) in itertools.pairwise(spans):
        cuts.append(_quietest(x, end, start))
    cuts.append(min(total, spans[-1][1] + MARGIN_S))
    out: dict[int, SpokenShot] = {}
    folder = ctx.project.build / SPEECH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    billing: list[Billing] = list(aligned.billing)
    for k, index in enumerate(part.shots):
        a, b = cuts[k], cuts[k + 1]
        planned = plan.shots[index]
        s0, s1 = round(a * RATE), round(b * RATE)
        pcm = x[s0:s1].astype("<i2").tobytes()
        said = [w.__dict__ for w in aligned.sentences[k].words]
        key = canonical_hash({"take": take_sha, "cut": [s0, s1], "text": planned.text,
                              "words": said})  # fmt: skip
        wav = folder / f"{key[:24]}.wav"
        _write_wav(wav, pcm)
        sentence = aligned.sentences[k]
        words = [Word(text=w.text, start=round(max(0.0, w.start - a), 3),
                      end=round(max(0.0, w.end - a), 3)) for w in sentence.words]  # fmt: skip
        visemes = [VisemeKey(t=0.0, v="sil")]
        for t, v in sentence.visemes:
            t = round(t - a, 3)
            if t < 0 or t >= b - a or visemes[-1].v == v:
                continue
            if t <= visemes[-1].t:
                visemes[-1] = VisemeKey(t=visemes[-1].t, v=v)
            else:
                visemes.append(VisemeKey(t=t, v=v))
        if visemes[-1].v != "sil" and words:
            visemes.append(VisemeKey(t=round(min(b - a, words[-1].end), 3), v="sil"))
        duration = (s1 - s0) / RATE
        out[index] = _spoken(planned, key, wav, ctx, duration, words, visemes,
                             billing if k == 0 else [])  # fmt: skip
    return out


def _span(sentence: AlignedSentence) -> tuple[float, float]:
    said = [w for w in sentence.words if w.end > w.start] or sentence.words
    if not said:
        return (0.0, 0.0)
    return (said[0].start, said[-1].end)


def _quietest(x: np.ndarray, end: float, start: float) -> float:
    """The quietest 20 ms between ``end`` and ``start`` (s): where a cut is least heard."""
    if start <= end + 0.02:
        return (end + start) / 2
    a, b = int(end * RATE), int(start * RATE)
    seg = x[a:b].astype(np.float32)
    hop = RATE // 100
    n = len(seg) // hop
    if n < 2:
        return (end + start) / 2
    energy = (seg[: n * hop].reshape(n, hop) ** 2).mean(axis=1)
    smooth = np.convolve(energy, np.ones(2) / 2, mode="same")
    return end + (int(np.argmin(smooth)) * hop + hop) / RATE


def _write_wav(path: Path, pcm: bytes) -> None:
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)


def _spoken(
    planned: PlannedShot,
    key: str,
    wav: Path,
    ctx: Context,
    duration: float,
    words: list[Word],
    visemes: list[VisemeKey],
    billing: list[Billing],
) -> SpokenShot:
    from personaforge.stages.speak import frames_for

    fields: Mapping[str, object] = planned.model_dump()
    return SpokenShot(
        **fields,  # type: ignore[arg-type]
        key=key,
        spoken=" ".join(w.text for w in words),
        audio=ctx.project.rel(wav),
        audio_sha256=sha256_file(wav),
        duration_s=round(duration, 4),
        frames=frames_for(duration),
        words=words,
        visemes=visemes,
        billing=billing,
    )


def _title(ctx: Context, planned: PlannedShot) -> SpokenShot:
    key = canonical_hash({"title": TITLE_S, "rate": RATE})
    wav = ctx.project.build / SPEECH_DIR / f"{key[:24]}.wav"
    if not wav.is_file():
        _write_wav(wav, b"\0\0" * int(TITLE_S * RATE))
    return _spoken(planned, key, wav, ctx, TITLE_S, [], [VisemeKey(t=0.0, v="sil")], [])


def _excerpt(text: str, n: int = 40) -> str:
    text = " ".join(clean(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"
