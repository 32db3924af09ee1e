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
from personaforge.core.yamlio import dump_model
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_text, canonical_hash, sha256_file
from personaforge.media import ffmpeg
from personaforge.media.encoding import FINAL_AUDIO_ARGS, FINAL_VIDEO_ARGS, LOUDNESS_TARGET_LUFS
from personaforge.stages.common import (
    Context,
    StageResult,
    load_recorded,
    recorded_fields,
    require_upstream,
    why_rerun,
)

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


def inputs(ctx: Context, lipsync_key: str) -> dict[str, str]:
    return {
        "lipsync": lipsync_key,
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
    project = ctx.project
    lipsync = require_upstream(LipsyncManifest, project, "render", "lipsync")
    speech = require_upstream(SpeechManifest, project, "render", "speak")
    plan = require_upstream(PlanManifest, project, "render", "plan")
    path = project.manifest_path("render")
    ins = inputs(ctx, lipsync.key)
    previous = load_recorded(RenderManifest, path)
    reason = why_rerun(project, previous, ins, force=ctx.force)
    if reason is None:
        assert previous is not None
        return StageResult("render", path, False, "up to date", shots=len(lipsync.shots))
    if lipsync.speech_key != speech.key:
        raise PersonaForgeError(
            "lipsync.yaml is older than speech.yaml; run `personaforge lipsync` first",
            file=project.manifest_path("lipsync"),
            stage="render",
        )

    work = project.build / WORK_DIR
    work.mkdir(parents=True, exist_ok=True)
    fps = lipsync.fps
    total_frames = sum(s.frames for s in speech.shots)
    duration = total_frames / fps

    narration = work / "narration.wav"
    _write_narration(project.root, speech, narration)

    width, height = lipsync.width, lipsync.height
    per_line = chars_per_line(width, height, ctx.video.captions.max_chars_per_line)
    cues: list[Cue] = []
    frame_offset = 0
    for shot in speech.shots:
        # Cues are built per shot so a caption never straddles a cut.
        offset = frame_offset / fps
        words = [CaptionWord(w.text, w.start + offset, w.end + offset) for w in shot.words]
        if words:
            cues += build_cues(
                words, max_chars_per_line=per_line, max_lines=ctx.video.captions.max_lines
            )
        frame_offset += shot.frames
    cues = _no_overlap(cues)
    slug = plan.slug
    vtt = project.build / f"{slug}.vtt"
    srt = project.build / f"{slug}.srt"
    ass = work / "captions.ass"
    atomic_write_text(vtt, to_vtt(cues))
    atomic_write_text(srt, to_srt(cues))
    atomic_write_text(
        ass,
        to_ass(
            cues, width=width, height=height, font_name=FONT_NAME,
            margin_v=caption_margin(width, height),
        ),
    )  # fmt: skip

    concat_list = work / "clips.txt"
    lines = ["ffconcat version 1.0"]
    for clip in lipsync.shots:
        if clip.clip is None:
            raise PersonaForgeError(
                f"shot {clip.id} has no clip", file=project.manifest_path("lipsync")
            )
        lines.append(f"file '../{clip.clip.removeprefix('build/')}'")
    atomic_write_text(concat_list, "\n".join(lines) + "\n")

    video = project.build / f"{slug}.mp4"
    with atomic_path(video) as tmp:
        args = _composition_args(ctx, work, duration, bool(cues), tmp)
        ffmpeg.run(
            args,
            cwd=work,
            duration_s=duration,
            progress=ctx.progress,
            task="rendering",
            what="rendering the video failed",
        )

    manifest = RenderManifest(
        **recorded_fields(ins, "ffmpeg", ffmpeg.ffmpeg_version()),
        lipsync_key=lipsync.key,
        slug=slug,
        video=Output(path=project.rel(video), sha256=sha256_file(video)),
        captions_vtt=Output(path=project.rel(vtt), sha256=sha256_file(vtt)),
        captions_srt=Output(path=project.rel(srt), sha256=sha256_file(srt)),
        width=width,
        height=height,
        fps=fps,
        duration_s=round(duration, 4),
    )
    dump_model(manifest, path)
    return StageResult("render", path, True, reason, shots=len(lipsync.shots))


def _no_overlap(cues: list[Cue]) -> list[Cue]:
    """A cue stretched to its minimum length stops where the next shot's first cue starts."""
    out = list(cues)
    for i in range(len(out) - 1):
        if out[i].end > out[i + 1].start:
            out[i] = dataclasses.replace(out[i], end=out[i + 1].start)
    return out


def _write_narration(root: Path, speech: SpeechManifest, out: Path) -> None:
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
            with wave.open(str(root / shot.audio), "rb") as src:
                if src.getframerate() != rate or src.getnchannels() != 1:
                    raise PersonaForgeError("audio format differs between shots", file=shot.audio)
                pcm = src.readframes(src.getnframes())
            frames_done += shot.frames
            boundary = round(frames_done * rate / fps)
            want = boundary - samples_done
            pcm = pcm[: want * 2] + b"\0\0" * max(0, want - len(pcm) // 2)
            dst.writeframes(pcm)
            samples_done = boundary


def _composition_args(
    ctx: Context, work: Path, duration: float, has_cues: bool, out: Path
) -> list[str]:
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
