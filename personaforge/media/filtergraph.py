"""Every ffmpeg filter graph PersonaForge runs, built with ffmpeg-python: the nodes, their
labels and the escaping of option values live here and nowhere else."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg as fp  # ffmpeg-python: builds argument lists only; media/ffmpeg.py runs them

from personaforge.errors import PersonaForgeError
from personaforge.media.encoding import (
    AAC_PEAK_MARGIN_DB,
    AAC_PRIMING_SAMPLES,
    LOSSLESS_VIDEO,
    TAG_FILTER,
    Quality,
    final_audio,
    segment_video,
)
from personaforge.text.escape import filter_value

# ffmpeg-python has no type hints: its streams are opaque values here.
Stream = Any

_AUDIO_FORMAT = {"sample_fmts": "fltp", "sample_rates": 48000, "channel_layouts": "stereo"}


def lavfi(name: str, **options: object) -> str:
    """A lavfi source (``color=c=...:s=...``) as an input "file", each value escaped at both
    of the graph's levels (text/escape.py's filter_value)."""
    if not options:
        return name
    return f"{name}=" + ":".join(f"{k}={filter_value(str(v))}" for k, v in options.items())


def hex_colour(colour: str) -> str:
    """'#rrggbb' (a validated model colour) as ffmpeg's 0xrrggbb."""
    return "0x" + colour.lstrip("#")


# ------------------------------------------------------------------ where a shot's frames come from


@dataclass(frozen=True)
class FramePipe:
    """Raw frames streamed into ffmpeg's stdin by an in-process animator: rgb24 as drawn, or
    yuv420p when converted on the way (half the bytes, and no conversion inside ffmpeg)."""

    pix_fmt: str = "rgb24"


@dataclass(frozen=True)
class ClipFile:
    """A clip already conformed to the shot's frames, fps and size (a cloud lip-sync result)."""

    path: Path


@dataclass(frozen=True)
class TitleCard:
    """A card drawn beforehand (media/cards.py: shaped, wrapped text) as a still image, held
    for the shot; the image is the frame's size."""

    image_file: Path


Source = FramePipe | ClipFile | TitleCard


def _source(source: Source, width: int, height: int, fps: int, frames: int) -> Stream:
    if isinstance(source, FramePipe):
        return fp.input(
            "pipe:0", f="rawvideo", pix_fmt=source.pix_fmt, s=f"{width}x{height}", r=fps
        ).video
    if isinstance(source, ClipFile):
        # Cover the frame, centre-cropped: a conformed clip is already this size.
        clip = fp.input(str(source.path)).video
        return (
            # Into BT.601, what the stream is tagged with (a clip tagged BT.709 is converted;
            # an untagged one is taken as BT.601, as it was made).
            clip.filter(
                "scale",
                width,
                height,
                force_original_aspect_ratio="increase",
                out_color_matrix="bt601",
                out_range="tv",
            )
            .filter("crop", width, height)
            .filter("fps", fps)
            # A clip a frame or two short holds its last frame: the shot keeps its length.
            .filter("tpad", stop_mode="clone", stop=frames)
        )
    return fp.input(str(source.image_file), loop=1, framerate=fps).video.filter("fps", fps)


@dataclass(frozen=True)
class LogoOverlay:
    """The brand's logo, in a corner inside the title-safe area."""

    path: Path
    corner: str  # top-left, top-right, bottom-left, bottom-right
    size: float  # width, as a fraction of the frame's
    opacity: float


def _with_logo(video: Stream, logo: LogoOverlay, width: int, fps: int) -> Stream:
    w = max(2, round(width * logo.size / 2) * 2)
    image = (
        fp.input(str(logo.path), loop=1, framerate=fps)
        .video.filter("scale", w, -2)
        .filter("format", "rgba")
        .filter("colorchannelmixer", aa=f"{logo.opacity:.3f}")
    )
    left, top = logo.corner.endswith("left"), logo.corner.startswith("top")
    x = "main_w*0.05" if left else "main_w-overlay_w-main_w*0.05"
    y = "main_h*0.05" if top else "main_h-overlay_h-main_h*0.05"
    return fp.overlay(video, image, x=x, y=y, eof_action="pass", shortest=1)


