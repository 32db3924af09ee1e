"""The video's soundtrack: the narration (and music) mixed, loudness-normalised in two passes and
encoded to AAC once, kept under a name made from what it is made of.

It needs only the speech and the video's length, so make-video prepares it while the lipsync
stage encodes the segments (the audio work then costs no time of its own), and render copies
it under the joined segments. An edit that changes nothing audible re-uses it as it is.
"""

from __future__ import annotations

import dataclasses
import threading
import wave
from dataclasses import dataclass
from pathlib import Path

from personaforge.core.manifests import LipsyncManifest, SpeechManifest
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, canonical_hash, sha256_file
from personaforge.media import ffmpeg, filtergraph
from personaforge.media.encoding import final_audio
from personaforge.media.filtergraph import Loudness, LoudnessTarget, MusicBed
from personaforge.progress import NullProgress, Progress
from personaforge.runtime.common import Context
from personaforge.stages.parts import brandkit, joins

SOUNDTRACK_VERSION = "2"  # 2: started by AAC's priming late, for no edit list
LIMITER_PASSES = 3
WORK_DIR = "render"  # under build/, shared with render
_PREFIX = "soundtrack-"


@dataclass(frozen=True)
class Layout:
    """Where the narration sits in the video: after the brand's intro, padded to the end."""

    intro_frames: int
    frames: int  # the whole video's, intro and outro included
    fps: int


def layout_of(lipsync: LipsyncManifest, speech: SpeechManifest) -> Layout:
    """The layout of the video the lipsync stage made."""
    frames = sum(s.frames for s in lipsync.segments) or sum(s.frames for s in speech.shots)
    return Layout(lipsync.intro_frames, frames, lipsync.fps)


def expected_layout(ctx: Context, speech: SpeechManifest) -> Layout:
    """The layout the lipsync stage will make: every shot keeps its frames (transitions
    blend frames the shots already have) between the brand's intro and outro."""
    kit = brandkit.load(ctx)
    intro = joins.bumper_frames(ctx, kit, "intro")
    outro = joins.bumper_frames(ctx, kit, "outro")
    return Layout(intro, intro + sum(s.frames for s in speech.shots) + outro, speech.fps)


def music_hash(ctx: Context) -> str:
    music = ctx.video.music
    if music is None:
        return "none"
    path = ctx.project.path(music.file, file=ctx.project.video_path, field="music.file")
    if not path.is_file():
        raise PersonaForgeError(
            f"music file {music.file!r} not found", file=ctx.project.video_path, field="music.file"
        )
    return canonical_hash({"file": sha256_file(path), **music.model_dump(mode="json")})


def key(ctx: Context, speech: SpeechManifest, layout: Layout) -> str:
    """Everything the soundtrack is made of."""
    return canonical_hash(
        {
            "speech": speech.content_hash(),
            "music": music_hash(ctx),
            "loudness": ctx.video.loudness.model_dump(mode="json"),
            "layout": dataclasses.astuple(layout),
            "audio": final_audio(ctx.video.quality),
            "version": SOUNDTRACK_VERSION,
            "ffmpeg": ffmpeg.ffmpeg_exe().rsplit("/", 1)[-1],
        }
    )


def path_for(ctx: Context, speech: SpeechManifest, layout: Layout) -> Path:
    return ctx.project.build / WORK_DIR / f"{_PREFIX}{key(ctx, speech, layout)[:24]}.m4a"


