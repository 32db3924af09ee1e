"""The motion model every animator draws from (the drawn avatar and the photo): visemes to mouth
shapes with coarticulation, the voice's loudness scaling how far the mouth opens, blinks,
breathing and following a keyed curve such as the emotion curve."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
T = TypeVar("T")

COARTICULATION_S = 0.04  # the lips anticipate the next sound by this much
BLINK_S = 0.15
BLINK_GAP_S = (2.5, 5.0)  # seconds between blinks, drawn uniformly
FIRST_BLINK_S = (0.6, 2.0)
BREATH_PERIOD_S = 4.2
EMOTION_RAMP_S = 0.4  # an expression changes over this long before its key
# How far loudness moves the opening: a quiet syllable opens to this share of its viseme,
# a loud one to all of it (and a little beyond, up to LOUD_MAX).
LOUD_FLOOR = 0.3
LOUD_MAX = 1.15

# Per viseme: jaw opening, width, roundness, lip fullness, upper teeth, lower teeth, tongue
# height (0 low .. 1 up at the teeth), tongue tip between the teeth. The drawn avatar uses
# all of them; the photo uses the first three.
MOUTHS: dict[str, tuple[float, ...]] = {
    "sil": (0.00, 1.00, 0.25, 1.00, 0.0, 0.0, 0.0, 0.0),
    "PP": (0.00, 0.90, 0.30, 0.62, 0.0, 0.0, 0.0, 0.0),
    "FF": (0.22, 1.00, 0.10, 0.80, 1.0, 0.0, 0.0, 0.0),
    "TH": (0.34, 1.00, 0.20, 1.00, 0.8, 0.5, 0.5, 1.0),
    "DD": (0.32, 1.00, 0.20, 1.00, 0.8, 0.6, 0.9, 0.0),
    "kk": (0.42, 1.00, 0.30, 1.00, 0.7, 0.5, 0.3, 0.0),
    "CH": (0.32, 0.80, 0.60, 1.15, 0.9, 0.8, 0.4, 0.0),
    "SS": (0.22, 1.08, 0.10, 0.95, 1.0, 1.0, 0.2, 0.0),
    "nn": (0.28, 1.00, 0.20, 1.00, 0.6, 0.5, 0.9, 0.0),
    "RR": (0.36, 0.78, 0.70, 1.10, 0.6, 0.3, 0.5, 0.0),
    "aa": (1.00, 1.00, 0.40, 1.00, 0.8, 0.3, 0.0, 0.0),
    "E": (0.52, 1.15, 0.10, 0.95, 0.9, 0.5, 0.2, 0.0),
    "I": (0.32, 1.22, 0.00, 0.90, 0.9, 0.7, 0.3, 0.0),
    "O": (0.74, 0.72, 1.00, 1.15, 0.3, 0.1, 0.1, 0.0),
    "U": (0.42, 0.55, 1.00, 1.30, 0.0, 0.0, 0.1, 0.0),
}
VISEMES: tuple[str, ...] = tuple(MOUTHS)
MOUTH_ARRAYS: dict[str, FloatArray] = {k: np.array(v) for k, v in MOUTHS.items()}
_BY_LOWER: dict[str, str] = {v.lower(): v for v in VISEMES}


def viseme(name: str) -> str:
    """The canonical spelling of a viseme name; unknown names are silence."""
    return _BY_LOWER.get(name.lower(), "sil")


class MouthTrack:
    """The mouth shape over time for a viseme timeline, optionally scaled by loudness."""

    def __init__(
        self,
        visemes: Sequence[tuple[float, str]],
        fps: int,
        loudness: NDArray[np.float32] | None = None,
    ) -> None:
        keys = sorted(((float(t), viseme(v)) for t, v in visemes), key=lambda kv: kv[0])
        self.times = [t for t, _ in keys]
        self.names = [v for _, v in keys]
        self.shapes = [MOUTH_ARRAYS[v] for v in self.names]
        self.fps = fps
        self.loudness = loudness

    def at(self, t: float) -> FloatArray:
        """The shape averaged over [t, t + window] (coarticulation), its opening scaled by the
        loudness at ``t`` when known."""
        shape = blend(self.times, self.shapes, t)
        if self.loudness is not None and self.loudness.size:
            i = min(self.loudness.size - 1, max(0, round(t * self.fps)))
            shape = shape.copy()
            shape[0] *= loud_gain(float(self.loudness[i]))
        return shape

    def name_at(self, t: float) -> str:
        k = bisect_right(self.times, t) - 1
        return self.names[k] if k >= 0 else "sil"


def blend(times: Sequence[float], shapes: Sequence[FloatArray], t: float) -> FloatArray:
    """Average the piecewise-constant viseme signal over [t, t + COARTICULATION_S]."""
    sil = MOUTH_ARRAYS["sil"]
    end = t + COARTICULATION_S
    k = bisect_right(times, t) - 1
    acc = np.zeros_like(sil)
    cur = t
    while cur < end:
        nxt = times[k + 1] if k + 1 < len(times) else math.inf
        seg = min(nxt, end)
        if seg > cur:
            acc += (shapes[k] if k >= 0 else sil) * (seg - cur)
        cur = max(cur, seg)
        k += 1
    out: FloatArray = acc / COARTICULATION_S
    return out


def loud_gain(level: float) -> float:
    """How much of a viseme's opening a syllable at ``level`` (0..1 of the voice's loud
    level) shows."""
    return LOUD_FLOOR + (LOUD_MAX - LOUD_FLOOR) * min(1.0, max(0.0, level))


def loudness(path: Path, fps: int, n_frames: int | None = None) -> NDArray[np.float32]:
    """The voice's loudness per video frame, 0..1 (1: its loud syllables; a 40 dB range below
    them maps to 0..1), lightly smoothed so the jaw does not chatter."""
    import av

    rate = 16000
    chunks: list[NDArray[np.generic]] = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="s16", layout="mono", rate=rate)
        for frame in container.decode(audio=0):
            for part in resampler.resample(frame):
                chunks.append(part.to_ndarray().reshape(-1))
        for part in resampler.resample(None):
            chunks.append(part.to_ndarray().reshape(-1))
    samples = np.concatenate(chunks).astype(np.float32) / 32768 if chunks else np.zeros(0)
    n = n_frames if n_frames is not None else max(1, math.ceil(len(samples) * fps / rate))
    out = np.zeros(n, np.float32)
    hop = rate / fps
    for i in range(n):
        a, b = round(i * hop), round((i + 1) * hop)
        if a < len(samples):
            seg = samples[a : min(b, len(samples))]
            out[i] = float(np.sqrt(np.mean(seg * seg))) if seg.size else 0.0
    peak = float(np.percentile(out, 95)) if out.size else 0.0
    if peak <= 1e-5:
        return np.zeros(n, np.float32)
    db = 20 * np.log10(np.maximum(out, 1e-9) / peak)
    level = np.clip(1 + db / 40, 0, 1).astype(np.float32)
    if n >= 3:
        padded = np.pad(level, 1, mode="edge")
        level = (0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]).astype(np.float32)
    return level


class Blinks:
    """A seeded blink schedule; ``closed(t)`` is how shut the eyes are (0 open .. 1 shut)."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"blink:{seed}")
        self._starts: list[float] = []

    def _until(self, t: float) -> None:
        while not self._starts or self._starts[-1] <= t:
            if self._starts:
                self._starts.append(self._starts[-1] + self._rng.uniform(*BLINK_GAP_S))
            else:
                self._starts.append(self._rng.uniform(*FIRST_BLINK_S))

    def starts(self, until_s: float) -> list[float]:
        self._until(until_s)
        return [b for b in self._starts if b <= until_s]

    def closed(self, t: float) -> float:
        self._until(t)
        k = bisect_right(self._starts, t) - 1
        if k >= 0:
            ph = (t - self._starts[k]) / BLINK_S
            if 0.0 <= ph < 1.0:
                return min(1.0, (1.0 - abs(2.0 * ph - 1.0)) * 1.6)
        return 0.0