@dataclass(frozen=True)
class SegmentSpec:
    """One shot's segment: its source, exact length, and the captions burned in the same pass."""

    source: Source
    width: int
    height: int
    fps: int
    frames: int
    captions: Path | None = None  # an ASS file timed from the segment's first frame
    fonts_dir: Path | None = None
    logo: LogoOverlay | None = None
    quality: Quality = "draft"


def _tagged(video: Stream) -> Stream:
    """The frames in yuv420p, tagged with how they were drawn (see encoding.TAG_FILTER)."""
    return video.filter("format", "yuv420p").filter(TAG_FILTER[0], **TAG_FILTER[1])


def segment_args(
    spec: SegmentSpec,
    out: Path,
    *,
    head: tuple[int, Path] | None = None,
    tail: tuple[int, Path] | None = None,
) -> list[str]:
    """ffmpeg arguments that encode ``spec`` once, in final quality, into ``out`` (mp4).

    With ``head``/``tail`` (frames, path) the shot's first/last frames, captions burned, go
    losslessly to their own files instead, for the transitions into and out of the shot
    to blend; ``out`` holds the frames between."""
    video = _source(spec.source, spec.width, spec.height, spec.fps, spec.frames)
    video = video.filter("setsar", 1)
    if spec.logo is not None:
        video = _with_logo(video, spec.logo, spec.width, spec.fps)
    if spec.captions is not None:
        options: dict[str, str] = {"filename": str(spec.captions)}
        if spec.fonts_dir is not None:
            options["fontsdir"] = str(spec.fonts_dir)
        video = video.filter("subtitles", **options)
    video = _tagged(video)
    final = segment_video(spec.quality, spec.width, spec.height, spec.fps)
    first = head[0] if head else 0
    last = spec.frames - (tail[0] if tail else 0)
    common = {"r": spec.fps, "f": "mp4"}
    if head is None and tail is None:
        return list(
            fp.output(video, str(out), **final, **{"frames:v": spec.frames}, **common).get_args()
        )
    parts = video.filter_multi_output("split")
    outputs = []
    for index, (start, end, path, settings) in enumerate(
        [
            (first, last, out, final),
            *([(0, first, head[1], LOSSLESS_VIDEO)] if head else []),
            *([(last, spec.frames, tail[1], LOSSLESS_VIDEO)] if tail else []),
        ]
    ):
        piece = parts[index].trim(start_frame=start, end_frame=end).setpts("PTS-STARTPTS")
        outputs.append(
            fp.output(piece, str(path), **settings, **{"frames:v": end - start}, **common)
        )
    return list(fp.merge_outputs(*outputs).get_args())


def transition_args(
    kind: str,
    tail: Path,
    head: Path,
    *,
    frames_out: int,
    frames_in: int,
    fps: int,
    colour: str,
    out: Path,
    quality: Quality = "draft",
    size: tuple[int, int] = (0, 0),
) -> list[str]:
    """A transition's own segment, spanning the cut: the outgoing shot's last ``frames_out``
    frames and the incoming one's first ``frames_in``. ``dip`` fades the one out to ``colour``
    and the other in from it; ``crossfade`` dissolves across the whole span (each side held
    on its frame at the cut while the other plays)."""
    a = fp.input(str(tail)).video.filter("settb", "AVTB")
    b = fp.input(str(head)).video.filter("settb", "AVTB")
    total = frames_out + frames_in
    if kind == "dip":
        a = a.filter(
            "fade", type="out", start_frame=0, nb_frames=frames_out, color=hex_colour(colour)
        )
        b = b.filter(
            "fade", type="in", start_frame=0, nb_frames=frames_in, color=hex_colour(colour)
        )
        video = fp.concat(a, b, v=1, a=0)
    else:
        a = a.filter("tpad", stop_mode="clone", stop=frames_in)
        # One frame more than the span: xfade ends the blend a frame early otherwise.
        b = b.filter("tpad", start_mode="clone", start=frames_out, stop_mode="clone", stop=1)
        video = fp.filter(
            [a, b], "xfade", transition="fade", duration=f"{total / fps:.6f}", offset=0
        )
    video = _tagged(video.filter("fps", fps))
    final = segment_video(quality, size[0], size[1], fps)
    output = fp.output(video, str(out), **final, **{"frames:v": total}, r=fps, f="mp4")
    return list(output.get_args())


