"""Conform a clip from anywhere (a cloud model's output) to a shot's exact frames: its size, its
frame rate and its frame count, with no audio of its own, so picture and narration cannot drift."""

from __future__ import annotations

from pathlib import Path

from personaforge.media import ffmpeg
from personaforge.media.encoding import INTERMEDIATE_VIDEO_ARGS
from personaforge.media.probe import probe
from personaforge.progress import Progress

# Up to this difference in aspect ratio the clip is cropped to fill the frame (a sliver lost);
# beyond it, it is fitted and padded, since cropping would cut into the face.
CROP_TOLERANCE = 0.12


def conform(
    src: Path,
    out: Path,
    *,
    width: int,
    height: int,
    fps: int,
    frames: int,
    pad_color: str = "black",
    progress: Progress | None = None,
) -> None:
    """Write ``out``: exactly ``frames`` frames of ``width`` x ``height`` at ``fps``, silent.

    A clip that is too short holds its last frame; one that is too long is cut; another
    frame rate is resampled by time; another size is scaled and cropped or padded.
    """
    info = probe(src)
    if not info.video_codec or not info.width or not info.height:
        from personaforge.errors import PersonaForgeError

        raise PersonaForgeError("the returned clip has no video stream", file=src)
    aspect, target = info.width / info.height, width / height
    if abs(aspect / target - 1) <= CROP_TOLERANCE:
        fit = (
            f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic,"
            f"crop={width}:{height}"
        )
    else:
        fit = (
            f"scale={width}:{height}:force_original_aspect_ratio=decrease:flags=bicubic,"
            f"pad={width}:{height}:(ow-iw)/2:(oh-ih)/2:color={pad_color}"
        )
    # setpts first: a clip whose first frame is not at 0 (an edit list) would otherwise gain
    # or lose frames at the start; tpad holds the last frame as long as needed.
    graph = f"setpts=PTS-STARTPTS,{fit},setsar=1,fps={fps},tpad=stop=-1:stop_mode=clone"
    args = [
        "-i", str(src), "-map", "0:v:0", "-vf", graph, "-frames:v", str(frames),
        "-r", str(fps), *INTERMEDIATE_VIDEO_ARGS, str(out),
    ]  # fmt: skip
    ffmpeg.run(
        args,
        duration_s=frames / fps,
        progress=progress,
        task="conforming",
        what="conforming the returned clip failed",
    )
