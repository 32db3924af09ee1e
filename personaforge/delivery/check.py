"""`personaforge check`: a finished video (or a project's) measured against what a platform
asks: colour tags, GOPs, B-frames, edit lists, faststart, bitrates, loudness, true peak, A/V
durations, captions (read back with webvtt-py) and their timing rules, chapters. One row per
rule, with the value measured."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from personaforge.delivery import rules, streams
from personaforge.delivery.chapters import MIN_CHAPTER_S, MIN_CHAPTERS, parse_chapters
from personaforge.delivery.rules import RULES, PlatformRules
from personaforge.errors import PersonaForgeError
from personaforge.media import encoding, ffmpeg, filtergraph

# AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic values, as PyAV reports them.
_MATRICES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020nc"}
_PRIMARIES = {1: "bt709", 5: "bt470bg", 6: "smpte170m", 9: "bt2020"}
_TRANSFERS = {1: "bt709", 6: "smpte170m", 13: "iec61966-2-1", 16: "smpte2084", 18: "arib-std-b67"}


@dataclass(frozen=True)
class Row:
    rule: str
    ok: bool | None  # None: a note, neither pass nor fail
    measured: str
    wanted: str = ""

    @property
    def mark(self) -> str:
        return "pass" if self.ok else ("note" if self.ok is None else "FAIL")


@dataclass
class Report:
    video: Path
    platform: str
    rows: list[Row] = field(default_factory=list)

    @property
    def failures(self) -> list[Row]:
        return [r for r in self.rows if r.ok is False]

    def as_json(self) -> dict[str, object]:
        return {
            "video": str(self.video),
            "platform": self.platform,
            "ok": not self.failures,
            "rules": [{**asdict(r), "status": r.mark.lower()} for r in self.rows],
        }


@dataclass(frozen=True)
class Target:
    """What is checked: the video, and the files that go with it."""

    video: Path
    captions: Path | None = None
    chapters: Path | None = None
    quality: str | None = None  # a project's video.yaml quality; None: a bare file (a master)
    loudness_lufs: float = rules.LOUDNESS_LUFS
    true_peak_db: float = rules.TRUE_PEAK_DBTP
    language: str = "en"
    chapters_note: str | None = None  # why render wrote no chapters file
    burned: tuple[Path, ...] = ()  # the ASS scripts burned into the video's segments


def target_of(path: Path) -> Target:
    """A project folder (its rendered video, captions and chapters) or a video file (with
    the .vtt and .chapters.txt beside it, if any)."""
    if path.is_dir():
        return _project_target(path)
    if not path.is_file():
        raise PersonaForgeError("no such file or folder", file=path)
    vtt = path.with_suffix(".vtt")
    chapters = path.with_suffix(".chapters.txt")
    return Target(path, vtt if vtt.is_file() else None, chapters if chapters.is_file() else None)


def _project_target(folder: Path) -> Target:
    from personaforge.core.manifests import RenderManifest
    from personaforge.core.project import Project
    from personaforge.core.specs import spoken_language
    from personaforge.core.yamlio import load_model

    project = Project.open(folder)
    video = project.load_video()
    manifest = project.manifest_path("render")
    if not manifest.is_file():
        raise PersonaForgeError(
            "nothing rendered yet; run `personaforge make-video` first", file=folder
        )
    render = load_model(RenderManifest, manifest)
    burned: tuple[Path, ...] = ()
    lipsync_path = project.manifest_path("lipsync")
    if lipsync_path.is_file():
        from personaforge.core.manifests import LipsyncManifest

        lipsync = load_model(LipsyncManifest, lipsync_path)
        scripts = [(project.root / s.path).with_suffix(".ass") for s in lipsync.segments]
        burned = tuple(p for p in dict.fromkeys(scripts) if p.is_file())
    return Target(
        project.root / render.video.path,
        project.root / render.captions_vtt.path,
        project.root / render.chapters.path if render.chapters else None,
        quality=video.quality,
        loudness_lufs=video.loudness.target_lufs,
        true_peak_db=video.loudness.true_peak_db,
        language=spoken_language(video, project.load_persona()),
        chapters_note=render.chapters_note,
        burned=burned,
    )


def platform_for_format(fmt: str) -> str:
    return {"shorts": "shorts", "square": "instagram"}.get(fmt, "youtube")


def check(target: Target, platform: str) -> Report:
    if platform not in RULES:
        raise PersonaForgeError(
            f"unknown platform {platform!r}; choose one of {', '.join(rules.PLATFORMS)}"
        )
    plat = RULES[platform]
    report = Report(target.video, platform)
    rows = report.rows
    import av

    try:
        with av.open(str(target.video)) as container:
            v = next(iter(container.streams.video), None)
            a = next(iter(container.streams.audio), None)
            if v is None:
                raise PersonaForgeError("has no video stream", file=target.video)
            cc = v.codec_context
            width, height, codec = cc.width, cc.height, cc.name
            tags = (_MATRICES.get(int(cc.colorspace)), _PRIMARIES.get(int(cc.color_primaries)),
                    _TRANSFERS.get(int(cc.color_trc)))  # fmt: skip
            v_dur = float(v.duration * v.time_base) if v.duration else 0.0
            a_dur = float(a.duration * a.time_base) if a is not None and a.duration else 0.0
            layout = a.codec_context.layout.name if a is not None else ""
            rate = a.codec_context.sample_rate if a is not None else 0
    except (OSError, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
        raise PersonaForgeError(f"cannot read the video: {exc}", file=target.video) from None
    v_bytes, a_bytes = _stream_bytes(target.video)

    rows.append(_colour(tags, height))
    frames, fps = streams.h264_frames(target.video) if codec == "h264" else ([], 0.0)
    fps = fps or 30.0
    rows += _structure(target.video, frames, fps, codec)
    rows += _bitrates(target, v_bytes, a_bytes, v_dur, a_dur, width, height, fps, layout, rate)
    rows += _shape(plat, width, height, v_dur)
    rows += _audio(target, a is not None, v_dur, a_dur)
    rows += _captions(target, plat, width, height, fps)
    rows += _chapters(target, plat, v_dur)
    rows += _safe_area(target, plat, portrait=height > width)
    return report


def _safe_area(target: Target, plat: PlatformRules, portrait: bool = True) -> list[Row]:
    """The burned captions' boxes inside the title-safe area, and (a portrait video) clear of
    the platform's buttons (the right edge) and text (the bottom)."""
    from personaforge.delivery.safe_area import caption_boxes

    if not target.burned:
        return [Row("safe area", None, "no burned-caption layout (check a project folder)")]
    right_limit = 1 - max(rules.TITLE_SAFE, plat.safe_right if portrait else 0.0)
    bottom_limit = 1 - max(rules.TITLE_SAFE, plat.safe_bottom if portrait else 0.0)
    left = top = 1.0
    right = bottom = 0.0
    for script in target.burned:
        boxes, width, height = caption_boxes(script)
        for box in boxes:
            left, right = min(left, box.left / width), max(right, box.right / width)
            top, bottom = min(top, box.top / height), max(bottom, box.bottom / height)
    if right == 0.0:
        return [Row("safe area", True, "no burned captions")]
    ok = (left >= rules.TITLE_SAFE - 0.005 and right <= right_limit + 0.005
          and top >= rules.TITLE_SAFE - 0.005 and bottom <= bottom_limit + 0.005)  # fmt: skip
    return [
        Row("safe area", ok,
            f"captions from x {left:.0%} to {right:.0%}, y {top:.0%} to {bottom:.0%}",
            f"x {rules.TITLE_SAFE:.0%} to {right_limit:.0%}, y {rules.TITLE_SAFE:.0%} to "
            f"{bottom_limit:.0%} of the frame")
    ]  # fmt: skip