# ------------------------------------------------------------------ the final mix


@dataclass(frozen=True)
class MusicBed:
    path: Path
    volume: float
    duck: bool


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_db: float


@dataclass(frozen=True)
class LoudnessTarget:
    """Where the mix should land: integrated loudness, and a true-peak ceiling."""

    lufs: float
    true_peak_db: float

    @property
    def peak_limit_db(self) -> float:
        """The ceiling aimed at: below the requested one by what AAC's encoding adds back."""
        return self.true_peak_db - AAC_PEAK_MARGIN_DB

    def ceiling(self, measured: Loudness) -> float | None:
        """The true peak (dBFS, before the gain) a limiter holds the mix to, so that one
        gain to the target keeps the peaks under the limit; None: no limiting needed.

        Speech peaks some 18 dB over its loudness, more than -14 LUFS under a -1 dBTP
        ceiling allows; limiting those few peaks first is what lets a single, linear gain
        reach the target (loudnorm would fall back to its dynamic mode and miss it on short
        videos). The headroom covers the loudness the limiting itself takes away."""
        if not math.isfinite(measured.integrated_lufs):
            return None
        ceiling = self.peak_limit_db - LIMITER_HEADROOM_DB - (self.lufs - measured.integrated_lufs)
        if measured.true_peak_db <= ceiling:
            return None
        return max(ceiling, -24.0)  # alimiter's floor

    def shortfall_db(self, measured: Loudness) -> float:
        """How far below the target the peak limit holds the loudness of ``measured``."""
        if not math.isfinite(measured.integrated_lufs):
            return 0.0
        return self.lufs - measured.integrated_lufs - self.gain_db(measured)

    def gain_db(self, measured: Loudness) -> float:
        """The one gain that brings ``measured`` to the target without passing the peak
        limit (loudness gives way to the peak ceiling, as in loudnorm's linear mode)."""
        if not math.isfinite(measured.integrated_lufs):
            return 0.0  # silence: nothing to normalise
        gain = self.lufs - measured.integrated_lufs
        if math.isfinite(measured.true_peak_db):
            gain = min(gain, self.peak_limit_db - measured.true_peak_db)
        return gain


LIMITER_HEADROOM_DB = 1.0
LIMITER_RATE = 96000
MONO_TO_STEREO_DB = 20 * math.log10(2**0.5)


def _mix(narration: Path, music: MusicBed | None, duration_s: float) -> Stream:
    """The narration (and the looped, optionally ducked music) as one stream of exactly
    ``duration_s``: padded or cut, so the audio ends with the last frame. Narration alone
    stays mono until the end (half the work for the limiter and the meter; ebur128 measures
    it as the dual mono it becomes), with music the mix is stereo."""
    mono = {**_AUDIO_FORMAT, "channel_layouts": "mono"}
    voice = fp.input(str(narration)).audio.filter(
        "aformat", **(_AUDIO_FORMAT if music is not None else mono)
    )
    if music is not None:
        bed = (
            fp.input(str(music.path), stream_loop=-1)
            .audio.filter("aformat", **_AUDIO_FORMAT)
            .filter("volume", music.volume)
        )
        if music.duck:
            # The voice keys a compressor on the music: the bed dips while someone speaks.
            split = voice.filter_multi_output("asplit")
            voice = split[0]
            bed = fp.filter(
                [bed, split[1]], "sidechaincompress",
                threshold=0.02, ratio=8, attack=20, release=400,
            )  # fmt: skip
        voice = fp.filter([voice, bed], "amix", inputs=2, duration="first", normalize=0)
    return voice.filter("apad").filter("atrim", end=f"{duration_s:.6f}")


