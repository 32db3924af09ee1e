"""Shared pieces for the cloud lip-sync backend tests: a portrait, a shot's audio, a request,
the backend setup, and a clip such as a model returns (another size, rate, length, audio)."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

from personaforge.backends.base import AnimationRequest, LipsyncSetup
from personaforge.core.specs import Look
from personaforge.media import ffmpeg
from personaforge.media.synthface import draw_portrait

FRAMES = 36  # 1.2 s at 30 fps
SIZE = (160, 90)


def write_portrait(folder: Path) -> Path:
    path = folder / "portrait.jpg"
    folder.mkdir(parents=True, exist_ok=True)
    draw_portrait(640, 400, face_width=150, center=(320, 180)).save(path, quality=90)
    return path


def write_audio(path: Path, seconds: float = 1.2, rate: int = 22050) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(seconds * rate)
        w.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * i / rate)))
                for i in range(n)
            )
        )
    return path


def make_request(
    frames: int = FRAMES, seed: int = 7, size: tuple[int, int] = SIZE
) -> AnimationRequest:
    return AnimationRequest(
        look=Look(photo="portrait.jpg"),
        width=size[0],
        height=size[1],
        fps=30,
        frames=frames,
        visemes=[(0.0, "sil"), (0.3, "aa"), (0.7, "sil")],
        seed=seed,
    )


def make_setup(root: Path, env: dict[str, str], storage_target: str = "local") -> LipsyncSetup:
    return LipsyncSetup(
        root=root,
        persona_file=root / "persona.yaml",
        env=env,
        jobs=root / "build" / "jobs",
        storage_target=storage_target,
        photo=write_portrait(root),
        photo_line=4,
    )


def returned_clip(
    path: Path, *, size: str = "256x256", rate: int = 25, seconds: float = 1.1
) -> bytes:
    """A clip like a lip-sync model's: its own size and rate, a little off in length, and an
    audio track of its own (16 kHz, as the models resample speech)."""
    ffmpeg.run([
        "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
        "-f", "lavfi", "-i", f"sine=frequency=200:sample_rate=16000:duration={seconds}",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac",
        str(path),
    ])  # fmt: skip
    return path.read_bytes()
