"""The debug overlay (`make-video --debug-overlay`): burns into each frame what drove the face
in it (shot id, current word, viseme, openness, emotion and intensity, the landmarks), so a
creator can see why a mouth did what it did."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class DebugInfo:
    """What the overlay names, besides what the animator reports per frame."""

    shot: str
    words: Sequence[tuple[float, float, str]] = ()  # (start s, end s, text)

    @staticmethod
    def of(extra: Mapping[str, object]) -> DebugInfo | None:
        """The overlay's settings from an ``AnimationRequest.extra``, if it asks for one."""
        found = extra.get("debug_overlay")
        return found if isinstance(found, DebugInfo) else None

    def word_at(self, t: float) -> str:
        k = bisect_right([w[0] for w in self.words], t) - 1
        if k >= 0 and t <= self.words[k][1] + 0.05:
            return self.words[k][2]
        return "-"


def draw(
    frame: Frame,
    t: float,
    info: DebugInfo,
    state: Mapping[str, float | str],
    points: NDArray[np.float32] | None = None,
) -> Frame:
    """``frame`` (rgb, modified in place) with the overlay drawn on it."""
    import cv2

    h, w = frame.shape[:2]
    if points is not None:
        green = (60, 255, 90)
        for x, y in points.astype(int):
            if 0 <= x < w and 0 <= y < h:
                frame[y, x] = green
    opening = state.get("openness", 0.0)
    lines = [
        f"{info.shot}  t={t:5.2f}s",
        f"word: {info.word_at(t)}",
        f"viseme: {state.get('viseme', '-')}  open: {float(opening):.2f}",
        f"emotion: {state.get('emotion', '-')}",
    ]
    scale = max(0.3, min(w, h) / 720)
    thick = max(1, round(scale * 1.5))
    step = round(22 * scale) + 4
    bar = int(min(1.0, max(0.0, float(opening))) * (w // 4))
    cv2.rectangle(frame, (4, 4), (4 + w // 4, 4 + step // 3), (40, 40, 40), -1)
    cv2.rectangle(frame, (4, 4), (4 + bar, 4 + step // 3), (255, 200, 40), -1)
    for i, text in enumerate(lines):
        org = (6, 4 + step // 3 + (i + 1) * step)
        cv2.putText(frame, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), thick + 2)
        cv2.putText(frame, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), thick)
    return frame


def overlaid(
    frames: Iterator[bytes],
    width: int,
    height: int,
    fps: int,
    info: DebugInfo,
    state: Mapping[str, float | str],
    points: NDArray[np.float32] | None = None,
) -> Iterator[bytes]:
    """rgb24 ``frames`` with the overlay; ``state`` is read after each frame is made (the
    animator updates it as it draws)."""
    for i, raw in enumerate(frames):
        frame = np.frombuffer(raw, np.uint8).reshape(height, width, 3).copy()
        yield draw(frame, i / fps, info, state, points).tobytes()


def to_yuv420p(frames: Iterator[bytes], width: int, height: int) -> Iterator[bytes]:
    """rgb24 frames as yuv420p (BT.601 limited range, as ffmpeg converts them)."""
    import cv2

    for raw in frames:
        rgb = np.frombuffer(raw, np.uint8).reshape(height, width, 3)
        yield np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)).tobytes()
