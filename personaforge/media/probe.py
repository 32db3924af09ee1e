"""Probe media files with PyAV (imageio-ffmpeg ships no ffprobe)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from personaforge.errors import PersonaForgeError


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    pix_fmt: str | None
    audio_codec: str | None
    sample_rate: int | None
    channels: int | None


def probe(path: Path) -> MediaInfo:
    import av

    try:
        with av.open(str(path)) as container:
            v = next(iter(container.streams.video), None)
            a = next(iter(container.streams.audio), None)
            duration = float(container.duration or 0) / 1_000_000
            return MediaInfo(
                duration_s=duration,
                video_codec=v.codec_context.name if v else None,
                width=v.codec_context.width if v else None,
                height=v.codec_context.height if v else None,
                fps=float(v.average_rate) if v and v.average_rate else None,
                pix_fmt=v.codec_context.pix_fmt if v else None,
                audio_codec=a.codec_context.name if a else None,
                sample_rate=a.codec_context.sample_rate if a else None,
                channels=a.codec_context.channels if a else None,
            )
    except (OSError, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
        raise PersonaForgeError(f"cannot read media: {exc}", file=path) from None
