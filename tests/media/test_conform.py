"""Conforming a clip from elsewhere to a shot's exact frames, size and rate, with no audio."""

from __future__ import annotations

from pathlib import Path

import av
import pytest

from personaforge.media import ffmpeg
from personaforge.media.conform import conform
from personaforge.media.probe import probe


def _clip(path: Path, *, size: str, rate: int, seconds: float, audio: bool) -> Path:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}"]
    if audio:  # what lip-sync models return: their own (resampled) copy of the speech
        args += ["-f", "lavfi", "-i", f"sine=frequency=300:sample_rate=16000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"]
    args += ["-c:a", "aac"] if audio else []
    ffmpeg.run([*args, str(path)])
    return path


def _frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize(
    ("size", "rate", "seconds", "audio", "frames"),
    [
        ("320x180", 30, 1.0, True, 33),  # a few frames short: the last frame is held
        ("320x180", 30, 1.2, True, 33),  # a few frames long: cut
        ("256x256", 25, 1.0, True, 30),  # another rate and a square picture: padded
        ("640x360", 60, 0.5, False, 15),  # twice the rate, twice the size
        ("336x180", 24, 0.6, True, 18),  # a slightly wider picture: cropped, not padded
    ],
)
def test_conform_gives_exact_frames_size_rate_and_no_audio(
    tmp_path: Path, size: str, rate: int, seconds: float, audio: bool, frames: int
) -> None:
    src = _clip(tmp_path / "returned.mp4", size=size, rate=rate, seconds=seconds, audio=audio)
    out = tmp_path / "conformed.mp4"
    conform(src, out, width=320, height=180, fps=30, frames=frames)
    info = probe(out)
    assert (info.width, info.height, info.fps) == (320, 180, 30.0)
    assert info.audio_codec is None and info.video_codec == "h264"
    assert _frame_count(out) == frames
    assert info.duration_s == pytest.approx(frames / 30, abs=0.02)


def test_padding_only_when_the_aspect_differs_a_lot(tmp_path: Path) -> None:
    import numpy as np

    square = _clip(tmp_path / "sq.mp4", size="180x180", rate=30, seconds=0.2, audio=False)
    out = tmp_path / "out.mp4"
    conform(square, out, width=320, height=180, fps=30, frames=6)
    with av.open(str(out)) as container:
        img = next(container.decode(video=0)).to_ndarray(format="rgb24")
    # Black bars left and right, picture in the middle.
    assert img[:, :60].max() < 30 and img[:, 140:180].mean() > 30
    assert np.asarray(img).shape == (180, 320, 3)


def test_a_clip_without_video_is_a_clear_error(tmp_path: Path) -> None:
    from personaforge.errors import PersonaForgeError

    wav = tmp_path / "speech.m4a"
    ffmpeg.run(["-f", "lavfi", "-i", "sine=duration=0.3", "-c:a", "aac", str(wav)])
    with pytest.raises(PersonaForgeError, match="no video stream"):
        conform(wav, tmp_path / "out.mp4", width=320, height=180, fps=30, frames=9)