def _colour(tags: tuple[str | None, str | None, str | None], height: int) -> Row:
    matrix, primaries, transfer = tags
    shown = f"matrix {matrix or 'unspecified'}, primaries {primaries or 'unspecified'}, " \
        f"transfer {transfer or 'unspecified'}"  # fmt: skip
    guess = "bt709" if height >= 720 else "smpte170m"
    return Row(
        "colour tags", all(tags), shown,
        f"all three tagged (untagged, players guess {guess} at {height}p)",
    )  # fmt: skip


def _structure(video: Path, frames: list[streams.Frame], fps: float, codec: str) -> list[Row]:
    boxes = streams.read_boxes(video)
    rows = [
        Row("faststart", boxes.faststart, "moov before mdat" if boxes.faststart else
            "moov after mdat", "the index first"),
        Row("edit lists", not boxes.edit_lists, f"{len(boxes.edit_lists)}", "none (YouTube)"),
    ]  # fmt: skip
    if codec != "h264":
        rows.append(Row("video codec", False, codec, "h264"))
        return rows
    gop_limit = encoding.gop_frames(round(fps))
    longest = streams.longest_gop(frames)
    keys = [f for f in frames if f.keyframe]
    closed = bool(frames) and frames[0].idr and all(f.idr for f in keys)
    b_run = streams.longest_b_run(frames)
    rows += [
        Row("GOP length", longest <= gop_limit, f"{longest} frames at most",
            f"<= {gop_limit} (half the frame rate)"),
        Row("closed GOPs", closed, f"{sum(f.idr for f in keys)} of {len(keys)} keyframes IDR",
            "every keyframe an IDR frame"),
        Row("B-frames", b_run <= encoding.MAX_B_FRAMES, f"{b_run} in a row at most",
            f"<= {encoding.MAX_B_FRAMES} consecutive"),
    ]  # fmt: skip
    return rows