def breath(t: float) -> float:
    """The breathing cycle at ``t``, -1..1."""
    return math.sin(2 * math.pi * t / BREATH_PERIOD_S)


def smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def follow(keys: Sequence[tuple[float, T]], t: float, mix: Callable[[T, T, float], T]) -> T:
    """A keyed curve at ``t``: each key holds until EMOTION_RAMP_S before the next, then eases
    into it (an expression changes over a moment, not in one frame)."""
    times = [k for k, _ in keys]
    k = bisect_right(times, t) - 1
    if k < 0:
        return keys[0][1]
    if k + 1 >= len(keys):
        return keys[k][1]
    (t0, a), (t1, b) = keys[k], keys[k + 1]
    ramp = min(EMOTION_RAMP_S, t1 - t0)
    if ramp <= 0:
        return b
    return mix(a, b, smooth((t - (t1 - ramp)) / ramp))


class Animator:
    """What both animators share: a shot's frames streamed as rgb24 or yuv420p bytes, one per
    step of the animator's own timeline (``_steps``), drawn by ``_rgb_frame`` or ``_yuv_frame``."""

    width: int
    height: int
    fps: int
    last: dict[str, float | str]  # what drove the last frame, for the debug overlay and tests

    def _steps(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None,
    ) -> Iterator[tuple[Any, ...]]:
        """Per frame, the arguments ``_rgb_frame`` and ``_yuv_frame`` draw it from."""
        raise NotImplementedError

    def _rgb_frame(self, *step: Any) -> NDArray[np.uint8]:
        raise NotImplementedError

    def _yuv_frame(self, *step: Any) -> NDArray[np.uint8]:
        raise NotImplementedError

    def _track(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None,
    ) -> Iterator[tuple[int, float, FloatArray]]:
        """Per frame: its index, time and the mouth shape (coarticulated, opened as far as
        ``loudness`` says); the viseme in force is noted in ``last``."""
        track = MouthTrack(visemes, self.fps, loudness)
        for i in range(n_frames):
            t = i / self.fps
            shape = track.at(t)
            self.last["viseme"] = track.name_at(t)
            yield i, t, shape

    def frames(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None = None,
    ) -> Iterator[bytes]:
        """Exactly ``n_frames`` rgb24 frames for the (time s, viseme) keyframes, the mouth
        opened as far as ``loudness`` (per frame, 0..1) says; deterministic for the same
        inputs and seed."""
        for step in self._steps(visemes, n_frames, loudness):
            yield self._rgb_frame(*step).tobytes()

    def frames_yuv420p(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None = None,
    ) -> Iterator[bytes]:
        """The frames of ``frames`` as yuv420p (BT.601 limited range, as ffmpeg converts
        rgb24): half the bytes, and what moves costs half as much. Needs an even size."""
        if self.width % 2 or self.height % 2:
            raise ValueError(f"yuv420p needs an even frame size, not {self.width}x{self.height}")
        for step in self._steps(visemes, n_frames, loudness):
            yield self._yuv_frame(*step).tobytes()