def _limited(mix: Stream, ceiling_db: float | None) -> Stream:
    if ceiling_db is None:
        return mix
    # Oversampled twice, the limiter sees most of the inter-sample peaks too; ebur128 then
    # measures the true peak (4x) of what it let through, and the gain never passes it.
    return mix.filter("aresample", LIMITER_RATE).filter(
        "alimiter", limit=f"{10 ** (ceiling_db / 20):.6f}", attack=5, release=50, level="false"
    )


def loudness_measure_args(
    narration: Path, music: MusicBed | None, duration_s: float, ceiling_db: float | None = None
) -> list[str]:
    """Measure the mix (EBU R128 loudness and true peak), after the peak limiter when
    ``ceiling_db`` is given; parse_loudness reads the result from ffmpeg's log."""
    mix = _limited(_mix(narration, music, duration_s), ceiling_db)
    # Metered at 48 kHz, as it will be encoded (ebur128 oversamples 4x for the true peak
    # itself, and its filters cost more at the limiter's rate).
    mix = mix.filter("aresample", 48000).filter(
        "ebur128", peak="true", framelog="quiet", dualmono="true"
    )
    return list(fp.output(mix, "-", f="null").get_args())


def parse_loudness(log: str) -> Loudness:
    """ebur128's summary (the last in ``log``): integrated loudness and true peak."""
    start = log.rfind("Summary:")
    summary = log[start:] if start >= 0 else ""
    loud = re.search(r"I:\s+(-?[\d.]+|-inf|nan) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf|nan) dBFS", summary)
    if loud is None or peak is None:
        raise PersonaForgeError("measuring the loudness failed: ebur128 printed no summary")
    return Loudness(float(loud[1]), float(peak[1]))


def soundtrack_args(
    narration: Path,
    music: MusicBed | None,
    duration_s: float,
    gain_db: float,
    out: Path,
    ceiling_db: float | None = None,
    quality: Quality = "draft",
) -> list[str]:
    """Encode the (limited) mix with one gain for the whole video (linear normalisation:
    speech keeps its dynamics) to an AAC track in ``out`` (.m4a)."""
    audio = _limited(_mix(narration, music, duration_s), ceiling_db)
    if music is None:
        # Mono narration reaches both channels at -3 dB (swresample's centre mix level);
        # made up here, each channel carries the narration at full level, the dual mono
        # that ebur128 measured.
        gain_db += MONO_TO_STEREO_DB
    audio = audio.filter("volume", f"{gain_db:.3f}dB")
    # The limiter works oversampled; the AAC track is 48 kHz stereo.
    audio = audio.filter("aresample", 48000).filter("aformat", **_AUDIO_FORMAT)
    # Started by the encoder's priming late: with no edit list (the video is copied in with
    # none, see assembly_args) the priming plays, and each sample then plays on time.
    audio = audio.filter("atrim", start_sample=AAC_PRIMING_SAMPLES).filter(
        "asetpts", "PTS-STARTPTS"
    )
    return list(fp.output(audio, str(out), **final_audio(quality), f="mp4").get_args())


def assembly_args(segments: Path, soundtrack: Path, out: Path) -> list[str]:
    """Join the segments and lay the soundtrack under them, both by stream copy."""
    video = fp.input(str(segments), f="concat", safe=0).video
    audio = fp.input(str(soundtrack)).audio
    # No edit lists (YouTube asks for none): the segments start at 0 with negative
    # composition offsets, and the soundtrack carries its priming as sound.
    output = fp.output(
        video, audio, str(out), c="copy", movflags="+faststart+negative_cts_offsets",
        use_editlist=0, f="mp4",
    )  # fmt: skip
    return list(output.get_args())


def concat_list(entries: Sequence[tuple[str, float]]) -> str:
    """An ffconcat script of (path, duration in seconds) entries, paths relative to the
    script's folder or absolute. Each segment's exact duration is written out because the
    concat demuxer otherwise takes it from the container, rounded to milliseconds, and the
    next segment's timestamps would start a fraction of a frame early."""
    lines = ["ffconcat version 1.0"]
    for path, duration in entries:
        lines += ["file '" + path.replace("'", "'\\''") + "'", f"duration {duration:.9f}"]
    return "\n".join(lines) + "\n"
