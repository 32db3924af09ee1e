"""Encoder settings shared by the stages, so clips and the final video agree."""

from __future__ import annotations

# Intermediate per-shot clips: near-lossless, fast; they are re-encoded once by render.
INTERMEDIATE_VIDEO_ARGS = (
    "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "14", "-pix_fmt", "yuv420p",
)  # fmt: skip

FINAL_VIDEO_ARGS = (
    "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
    "-profile:v", "high",
)  # fmt: skip

FINAL_AUDIO_ARGS = ("-c:a", "aac", "-b:a", "160k", "-ar", "48000", "-ac", "2")

LOUDNESS_TARGET_LUFS = -16.0
