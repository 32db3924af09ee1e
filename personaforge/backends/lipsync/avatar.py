"""The offline lip-sync backend: draws the persona's avatar per viseme and streams it to ffmpeg."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from personaforge.backends.base import AnimationRequest
from personaforge.media import ffmpeg
from personaforge.media.encoding import INTERMEDIATE_VIDEO_ARGS
from personaforge.progress import Progress


class AvatarLipsync:
    name = "avatar"
    version = "2"  # 2: brows and eyes follow the emotion curve

    def frames(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        from personaforge.media.avatar import AvatarAnimator

        animator = AvatarAnimator(
            request.look,
            request.width,
            request.height,
            request.fps,
            emotion=request.emotion,
            camera=request.camera,
            seed=request.seed,
            emotion_curve=request.emotion_curve,
        )
        return animator.frames(request.visemes, request.frames)

    def render(self, request: AnimationRequest, audio: Path, out: Path, progress: Progress) -> None:
        ffmpeg.encode_frames(
            self.frames(request, audio),
            width=request.width,
            height=request.height,
            fps=request.fps,
            out_args=INTERMEDIATE_VIDEO_ARGS,
            out=out,
            n_frames=request.frames,
            progress=progress,
            task="animating",
            what="encoding the avatar clip failed",
        )