def _stream_bytes(video: Path) -> tuple[int, int]:
    import av

    sizes = {"video": 0, "audio": 0}
    with av.open(str(video)) as container:
        for packet in container.demux():
            if packet.stream.type in sizes:
                sizes[packet.stream.type] += packet.size
    return sizes["video"], sizes["audio"]


def _bitrates(
    target: Target, v_bytes: int, a_bytes: int, v_dur: float, a_dur: float, width: int,
    height: int, fps: float, layout: str, rate: int,
) -> list[Row]:  # fmt: skip
    want_v = encoding.master_video_kbps(width, height, round(fps))
    got_v = v_bytes * 8 / 1000 / v_dur if v_dur else 0.0
    got_a = a_bytes * 8 / 1000 / a_dur if a_dur else 0.0
    draft = target.quality == "draft"
    floor = want_v * rules.MIN_BITRATE_SHARE
    v_ok: bool | None = None if draft else got_v >= floor
    a_ok: bool | None = None if draft else got_a >= rules.MIN_AUDIO_KBPS
    suffix = " (quality: draft, a preview; set quality: master to upload)" if draft else ""
    rows = [
        Row("video bitrate", v_ok, f"{got_v:.0f} kb/s{suffix}",
            f"YouTube recommends {want_v} kb/s at {height}p; >= {floor:.0f}"),
    ]  # fmt: skip
    if a_dur:
        rows.append(
            Row("audio bitrate", a_ok, f"{got_a:.0f} kb/s{suffix}",
                f"encoded at {encoding.MASTER_AUDIO_KBPS} kb/s; >= {rules.MIN_AUDIO_KBPS}")
        )  # fmt: skip
        rows.append(
            Row("audio format", layout == "stereo" and rate == 48000, f"{layout}, {rate} Hz",
                "stereo, 48000 Hz")
        )  # fmt: skip
    return rows


def _shape(plat: PlatformRules, width: int, height: int, duration: float) -> list[Row]:
    rows = []
    if plat.aspects:
        fits = any(width * h == height * w for w, h in plat.aspects)
        shapes = " or ".join(f"{w}:{h}" for w, h in plat.aspects)
        rows.append(Row("frame", fits, f"{width}x{height}", shapes))
    if plat.max_duration_s is not None:
        rows.append(Row("duration", duration <= plat.max_duration_s, f"{duration:.1f} s",
                        f"<= {plat.max_duration_s:.0f} s"))  # fmt: skip
    return rows


def _audio(target: Target, has_audio: bool, v_dur: float, a_dur: float) -> list[Row]:
    if not has_audio:
        return [Row("audio", False, "no audio stream", "an audio stream")]
    log = ffmpeg.run(
        ["-i", str(target.video), "-map", "0:a:0", "-af",
         "ebur128=peak=true:framelog=quiet", "-f", "null", "-"],
        report=True, what="measuring the loudness failed",
    )  # fmt: skip
    measured = filtergraph.parse_loudness(log)
    lufs, peak = measured.integrated_lufs, measured.true_peak_db
    diff = abs(a_dur - v_dur)
    return [
        Row("loudness", math.isfinite(lufs) and abs(lufs - target.loudness_lufs)
            <= rules.LOUDNESS_TOLERANCE_LU, f"{lufs:.1f} LUFS",
            f"{target.loudness_lufs:g} ± {rules.LOUDNESS_TOLERANCE_LU:g} LUFS integrated"),
        Row("true peak", peak <= target.true_peak_db + 0.05, f"{peak:.1f} dBTP",
            f"<= {target.true_peak_db:g} dBTP"),
        Row("A/V duration", diff <= rules.AV_TOLERANCE_S,
            f"video {v_dur:.3f} s, audio {a_dur:.3f} s",
            f"within {rules.AV_TOLERANCE_S * 1000:.0f} ms"),
    ]  # fmt: skip


_TAG = re.compile(r"<[^>]*>")


