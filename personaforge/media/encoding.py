"""Encoder settings shared by the stages, so every segment and the final video agree."""

from __future__ import annotations

from personaforge.fsutil import canonical_hash

# Intermediate clips (what a clip-returning lip-sync backend leaves, once conformed):
# near-lossless and fast; they are decoded once into their shot's segment.
INTERMEDIATE_VIDEO_ARGS = (
    "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p",
)  # fmt: skip

# Every shot's segment is encoded once, in final quality, with exactly these settings, so the
# final video is the segments joined by stream copy. x264's GOPs are closed by default and a
# segment's first frame is an IDR frame, so each cut starts cleanly; an identical SPS/PPS in
# every segment is what lets the concat demuxer copy them into one stream.
SEGMENT_VIDEO: dict[str, str | int | None] = {
    "c:v": "libx264",
    "preset": "veryfast",
    "crf": 20,
    "pix_fmt": "yuv420p",
    "profile:v": "high",
    "g": 250,
    "an": None,
    # One timescale for every segment, so their timestamps join without rescaling.
    "video_track_timescale": 15360,
}

# The few frames on either side of a transition, kept (captions burned) for it to blend:
# lossless, so the transition's own encode is their only lossy one.
LOSSLESS_VIDEO: dict[str, str | int | None] = {
    "c:v": "libx264",
    "preset": "ultrafast",
    "qp": 0,
    "pix_fmt": "yuv420p",
    "an": None,
}

# The AAC encode is the largest fixed cost of re-rendering after an edit: ffmpeg's "fast"
# coder takes about 27% less time than its default (twoloop) here, at a bitrate that leaves
# speech plenty of room.
FINAL_AUDIO: dict[str, str | int | None] = {
    "c:a": "aac",
    "aac_coder": "fast",
    "b:a": "160k",
    "ar": 48000,
    "ac": 2,
}
# AAC's reconstruction overshoots the limiter's ceiling by a few tenths of a dB, so the limiter
# aims this far below the requested true peak for the encoded file to stay under it.
AAC_PEAK_MARGIN_DB = 0.5

# Bump when a change to the segment pipeline changes its pixels: every segment re-encodes.
SEGMENT_VERSION = "3"


def segment_settings_key() -> str:
    """Hash of everything in how segments are encoded; part of each segment's cache key."""
    return canonical_hash({"video": SEGMENT_VIDEO, "version": SEGMENT_VERSION})
