"""Encoder settings shared by the stages, so every segment and the final video agree.

Two qualities: ``draft`` (fast previews: constant quality, small files) and ``master`` (what
a platform takes for upload: YouTube's recommended bitrates). Both share what a platform
checks in the stream itself: colour tags, closed GOPs of half a second, at most two
consecutive B-frames, no edit lists.
"""

from __future__ import annotations

from typing import Final, Literal

from personaforge.fsutil import canonical_hash

Quality = Literal["draft", "master"]
QUALITIES: Final = ("draft", "master")

Settings = dict[str, str | int | None]

# Intermediate clips (what a clip-returning lip-sync backend leaves, once conformed):
# near-lossless and fast; they are decoded once into their shot's segment.
INTERMEDIATE_VIDEO_ARGS = (
    "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p",
)  # fmt: skip

# How the frames are drawn, and so how the stream is tagged. Every picture is made in BT.601
# limited range: the avatar converts its own frames to yuv420p with BT.601's matrix,
# ffmpeg's swscale and its drawing filters (drawtext, libass) use BT.601 for untagged
# frames. Converting all of it to BT.709 would requantise every pixel once more and cost
# encode time; tagging the matrix that was used is exact and free. Players that read the
# tags (Chromium, Firefox, Safari, VLC, mpv, YouTube's ingest) then decode the drawn colours;
# untagged, they guess BT.709 for HD and shift them (#d7263d shows as (230,56,61)).
# The primaries and transfer are BT.709's: the colours are sRGB values, whose primaries are
# BT.709's (tagging SMPTE 170M primaries would make a colour-managed player shift the gamut).
COLOUR_MATRIX: Final = "smpte170m"
COLOUR_PRIMARIES: Final = "bt709"
COLOUR_TRANSFER: Final = "bt709"
COLOUR_RANGE: Final = "tv"

# The filter that tags the frames, last in every graph: the drawing filters before it see
# untagged frames and draw in BT.601, and the encoder writes these tags into the stream.
TAG_FILTER: Final = (
    "setparams",
    {
        "colorspace": COLOUR_MATRIX,
        "color_primaries": COLOUR_PRIMARIES,
        "color_trc": COLOUR_TRANSFER,
        "range": COLOUR_RANGE,
    },
)

# YouTube's recommended upload bitrates for SDR video (kb/s) by the frame's shorter side, at
# 24-30 fps and at 48-60 fps (https://support.google.com/youtube/answer/1722171).
MASTER_VIDEO_KBPS: Final = (
    (2160, 40000, 60000),
    (1440, 16000, 24000),
    (1080, 8000, 12000),
    (720, 5000, 7500),
    (480, 2500, 4000),
    (0, 1000, 1500),  # 360p and below
)
# YouTube: AAC-LC, 48 kHz, 384 kb/s for stereo.
MASTER_AUDIO_KBPS: Final = 384
DRAFT_AUDIO_KBPS: Final = 160
MAX_B_FRAMES: Final = 2  # YouTube: 2 consecutive B-frames
# AAC's encoder delay: the first 1024 samples it writes are priming. Without an edit list to
# hide them (YouTube asks for none) they would play, and the sound would lag the picture by
# 21 ms; the mix is started this many samples late instead, so each sample plays on time.
AAC_PRIMING_SAMPLES: Final = 1024


def master_video_kbps(width: int, height: int, fps: int) -> int:
    """YouTube's recommended upload bitrate for this frame size and rate."""
    short = min(width, height)
    for side, normal, high in MASTER_VIDEO_KBPS:
        if short >= side:
            return high if fps > 30 else normal
    return MASTER_VIDEO_KBPS[-1][1]  # pragma: no cover - the table ends at 0


def gop_frames(fps: int) -> int:
    """YouTube: a closed GOP of half the frame rate."""
    return max(1, fps // 2)


def segment_video(quality: Quality, width: int, height: int, fps: int) -> Settings:
    """How every shot's segment (and transition) is encoded, once, in final quality, so the
    final video is the segments joined by stream copy.

    x264's GOPs are closed by default (every keyframe an IDR frame) and a segment's first
    frame is one, so each cut starts cleanly; an identical SPS/PPS in every segment (the
    same settings and size) is what lets the concat demuxer copy them into one stream."""
    settings: Settings = {
        "c:v": "libx264",
        "preset": "veryfast",
        "pix_fmt": "yuv420p",
        "profile:v": "high",
        "g": gop_frames(fps),
        "bf": MAX_B_FRAMES,
        "x264-params": "open-gop=0",
        "colorspace": COLOUR_MATRIX,
        "color_primaries": COLOUR_PRIMARIES,
        "color_trc": COLOUR_TRANSFER,
        "color_range": COLOUR_RANGE,
        "an": None,
        # One timescale for every segment, so their timestamps join without rescaling.
        "video_track_timescale": 15360,
        # B-frames delay the first frame's presentation; negative composition offsets start
        # it at 0 without an edit list, so the joined video needs none either.
        "movflags": "+negative_cts_offsets",
        "use_editlist": 0,
    }
    if quality == "master":
        kbps = master_video_kbps(width, height, fps)
        # Average bitrate at YouTube's figure: x264 spends it on quality (flat drawn frames
        # need far less, so they come out close to lossless), within a VBV cap that keeps
        # the bitrate even across a segment.
        settings.update({"b:v": f"{kbps}k", "maxrate": f"{kbps * 3 // 2}k",
                         "bufsize": f"{kbps * 2}k"})  # fmt: skip
    else:
        settings["crf"] = 20
    return settings


def final_video_args(quality: Quality, width: int, height: int, fps: int) -> tuple[str, ...]:
    """segment_video as a command line, for a tool that encodes a whole video in one go (the
    bench's bare baseline, which must encode as the segments do)."""
    args: list[str] = []
    for key, value in segment_video(quality, width, height, fps).items():
        if key in ("an", "video_track_timescale", "movflags", "use_editlist"):
            continue
        args += [f"-{key}", str(value)]
    return tuple(args)


def final_audio(quality: Quality) -> Settings:
    """The soundtrack's AAC encode. The AAC encode is the largest fixed cost of re-rendering
    after an edit: ffmpeg's "fast" coder takes about 27% less time than its default
    (twoloop) here; at the master's 384 kb/s the coder matters little."""
    kbps = MASTER_AUDIO_KBPS if quality == "master" else DRAFT_AUDIO_KBPS
    return {"c:a": "aac", "aac_coder": "fast", "b:a": f"{kbps}k", "ar": 48000, "ac": 2}


# The few frames on either side of a transition, kept (captions burned) for it to blend:
# lossless, so the transition's own encode is their only lossy one.
LOSSLESS_VIDEO: Settings = {
    "c:v": "libx264",
    "preset": "ultrafast",
    "qp": 0,
    "pix_fmt": "yuv420p",
    "an": None,
}


# AAC's reconstruction overshoots the limiter's ceiling by a few tenths of a dB, so the limiter
# aims this far below the requested true peak for the encoded file to stay under it.
AAC_PEAK_MARGIN_DB = 0.5

# Bump when a change to the segment pipeline changes its pixels: every segment re-encodes.
SEGMENT_VERSION = "4"  # 4: colour tags, half-second GOPs, 2 B-frames, no edit lists


def segment_settings_key(quality: Quality = "draft", width: int = 0, height: int = 0,
                         fps: int = 30) -> str:  # fmt: skip
    """Hash of everything in how segments are encoded; part of each segment's cache key."""
    return canonical_hash(
        {"video": segment_video(quality, width, height, fps), "version": SEGMENT_VERSION}
    )
