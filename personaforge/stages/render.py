"""render: one ffmpeg composition of the clips, the narration, music and burned captions."""

from __future__ import annotations

import dataclasses
import wave
from pathlib import Path

from personaforge.assets import FONT_NAME, fonts_dir
from personaforge.captions import CaptionWord, Cue, build_cues, to_ass, to_srt, to_vtt
from personaforge.core.models import (
    FPS,
    LipsyncManifest,
    Output,
    PlanManifest,
    RenderManifest,
    SpeechManifest,
)
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_text, canonical_hash, sha256_file
from personaforge.media import ffmpeg
from personaforge.media.encoding import FINAL_AUDIO_ARGS, FINAL_VIDEO_ARGS, LOUDNESS_TARGET_LUFS
from personaforge.stages.common import (
    Context,
    StageResult,
    record,
    recorded_fields,
    skip_if_current,
)
from personaforge.stages.graph import current

RENDER_VERSION = "3"
WORK_DIR = "render"


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


def inputs(ctx: Context) -> dict[str, str]:
    lipsync = current(ctx, LipsyncManifest, "lipsync")
    speech = current(ctx, SpeechManifest, "speak")
    return {
        "lipsync": lipsync.content_hash(),
        "speech": speech.content_hash(),
        "title": canonical_hash(ctx.video.title),
        "captions": canonical_hash(ctx.video.captions.model_dump(mode="json")),
        "music": music_hash(ctx),
        "render": RENDER_VERSION,
        "ffmpeg": ffmpeg.ffmpeg_exe().rsplit("/", 1)[-1],
    }


def chars_per_line(width: int, height: int, override: int | None) -> int:
    if override:
        return override
    if width >= height * 1.3:
        return 42
    return 32 if width >= height else 26


def caption_margin(width: int, height: int) -> int | None:
    """Portrait players (Shorts, Reels, TikTok) cover the bottom fifth with their own buttons
    and text, so portrait captions sit above it; others keep the title-safe default."""
    return int(height * 0.22) if height > width else None


def run(ctx: Context) -> StageResult:
    ins = inputs(ctx)
    skipped, reason = skip_if_current(ctx, "render", RenderManifest, ins)
    if skipped:
        return skipped
    project = ctx.project
    lipsync = current(ctx, LipsyncManifest, "lipsync")
    speech = current(ctx, SpeechManifest, "speak")
    slug = current(ctx, PlanManifest, "plan").slug
    if [c.frames for c in lipsync.shots] != [s.frames for s in speech.shots]:
        # Never lay audio over clips timed for other audio.
        raise PersonaForgeError(
            "clips and speech disagree on shot lengths; run `personaforge lipsync --force`",
            file=project.manifest_path("lipsync"),
        )
    work = project.build / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fps = lipsync.fps
    duration = sum(s.frames for s in speech.shots) / fps
    _write_narration(project, speech, work / "narration.wav")

    width, height = lipsync.width, lipsync.height
    cues = _cues(ctx, speech, chars_per_line(width, height, ctx.video.captions.max_chars_per_line))
    ass = to_ass(
        cues, width=width, height=height, font_name=FONT_NAME,
        margin_v=caption_margin(width, height),
    )  # fmt: skip
    atomic_write_text(work / "captions.ass", ass)
    lines = ["ffconcat version 1.0"]
    lines += [f"file '../{clip.clip.removeprefix('build/')}'" for clip in lipsync.shots]
    atomic_write_text(work / "clips.txt", "\n".join(lines) + "\n")

    video = project.build / f"{slug}.mp4"
    with atomic_path(video) as tmp:
        ffmpeg.run(
            _composition_args(ctx, duration, bool(cues), tmp),
            cwd=work,
            duration_s=duration,
            progress=ctx.progress,
            task="rendering",
            what="rendering the video failed",
        )
    # The sidecars are written once the video exists, so a failed render leaves the old
    # video and captions together.
    vtt = project.build / f"{slug}.vtt"
    srt = project.build / f"{slug}.srt"
    atomic_write_text(vtt, to_vtt(cues))
    atomic_write_text(srt, to_srt(cues))
    manifest = RenderManifest(
        **recorded_fields(ins, "ffmpeg", ffmpeg.ffmpeg_version()),
        slug=slug,
        video=Output(path=project.rel(video), sha256=sha256_file(video)),
        captions_vtt=Output(path=project.rel(vtt), sha256=sha256_file(vtt)),
        captions_srt=Output(path=project.rel(srt), sha256=sha256_file(srt)),
        width=width,
        height=height,
        fps=fps,
        duration_s=round(duration, 4),
    )
    path = record(ctx, "render", manifest)
    return StageResult("render", path, True, reason, shots=len(lipsync.shots))