def _seconds(stamp: Any) -> float:
    """A webvtt-py Timestamp in seconds, milliseconds kept (its ``*_in_seconds`` properties
    truncate to whole seconds)."""
    return float(
        stamp.hours * 3600 + stamp.minutes * 60 + stamp.seconds + stamp.milliseconds / 1000
    )


def _captions(
    target: Target, plat: PlatformRules, width: int, height: int, fps: float
) -> list[Row]:
    import webvtt

    if target.captions is None:
        return [Row("captions", None, "no .vtt beside the video", "")]
    try:
        cues = list(webvtt.read(str(target.captions)).captions)
    except Exception as exc:  # webvtt-py raises its own and ValueError on bad timings
        return [Row("captions file", False, f"{target.captions.name}: {exc}".splitlines()[0],
                    "valid WebVTT")]  # fmt: skip
    rows = [Row("captions file", bool(cues), f"{len(cues)} cues, read back", "valid WebVTT")]
    if not cues:
        return rows
    from personaforge.text.caption_rules import reading_chars, rules_for

    try:
        caption = rules_for(width, height, target.language, round(fps))
    except PersonaForgeError:
        caption = rules_for(width, height, "en", round(fps))
    shortest, tightest, fastest, longest_line, most_lines = math.inf, math.inf, 0.0, 0, 0
    longest = 0.0
    at = {"shortest": "", "longest": "", "gap": "", "cps": "", "line": ""}
    previous_end: float | None = None
    for cue in cues:
        start, end = _seconds(cue.start_time), _seconds(cue.end_time)
        lines = [_TAG.sub("", line).strip() for line in cue.text.splitlines() if line.strip()]
        chars = reading_chars("\n".join(lines))
        if end - start < shortest:
            shortest, at["shortest"] = end - start, cue.start
        if end - start > longest:
            longest, at["longest"] = end - start, cue.start
        if previous_end is not None and start - previous_end < tightest:
            tightest, at["gap"] = start - previous_end, cue.start
        if end > start and chars / (end - start) > fastest:
            fastest, at["cps"] = chars / (end - start), cue.start
        if lines and max(len(x) for x in lines) > longest_line:
            longest_line, at["line"] = max(len(x) for x in lines), cue.start
        most_lines = max(most_lines, len(lines))
        previous_end = end
    gap_s = caption.gap_s
    rows += [
        Row("cue duration", shortest >= caption.min_duration_s - 0.001
            and longest <= caption.max_duration_s + 0.001,
            f"shortest {shortest:.2f} s (at {at['shortest']}), longest {longest:.2f} s "
            f"(at {at['longest']})",
            f"{caption.min_duration_s:.3f} s to {caption.max_duration_s:g} s"),
        Row("cue gap", tightest >= gap_s - 0.001 if tightest != math.inf else True,
            f"least {max(tightest, 0) * 1000:.0f} ms (at {at['gap']})" if tightest != math.inf
            else "one cue", f">= {caption.gap_frames} frames ({gap_s * 1000:.0f} ms)"),
        Row("reading speed", fastest <= caption.max_cps + 0.05,
            f"{fastest:.1f} cps (at {at['cps']})",
            f"<= {caption.max_cps:g} characters a second ({caption.language}, {caption.shape})"),
        Row("line length", longest_line <= caption.line_chars,
            f"{longest_line} characters (at {at['line']})", f"<= {caption.line_chars}"),
        Row("lines a cue", most_lines <= caption.max_lines, f"{most_lines}",
            f"<= {caption.max_lines}"),
    ]  # fmt: skip
    return rows


def _chapters(target: Target, plat: PlatformRules, duration: float) -> list[Row]:
    if target.chapters is None or not target.chapters.is_file():
        return [Row("chapters", True, target.chapters_note or "none", "none, or YouTube's rules")]
    if not plat.chapters:
        return [Row("chapters", False, f"{target.chapters.name} present",
                    f"none ({plat.name} shows no chapters)")]  # fmt: skip
    try:
        entries = parse_chapters(target.chapters.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [Row("chapters", False, str(exc), "'0:00 Title' lines")]
    starts = [s for s, _ in entries]
    lengths = [b - a for a, b in zip(starts, [*starts[1:], duration], strict=True)]
    shortest = min(lengths, default=0.0)
    ok = (len(entries) >= MIN_CHAPTERS and starts[0] == 0
          and shortest >= MIN_CHAPTER_S)  # fmt: skip
    return [
        Row("chapters", ok,
            f"{len(entries)}, first at {starts[0]:.0f} s, shortest {shortest:.0f} s",
            f">= {MIN_CHAPTERS}, first at 0:00, each >= {MIN_CHAPTER_S:.0f} s")
    ]  # fmt: skip
