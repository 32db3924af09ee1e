"""The file suffixes read as pictures and as video clips: one list, for the manifests' checks,
the composer and the GPU worker."""

from __future__ import annotations

from typing import Final

IMAGE_SUFFIXES: Final = (".jpg", ".jpeg", ".png", ".webp")
VIDEO_SUFFIXES: Final = (".mp4", ".mov", ".m4v", ".webm", ".mkv")
