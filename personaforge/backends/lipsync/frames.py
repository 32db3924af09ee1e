"""A silent clip from an in-process animator's frames: what `render()` means for a FrameSource."""

from __future__ import annotations

from pathlib import Path

from personaforge.backends.base import AnimationRequest, FrameSource
from personaforge.media import ffmpeg
from personaforge.media.encoding import INTERMEDIATE_VIDEO_ARGS
from personaforge.progress import Progress


def encode_clip(
    source: FrameSource, request: AnimationRequest, audio: Path, out: Path, progress: Progress
) -> None:
    """Stream ``source``'s frames for ``request`` into a near-lossless silent clip at ``out``."""
    ffmpeg.encode_frames(
        source.frames(request, audio),
        width=request.width,
        height=request.height,
        fps=request.fps,
        out_args=INTERMEDIATE_VIDEO_ARGS,
        out=out,
        n_frames=request.frames,
        progress=progress,
        task="animating",
        what=f"encoding the {source.name} clip failed",
    )
