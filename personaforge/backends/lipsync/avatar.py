"""The offline lip-sync backend: draws the persona's avatar per viseme and streams it to ffmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from personaforge.backends.base import AnimationRequest, LipsyncBackend
from personaforge.backends.lipsync.frames import encode_clip
from personaforge.media import overlay
from personaforge.progress import Progress

if TYPE_CHECKING:
    from personaforge.media.avatar import AvatarAnimator


class AvatarLipsync(LipsyncBackend):
    name = "avatar"
    version = "3"  # 2: brows and eyes follow the emotion curve; 3: the opening follows loudness

    def frames(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        anim = _animator(request)
        frames = anim.frames(request.visemes, request.frames, _loudness(request, audio))
        debug = overlay.DebugInfo.of(request.extra)
        if debug is None:
            return frames
        return overlay.overlaid(
            frames, request.width, request.height, request.fps, debug, anim.last
        )

    def frames_yuv420p(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        if overlay.DebugInfo.of(request.extra) is not None:
            return overlay.to_yuv420p(self.frames(request, audio), request.width, request.height)
        return _animator(request).frames_yuv420p(
            request.visemes, request.frames, _loudness(request, audio)
        )

    def render(self, request: AnimationRequest, audio: Path, out: Path, progress: Progress) -> None:
        encode_clip(self, request, audio, out, progress)


def _loudness(request: AnimationRequest, audio: Path) -> NDArray[np.float32] | None:
    from personaforge.media import motion

    return motion.loudness(audio, request.fps, request.frames) if audio.is_file() else None


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