def _cues(ctx: Context, speech: SpeechManifest, per_line: int) -> list[Cue]:
    """Cues built shot by shot and kept inside their shot, so a caption never crosses a cut."""
    cues: list[Cue] = []
    frame_offset = 0
    for shot in speech.shots:
        start = frame_offset / speech.fps
        frame_offset += shot.frames
        end = frame_offset / speech.fps
        words = [CaptionWord(w.text, w.start + start, w.end + start) for w in shot.words]
        if not words:
            continue
        built = build_cues(
            words, max_chars_per_line=per_line, max_lines=ctx.video.captions.max_lines
        )
        cues += [dataclasses.replace(c, end=min(c.end, end)) for c in built]
    return cues


def _write_narration(project: Project, speech: SpeechManifest, out: Path) -> None:
    """Concatenate the shots' audio, each padded with silence to a whole number of frames,
    so every shot's audio starts exactly where its clip starts and captions never drift."""
    rate = speech.sample_rate
    fps = speech.fps
    with atomic_path(out) as tmp, wave.open(str(tmp), "wb") as dst:
        dst.setnchannels(1)
        dst.setsampwidth(2)
        dst.setframerate(rate)
        frames_done = 0
        samples_done = 0
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


def _composition_args(ctx: Context, duration: float, has_cues: bool, out: Path) -> list[str]:
    from personaforge.text.escape import filter_value

    args = ["-f", "concat", "-safe", "0", "-i", "clips.txt", "-i", "narration.wav"]
    music = ctx.video.music
    if music is not None:
        music_path = ctx.project.path(music.file)
        args += ["-stream_loop", "-1", "-i", str(music_path.resolve())]
    vf = f"[0:v]fps={FPS},setsar=1"
    if has_cues and ctx.video.captions.burn:
        vf += f",subtitles=filename=captions.ass:fontsdir={filter_value(str(fonts_dir()))}"
    vf += ",format=yuv420p[v]"
    fmt = "aformat=sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo"
    loud = f"loudnorm=I={LOUDNESS_TARGET_LUFS}:TP=-1.5:LRA=11,{fmt}"
    if music is None:
        af = f"[1:a]{fmt},{loud}[a]"
    else:
        af = f"[1:a]{fmt},asplit[voice][key];[2:a]{fmt},volume={music.volume}[music];"
        if music.duck:
            af += "[music][key]sidechaincompress=threshold=0.02:ratio=8:attack=20:release=400[bed];"
        else:
            af += "[key]anullsink;[music]anull[bed];"
        af += f"[voice][bed]amix=inputs=2:duration=first:normalize=0,{loud}[a]"
    args += [
        "-filter_complex", f"{vf};{af}",
        "-map", "[v]", "-map", "[a]",
        *FINAL_VIDEO_ARGS, *FINAL_AUDIO_ARGS,
        "-r", str(FPS), "-t", f"{duration:.3f}",
        "-movflags", "+faststart", "-f", "mp4", str(out.resolve()),
    ]  # fmt: skip
    return args