def prepare(
    ctx: Context, speech: SpeechManifest, layout: Layout, progress: Progress | None = None
) -> Path:
    """The soundtrack for ``layout``: made now unless it already exists."""
    out = path_for(ctx, speech, layout)
    if out.is_file():
        return out
    progress = progress or NullProgress()
    work = out.parent
    work.mkdir(parents=True, exist_ok=True)
    narration = (work / "narration.wav").resolve()
    write_narration(ctx.project, speech, narration, layout.intro_frames)
    music = _music(ctx)
    duration = layout.frames / layout.fps
    loudness = ctx.video.loudness
    target = LoudnessTarget(loudness.target_lufs, loudness.true_peak_db)
    # Two passes: measure the mix, then encode it with one gain to the target. Where the
    # peaks would pass the ceiling they are limited first; limiting takes some loudness
    # with it, so the limited mix is measured (and the limit lowered by what is still
    # missing, a pass or two more: audio passes are cheap beside the video).
    measured = _measure(narration, music, duration, None, progress)
    ceiling = target.ceiling(measured)
    attempt = 0
    while ceiling is not None:
        attempt += 1
        measured = _measure(narration, music, duration, ceiling, progress)
        missing = target.shortfall_db(measured)
        if missing < 0.2 or ceiling <= -24.0 or attempt == LIMITER_PASSES:
            break
        ceiling = max(ceiling - missing, -24.0)
    with atomic_path(out) as tmp:
        ffmpeg.run(
            filtergraph.soundtrack_args(
                narration,
                music,
                duration,
                target.gain_db(measured),
                tmp,
                ceiling_db=ceiling,
                quality=ctx.video.quality,
            ),
            duration_s=duration,
            progress=progress,
            task="encoding the soundtrack",
            what="encoding the soundtrack failed",
        )
    for old in work.glob(f"{_PREFIX}*.m4a"):
        if old != out:
            old.unlink(missing_ok=True)
    return out


class EarlyStart:
    """The soundtrack made in a thread while other stages run (make-video starts it once the
    speech exists). A failure here is not reported: render makes it again and says why."""

    def __init__(self, ctx: Context, speech: SpeechManifest, layout: Layout) -> None:
        quiet = dataclasses.replace(ctx, progress=NullProgress())
        self._thread = threading.Thread(
            target=self._run, args=(quiet, speech, layout), name="pf-soundtrack", daemon=False
        )
        self._thread.start()

    @staticmethod
    def _run(ctx: Context, speech: SpeechManifest, layout: Layout) -> None:
        try:
            prepare(ctx, speech, layout)
        except Exception:
            return

    def wait(self) -> None:
        self._thread.join()


def _measure(
    narration: Path,
    music: MusicBed | None,
    duration: float,
    ceiling: float | None,
    progress: Progress,
) -> Loudness:
    report = ffmpeg.run(
        filtergraph.loudness_measure_args(narration, music, duration, ceiling),
        duration_s=duration,
        progress=progress,
        task="measuring loudness",
        what="measuring the loudness failed",
        report=True,
    )
    return filtergraph.parse_loudness(report)


def _music(ctx: Context) -> MusicBed | None:
    music = ctx.video.music
    if music is None:
        return None
    return MusicBed(ctx.project.path(music.file).resolve(), music.volume, music.duck)


def write_narration(
    project: Project, speech: SpeechManifest, out: Path, intro_frames: int = 0
) -> None:
    """Concatenate the shots' audio, each padded with silence to a whole number of frames,
    so every shot's audio starts exactly where its clip starts and captions never drift;
    silence first for the ``intro_frames`` of a brand intro."""
    rate = speech.sample_rate
    fps = speech.fps
    with atomic_path(out) as tmp, wave.open(str(tmp), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(rate)
        frames_done = intro_frames
        samples_done = round(intro_frames * rate / fps)
        dst.writeframes(b"\0\0" * samples_done)
        for shot in speech.shots:
            source = project.root / shot.audio
            try:
                with wave.open(str(source), "rb") as src:
                    if src.getframerate() != rate or src.getnchannels() != 1:
                        raise PersonaForgeError("audio format differs between shots", file=source)
                    pcm = src.readframes(src.getnframes())
            except (OSError, EOFError, wave.Error) as exc:
                raise PersonaForgeError(
                    f"cannot read speech audio ({exc}); run `personaforge speak --force`",
                    file=source,
                ) from None
            frames_done += shot.frames
            boundary = round(frames_done * rate / fps)
            want = boundary - samples_done
            pcm = pcm[: want * 2] + b"\0\0" * max(0, want - len(pcm) // 2)
            dst.writeframes(pcm)
            samples_done = boundary
