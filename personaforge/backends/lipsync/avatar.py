"""The offline lip-sync backend: draws the persona's avatar per viseme and streams it to ffmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from personaforge.backends.base import AnimationRequest
from personaforge.backends.lipsync.frames import encode_clip
from personaforge.progress import Progress

if TYPE_CHECKING:
    from personaforge.media.avatar import AvatarAnimator


class AvatarLipsync:
    name = "avatar"
    version = "2"  # 2: brows and eyes follow the emotion curve

    def frames(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        return _animator(request).frames(request.visemes, request.frames)

    def frames_yuv420p(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        return _animator(request).frames_yuv420p(request.visemes, request.frames)

    def render(self, request: AnimationRequest, audio: Path, out: Path, progress: Progress) -> None:
        encode_clip(self, request, audio, out, progress)


def _animator(request: AnimationRequest) -> AvatarAnimator:
    from personaforge.media.avatar import AvatarAnimator

    return AvatarAnimator(
        request.look,
        request.width,
        request.height,
        request.fps,
        emotion=request.emotion,
        camera=request.camera,
        seed=request.seed,
        emotion_curve=request.emotion_curve,
    )
