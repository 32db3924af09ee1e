"""Frames composed in Python for the b-roll shot kinds: a slow Ken Burns move over a still, a
video fitted to the frame, and the persona inset in a corner. Streams rgb24, frame by frame."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageOps

from personaforge.core.suffixes import VIDEO_SUFFIXES
from personaforge.errors import PersonaForgeError

# The move: zoom from 100% to 112% (or back), drifting a little, eased at both ends.
KEN_BURNS_ZOOM = 1.12


def is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES


def _open_image(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            return ImageOps.exif_transpose(img).convert("RGB")
    except (OSError, ValueError) as exc:
        raise PersonaForgeError(f"cannot read the b-roll image ({exc})", file=path) from None


def ken_burns(path: Path, width: int, height: int, frames: int) -> Iterator[bytes]:
    """A still, covering the frame, slowly zoomed and panned; the direction of the move comes
    from the file's name so a shot looks the same on every run."""
    img = _open_image(path)
    # Work on a copy just big enough for the closest zoom, so huge photos cost nothing extra.
    cover = max(width / img.width, height / img.height) * KEN_BURNS_ZOOM
    img = img.resize(
        (max(width, round(img.width * cover)), max(height, round(img.height * cover))),
        Image.Resampling.LANCZOS,
    )
    digest = hashlib.sha256(path.name.encode("utf-8")).digest()
    zoom_in = digest[0] % 2 == 0
    drift_x = (digest[1] / 255 - 0.5) * 0.6  # of the spare room either side
    drift_y = (digest[2] / 255 - 0.5) * 0.6
    base = min(img.width / width, img.height / height)  # source px per output px at 100%
    for i in range(frames):
        p = i / max(1, frames - 1)
        ease = p * p * (3 - 2 * p)
        amount = ease if zoom_in else 1 - ease
        scale = base / (1 + (KEN_BURNS_ZOOM - 1) * amount)
        spare_x, spare_y = img.width - width * scale, img.height - height * scale
        x = spare_x * (0.5 + drift_x * (amount - 0.5))
        y = spare_y * (0.5 + drift_y * (amount - 0.5))
        frame = img.transform(
            (width, height),
            Image.Transform.AFFINE,
            (scale, 0, x, 0, scale, y),
            resample=Image.Resampling.BILINEAR,
        )
        yield frame.tobytes()


def video_frames(path: Path, width: int, height: int, frames: int, fps: int) -> Iterator[bytes]:
    """A video's frames at ``fps``, scaled to cover ``width`` x ``height`` and centre-cropped,
    looped if it is shorter than the shot; its sound is ignored."""
    import av

    made = 0
    while made < frames:
        k, last = 0, None
        try:
            with av.open(str(path)) as container:
                origin = None
                for frame in container.decode(container.streams.video[0]):
                    t = float(frame.time or 0.0)
                    origin = t if origin is None else origin
                    # Each source frame shows until the next starts: repeated or skipped so
                    # the output keeps its own rate.
                    while last is not None and k / fps < t - origin and made < frames:
                        yield last
                        k, made = k + 1, made + 1
                    if made >= frames:
                        return
                    fitted = ImageOps.fit(
                        frame.to_image(), (width, height), Image.Resampling.BILINEAR
                    )
                    last = fitted.convert("RGB").tobytes()
        except (OSError, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
            raise PersonaForgeError(f"cannot read the b-roll video ({exc})", file=path) from None
        if last is None:
            raise PersonaForgeError("the b-roll video has no frames", file=path)
        yield last
        made += 1


def broll_frames(path: Path, width: int, height: int, frames: int, fps: int) -> Iterator[bytes]:
    if is_video(path):
        return video_frames(path, width, height, frames, fps)
    return ken_burns(path, width, height, frames)


def inset_size(width: int, height: int) -> tuple[int, int]:
    """The persona's box in picture-in-picture: a third of the frame's shorter side, even."""
    side = min(width, height) // 3
    w = side - side % 2
    h = round(w * 4 / 3)
    return max(16, w), max(16, h - h % 2)


def picture_in_picture(
    background: Iterator[bytes],
    inset: Iterator[bytes],
    *,
    width: int,
    height: int,
    inset_w: int,
    inset_h: int,
    border: tuple[int, int, int] = (255, 255, 255),
) -> Iterator[bytes]:
    """``inset`` frames over ``background`` frames, in the bottom-right corner inside the
    title-safe area, with a thin border; the captions keep the bottom centre."""
    pad = max(2, round(min(width, height) / 120))
    x = width - round(width * 0.05) - inset_w - 2 * pad
    y = round(height * 0.05)  # the top: clear of the captions below
    framed = Image.new("RGB", (inset_w + 2 * pad, inset_h + 2 * pad), border)
    for back, front in zip(background, inset, strict=False):
        canvas = Image.frombytes("RGB", (width, height), back)
        framed.paste(Image.frombytes("RGB", (inset_w, inset_h), front), (pad, pad))
        canvas.paste(framed, (x, y))
        yield canvas.tobytes()
