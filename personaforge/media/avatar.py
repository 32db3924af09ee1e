"""Draws a 2D illustrated talking avatar in code and streams it as rgb24 frames for ffmpeg."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from personaforge.core.colour import hex_rgb
from personaforge.core.specs import Look
from personaforge.media import motion

EMOTIONS: tuple[str, ...] = ("neutral", "happy", "serious", "excited", "calm", "curious")
CAMERA_MOVES: tuple[str, ...] = ("static", "push_in", "pull_out", "pan_left", "pan_right")

Color = tuple[int, ...]
Pt = tuple[float, float]
FloatArray = NDArray[np.float64]
Frame = NDArray[np.uint8]
F32 = NDArray[np.float32]

# The mouth shapes per viseme, coarticulation and blinks are the shared motion model's.
VISEMES: tuple[str, ...] = motion.VISEMES
_MOUTH_ARRAYS: dict[str, FloatArray] = motion.MOUTH_ARRAYS
_BY_LOWER: dict[str, str] = {v.lower(): v for v in VISEMES}
# The jaw's opening is drawn in this many steps between closed and wide, so the loudness can
# scale it while drawn mouths are still reused across frames.
_OPEN_STEPS = 12


@dataclass(frozen=True)
class _Emotion:
    smile: float = 0.0  # mouth corners: + up, - down
    brow_raise: float = 0.0  # head units, + up
    brow_tilt: float = 0.0  # inner ends: + up (worried/open), - down (frown)
    brow_asym: float = 0.0  # extra raise of the right brow (the viewer's right)
    eye_open: float = 1.0
    lower_lid: float = 0.0  # a raised lower lid reads as a smile in the eyes
    open_gain: float = 1.0


_EMOTIONS: dict[str, _Emotion] = {
    "neutral": _Emotion(smile=0.15),
    "happy": _Emotion(smile=0.75, brow_raise=0.008, lower_lid=0.3, open_gain=1.05),
    "serious": _Emotion(smile=-0.25, brow_raise=-0.012, brow_tilt=-0.014, eye_open=0.88),
    "excited": _Emotion(
        smile=0.9, brow_raise=0.026, brow_tilt=0.004, eye_open=1.1, lower_lid=0.15, open_gain=1.12
    ),
    "calm": _Emotion(smile=0.35, brow_raise=0.0, eye_open=0.8, lower_lid=0.1, open_gain=0.92),
    "curious": _Emotion(
        smile=0.2, brow_raise=0.006, brow_tilt=0.004, brow_asym=0.03, eye_open=1.05
    ),
}


def _lerp_emotion(a: _Emotion, b: _Emotion, k: float) -> _Emotion:
    return _Emotion(*(x + (y - x) * k for x, y in zip(astuple(a), astuple(b), strict=True)))


def _scaled(emotion: str, intensity: float) -> _Emotion:
    """An emotion at an intensity (0..1): 0.75 is the preset, 1 a little beyond it."""
    preset = _EMOTIONS.get(emotion.strip().lower(), _EMOTIONS["neutral"])
    return _lerp_emotion(_EMOTIONS["neutral"], preset, 0.4 + 0.8 * max(0.0, min(1.0, intensity)))


_SCLERA: Color = (250, 248, 244)
_MOUTH_DARK: Color = (58, 16, 26)
_TEETH: Color = (247, 245, 238)
_TONGUE: Color = (206, 94, 108)
_BAYER4 = (
    (np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]]) - 7.5) / 16
).astype(np.float32)


@dataclass
class _Still:
    """What every shot of one look at one frame size starts from."""

    clean: Frame  # the backdrop alone
    base: Frame  # the backdrop with the person
    crops: tuple[tuple[Image.Image, int, int], ...]  # supersampled eyes and mouth regions
    spans: NDArray[np.int64]  # per row, the columns the person covers
    cover_half: NDArray[np.uint8]  # the person's coverage at half resolution
    plans: dict[int, list[tuple[int, int, int, int]]]  # how to lift the person d rows
    lifts: dict[int, Frame]  # the still frame with the person lifted d rows
    lifts_yuv: dict[int, Frame] = field(default_factory=dict)  # the same, as yuv420p
    clean_yuv: Frame | None = None  # the backdrop as yuv420p, once a move needs it


# Stills kept for the next shots (at 1080p a few frames of memory each).
_STILLS: dict[tuple[str, int, int], _Still] = {}
_STILLS_KEPT = 2
# How many breath lifts of the still frame are kept (each one frame of memory).
_LIFTS_KEPT = 6
# A camera move is worked out in bands of rows, about this many to a frame.
_MOVE_BANDS = 10
# How many drawn eyes and mouths are kept for frames that show them again (small crops).
_FEATURES_KEPT = 48


def _kept(frames: dict[int, Frame], key: int, make: Callable[[], Frame]) -> Frame:
    """``frames[key]``, made if missing; the least recently used is dropped past _LIFTS_KEPT."""
    frame = frames.pop(key, None)
    if frame is None:
        frame = make()
        if len(frames) >= _LIFTS_KEPT:
            del frames[next(iter(frames))]
    frames[key] = frame  # most recently used last
    return frame


def _planes(
    yuv: NDArray[np.uint8], width: int, height: int
) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Views of a yuv420p frame's (h * 3/2, w) buffer as its Y, U and V planes."""
    quarter = (height // 2) * (width // 2)
    flat = yuv.reshape(-1)
    y = flat[: width * height].reshape(height, width)
    u = flat[width * height : width * height + quarter].reshape(height // 2, width // 2)
    v = flat[width * height + quarter :].reshape(height // 2, width // 2)
    return y, u, v


def _mix(a: Color, b: Color, t: float) -> Color:
    return tuple(round(x + (y - x) * t) for x, y in zip(a[:3], b[:3], strict=True))


def _alpha(c: Color, a: float) -> Color:
    return (*c[:3], round(255 * a))


def _smooth(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


def _bezier(p0: Pt, p1: Pt, p2: Pt, p3: Pt, n: int = 16) -> list[Pt]:
    out: list[Pt] = []
    for i in range(n + 1):
        s = i / n
        a, b, c, d = (1 - s) ** 3, 3 * s * (1 - s) ** 2, 3 * s * s * (1 - s), s**3
        out.append(
            (
                a * p0[0] + b * p1[0] + c * p2[0] + d * p3[0],
                a * p0[1] + b * p1[1] + c * p2[1] + d * p3[1],
            )
        )
    return out


def _mirror(pts: Sequence[Pt]) -> list[Pt]:
    return [(-x, y) for x, y in reversed(pts)]


class _Painter:
    """Draws in head units (origin at the head centre, 1.0 = head height) onto one image.

    Shapes marked ``solid`` also go into the silhouette mask, which tells the breathing bob
    which pixels belong to the person.
    """

    def __init__(
        self, img: Image.Image, ox: float, oy: float, k: float, mask: Image.Image | None = None
    ) -> None:
        self.img = img
        self.draw = ImageDraw.Draw(img, "RGBA")
        self.mask = ImageDraw.Draw(mask) if mask is not None else None
        self.ox, self.oy, self.k = ox, oy, k

    def at(self, x: float, y: float) -> Pt:
        return (self.ox + x * self.k, self.oy + y * self.k)

    def px(self, pts: Sequence[Pt]) -> list[Pt]:
        return [(self.ox + x * self.k, self.oy + y * self.k) for x, y in pts]

    def box(self, x0: float, y0: float, x1: float, y1: float) -> tuple[int, int, int, int]:
        """The integer pixel box around a unit-space rectangle, clipped to the image."""
        w, h = self.img.size
        a, b = self.at(x0, y0)
        c, d = self.at(x1, y1)
        return (
            max(0, math.floor(a)),
            max(0, math.floor(b)),
            min(w, math.ceil(c)),
            min(h, math.ceil(d)),
        )

    def sub(self, img: Image.Image, left: int, top: int) -> _Painter:
        return _Painter(img, self.ox - left, self.oy - top, self.k)

    def poly(self, pts: Sequence[Pt], fill: Color, solid: bool = False) -> None:
        p = self.px(pts)
        self.draw.polygon(p, fill=fill)
        if solid and self.mask is not None:
            self.mask.polygon(p, fill=255)

    def ellipse(
        self, x: float, y: float, rx: float, ry: float, fill: Color, solid: bool = False
    ) -> None:
        bb = (*self.at(x - rx, y - ry), *self.at(x + rx, y + ry))
        self.draw.ellipse(bb, fill=fill)
        if solid and self.mask is not None:
            self.mask.ellipse(bb, fill=255)

    def line(self, pts: Sequence[Pt], width: float, fill: Color, solid: bool = False) -> None:
        if len(fill) == 4 and fill[3] < 255:
            # Translucent Pillow lines overlap at every joint and show beads; a ribbon does not.
            self.poly(_ribbon(pts, [width] * len(pts)), fill)
            return
        w = max(1, round(width * self.k))
        p = self.px(pts)
        self.draw.line(p, fill=fill, width=w, joint="curve")
        # Pillow's lines have square ends; round them off so strokes read as drawn with a pen.
        r = w / 2.0
        if w >= 3:
            for x, y in (p[0], p[-1]):
                self.draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        if solid and self.mask is not None:
            self.mask.line(p, fill=255, width=w, joint="curve")

    def stroke(self, pts: Sequence[Pt], w0: float, w1: float, fill: Color) -> None:
        """A tapered stroke along ``pts``, ``w0`` wide at the start and ``w1`` at the end."""
        n = len(pts)
        widths = []
        for i in range(n):
            s = i / (n - 1)
            # A sine bulge keeps the middle full and lets the tail thin out.
            widths.append((w0 + (w1 - w0) * s) * (0.6 + 0.4 * math.sin(math.pi * (0.2 + 0.8 * s))))
        self.poly(_ribbon(pts, widths), fill)
        r = widths[0] / 2
        self.ellipse(pts[0][0], pts[0][1], r, r, fill)


def _ribbon(pts: Sequence[Pt], widths: Sequence[float]) -> list[Pt]:
    """The outline of a band of the given widths centred on a polyline."""
    n = len(pts)
    left: list[Pt] = []
    right: list[Pt] = []
    for i, (x, y) in enumerate(pts):
        a = pts[max(0, i - 1)]
        b = pts[min(n - 1, i + 1)]
        dx, dy = b[0] - a[0], b[1] - a[1]
        ln = math.hypot(dx, dy) or 1.0
        h = widths[i] / 2
        nx, ny = -dy / ln * h, dx / ln * h
        left.append((x + nx, y + ny))
        right.append((x - nx, y - ny))
    return left + right[::-1]


@dataclass(frozen=True)
class _Palette:
    skin: Color
    skin_shadow: Color
    skin_light: Color
    neck: Color
    blush: Color
    hair: Color
    hair_dark: Color
    hair_light: Color
    brow: Color
    lash: Color
    iris: Color
    iris_dark: Color
    iris_light: Color
    shirt: Color
    shirt_dark: Color
    lip_upper: Color
    lip_lower: Color
    lip_line: Color
    background: Color
    accent: Color
    frame: Color

    @staticmethod
    def of(look: Look) -> _Palette:
        skin, hair, eyes = hex_rgb(look.skin), hex_rgb(look.hair), hex_rgb(look.eyes)
        shirt, bg, accent = hex_rgb(look.shirt), hex_rgb(look.background), hex_rgb(look.accent)
        black, white = (0, 0, 0), (255, 255, 255)
        lip = _mix(skin, (176, 62, 78), 0.42)
        return _Palette(
            skin=skin,
            skin_shadow=_mix(skin, (90, 40, 40), 0.22),
            skin_light=_mix(skin, white, 0.35),
            neck=_mix(skin, (90, 40, 40), 0.14),
            blush=_mix(skin, (235, 90, 100), 0.5),
            hair=hair,
            hair_dark=_mix(hair, black, 0.28),
            hair_light=_mix(hair, white, 0.28),
            brow=_mix(hair, black, 0.15),
            lash=_mix(hair, (20, 14, 18), 0.7),
            iris=eyes,
            iris_dark=_mix(eyes, black, 0.45),
            iris_light=_mix(eyes, white, 0.3),
            shirt=shirt,
            shirt_dark=_mix(shirt, black, 0.25),
            lip_upper=_mix(lip, black, 0.08),
            lip_lower=_mix(lip, white, 0.06),
            lip_line=_mix(lip, (40, 10, 20), 0.55),
            background=bg,
            accent=accent,
            frame=_mix(hair, (25, 25, 30), 0.75),
        )


def _face_outline(n: int = 96) -> list[Pt]:
    pts: list[Pt] = []
    for i in range(n):
        t = 2 * math.pi * i / n
        y = -0.5 * math.cos(t)
        x = 0.372 * math.sin(t)
        if y > 0:
            # Narrow the lower half into a soft jaw and rounded chin.
            f = y / 0.5
            x *= 1.0 - 0.30 * f**2.2
            y *= 1.0 - 0.03 * (1 - abs(math.sin(t)))
        pts.append((x, y))
    return pts


_FACE = _face_outline()


class AvatarAnimator(motion.Animator):
    """Draws the persona for one shot; ``frames`` streams it as rgb24 bytes."""

    def __init__(
        self,
        look: Look,
        width: int,
        height: int,
        fps: int,
        *,
        emotion: str = "neutral",
        camera: str = "static",
        seed: int = 0,
        emotion_curve: Sequence[tuple[float, str, float]] = (),
    ) -> None:
        if width < 16 or height < 16 or fps <= 0:
            raise ValueError(f"unusable frame size or rate: {width}x{height} @ {fps}")
        self.look = look
        self.width, self.height, self.fps = width, height, fps
        emotion = emotion.strip().lower()
        camera = camera.strip().lower().replace("-", "_")
        self.emotion = emotion if emotion in _EMOTIONS else "neutral"
        self.camera = camera if camera in CAMERA_MOVES else "static"
        self.seed = seed
        self._emo = _EMOTIONS[self.emotion]
        # The VoiceDirector's curve: brows and eyes follow it through the shot.
        self._curve = [(float(t), _scaled(e, i)) for t, e, i in sorted(emotion_curve)]
        # ...and the head lifts a little as the intensity rises above where it started.
        self._lift = [(float(t), float(i)) for t, _, i in sorted(emotion_curve)]
        self._curve_names = [e for _, e, _ in sorted(emotion_curve)]
        # What the last frame showed (viseme, openness, emotion), for the debug overlay.
        self.last: dict[str, float | str] = {}
        self._yuv: Frame = np.empty((self.height * 3 // 2, self.width), np.uint8)  # yuv420p out
        self._pal = _Palette.of(look)

        m = min(width, height)
        self.unit = 0.48 * m  # head height (forehead to chin) in pixels
        self.cx = width / 2.0
        # Portrait frames keep the lower third for captions, so the head sits higher there.
        self.cy = height * (0.35 if height > width * 1.15 else 0.44)
        self.ss = 2 if m >= 720 else 3 if m >= 300 else 4
        self._bob_amp = 1.6 * m / 1080.0

        self._buf = np.empty((height, width, 3), np.uint8)

        self._blinks = motion.Blinks(seed)
        self._gaze_t: list[float] = []
        self._gaze: list[Pt] = [(0.0, 0.0)]
        self._gaze_rng = random.Random(f"gaze:{seed}")

        # The still picture (backdrop, person, face crops) depends on the look and the frame
        # size only: shots after the first re-use it instead of drawing it again.
        key = (look.model_dump_json(), width, height)
        still = _STILLS.pop(key, None) or self._make_still()
        _STILLS[key] = still  # most recently used last
        while len(_STILLS) > _STILLS_KEPT:
            del _STILLS[next(iter(_STILLS))]
        self._still = still
        self._base, self._crops, self._spans = still.base, still.crops, still.spans
        self._cover_half = still.cover_half
        self._features: dict[object, Frame] = {}
        if self.camera != "static":
            self._build_moving()

    # ------------------------------------------------------------------ public

    def _steps(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None = None,
    ) -> Iterator[tuple[float, FloatArray, float]]:
        """Per frame: its time, blended mouth shape and progress through the shot."""
        last = max(1, n_frames - 1)
        for i, t, mouth in self._track(visemes, n_frames, loudness):
            if loudness is not None:
                mouth[0] = round(mouth[0] * _OPEN_STEPS) / _OPEN_STEPS
            self.last["openness"] = float(mouth[0])
            self.last["emotion"] = self._emotion_name(t)
            yield t, mouth, i / last

    def _emotion_name(self, t: float) -> str:
        """The emotion curve's key in force at ``t`` (name and intensity), for the overlay."""
        keys = self._lift
        if not keys:
            return self.emotion
        k = max(0, bisect_right([p[0] for p in keys], t) - 1)
        return f"{self._curve_names[k]} {keys[k][1]:.2f}"

    def _rgb_frame(self, t: float, mouth: FloatArray, progress: float) -> Frame:  # type: ignore[override]
        return self._render(t, mouth, progress)

    def _yuv_frame(self, t: float, mouth: FloatArray, progress: float) -> NDArray[np.uint8]:  # type: ignore[override]
        return self._render_yuv(t, mouth, progress)

    def frame(self, t: float, viseme: str = "sil", *, progress: float = 0.0) -> Frame:
        """One frame at time ``t`` showing ``viseme`` unblended, as an (h, w, 3) uint8 copy."""
        mouth = _MOUTH_ARRAYS[_BY_LOWER.get(viseme.lower(), "sil")]
        out: Frame = self._render(t, mouth, progress).copy()
        return out

    @property
    def mouth_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) pixels holding the mouth at rest, camera at its start."""
        return self._unit_box(-0.2, 0.17, 0.2, 0.43)

    @property
    def eyes_box(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) pixels holding both eyes at rest, camera at its start."""
        return self._unit_box(-0.26, -0.07, 0.26, 0.1)

    # ------------------------------------------------------------------ timing

    def _openness(self, t: float) -> float:
        return self._emo.eye_open * (1.0 - self._blinks.closed(t))

    def _gaze_at(self, t: float) -> Pt:
        while not self._gaze_t or self._gaze_t[-1] <= t:
            prev = self._gaze_t[-1] if self._gaze_t else 0.0
            self._gaze_t.append(prev + self._gaze_rng.uniform(1.4, 4.0))
            # Mostly at the viewer, with an occasional glance aside.
            if self._gaze_rng.random() < 0.55:
                self._gaze.append((0.0, 0.0))
            else:
                self._gaze.append(
                    (self._gaze_rng.uniform(-0.014, 0.014), self._gaze_rng.uniform(-0.006, 0.004))
                )
        k = bisect_right(self._gaze_t, t)
        if k == 0:
            return self._gaze[0]
        a, b = self._gaze[k - 1], self._gaze[k]
        s = _smooth((t - self._gaze_t[k - 1]) / 0.12)
        return (a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s)

    def _breath(self, t: float) -> float:
        return self._bob_amp * motion.breath(t) + self._head_lift(t)

    def _head_lift(self, t: float) -> float:
        """Pixels the head rises with the emotion curve's intensity (an emphasis nods)."""
        lift = self._lift
        if len(lift) < 2:
            return 0.0
        times = [p[0] for p in lift]
        k = bisect_right(times, t)
        if k == 0:
            level = lift[0][1]
        elif k == len(lift):
            level = lift[-1][1]
        else:
            (t0, a), (t1, b) = lift[k - 1], lift[k]
            level = a + (b - a) * (_smooth((t - t0) / (t1 - t0)) if t1 > t0 else 1.0)
        return 2.0 * self._bob_amp * max(0.0, level - lift[0][1])

    def _camera(self, progress: float) -> tuple[float, float]:
        """(scale, x offset px) of the drawn person for a shot ``progress`` in [0, 1]."""
        e = _smooth(progress)
        if self.camera == "push_in":
            return 1.0 + 0.07 * e, 0.0
        if self.camera == "pull_out":
            return 1.07 - 0.07 * e, 0.0
        if self.camera == "pan_left":
            return 1.0, self.width * 0.035 * (e - 0.5)
        if self.camera == "pan_right":
            return 1.0, -self.width * 0.035 * (e - 0.5)
        return 1.0, 0.0

    # ------------------------------------------------------------------ layers

    def _unit_box(
        self, x0: float, y0: float, x1: float, y1: float, *, moved: bool = True
    ) -> tuple[int, int, int, int]:
        """Pixels of a box in head units: where the camera starts, or (``moved`` False) where
        the person is drawn before any camera move."""
        s, dx = self._camera(0.0) if moved else (1.0, 0.0)
        u = self.unit * s
        return (
            max(0, math.floor(self.cx + dx + x0 * u)),
            max(0, math.floor(self.cy + y0 * u)),
            min(self.width, math.ceil(self.cx + dx + x1 * u)),
            min(self.height, math.ceil(self.cy + y1 * u)),
        )

    def _background(self) -> Frame:
        """The whole backdrop: gradient, glow, accent ring and dots, vignette, dither."""
        pal, u, w, h = self._pal, self.unit, self.width, self.height
        f32 = np.float32
        ys = np.arange(h, dtype=f32) + f32(0.5)
        xs = np.arange(w, dtype=f32) + f32(0.5)
        bg = np.array(pal.background, f32)
        top = bg + (255.0 - bg) * 0.10
        col = top + (bg * 0.62 - top) * (ys / h)[:, None]

        # Glow behind the head and vignette are separable products, cheap as outer products.
        glow = np.outer(
            np.exp(-(((ys - self.cy) / (1.05 * u)) ** 2)),
            np.exp(-(((xs - self.cx) / (1.05 * u)) ** 2)),
        ) * f32(0.34)
        vig = np.add.outer(((ys - h / 2) / (h / 2)) ** 2, ((xs - w / 2) / (w / 2)) ** 2)
        vig = f32(1.0) - f32(0.08) * np.minimum(vig, f32(2.0))
        glow_col = np.array(_mix(_mix(pal.background, pal.accent, 0.35), (255, 255, 255), 0.2), f32)
        img = col[:, None, :] * (f32(1.0) - glow)[..., None] + glow_col * glow[..., None]
        img *= vig[..., None]

        accent = np.array(pal.accent, f32)

        def shape(cx: float, cy: float, reach: float, cov: Callable[[F32], F32], a: float) -> None:
            r0, r1 = (int(v) for v in np.searchsorted(ys, [cy - reach, cy + reach]))
            c0, c1 = (int(v) for v in np.searchsorted(xs, [cx - reach, cx + reach]))
            if r1 <= r0 or c1 <= c0:
                return
            d = np.hypot(xs[None, c0:c1] - f32(cx), ys[r0:r1, None] - f32(cy))
            sub = img[r0:r1, c0:c1]
            sub += (accent - sub) * (np.clip(cov(d), 0.0, 1.0) * f32(a))[..., None]

        def ring(cx: float, cy: float, r: float, half: float, a: float) -> None:
            # Analytic coverage: one pixel of soft edge is the anti-aliasing.
            shape(cx, cy, r + half + 1, lambda d: f32(half + 0.5) - np.abs(d - f32(r)), a)

        def disc(cx: float, cy: float, r: float, a: float) -> None:
            shape(cx, cy, r + 1, lambda d: f32(r + 0.5) - d, a)

        ring(self.cx + 0.55 * u, self.cy - 0.22 * u, 0.62 * u, 0.016 * u, 0.38)
        disc(self.cx - 1.05 * u, self.cy - 0.52 * u, 0.045 * u, 0.5)
        disc(self.cx - 0.88 * u, self.cy - 0.62 * u, 0.022 * u, 0.55)
        disc(self.cx + 1.3 * u, self.cy + 0.35 * u, 0.03 * u, 0.5)
        for i in range(5):
            disc(self.cx - 1.25 * u + i * 0.07 * u, self.cy + 0.1 * u, 0.009 * u, 0.35)

        # Ordered dither hides 8-bit banding in the slow gradient.
        img += np.tile(_BAYER4, (h // 4 + 1, w // 4 + 1))[:h, :w, None]
        np.clip(img, 0, 255, out=img)
        out: Frame = np.rint(img).astype(np.uint8)
        return out

    def _background_ss(self, bg: Frame, x0: int, y0: int, x1: int, y1: int) -> Image.Image:
        """The backdrop over a box, blown up ``ss`` times so the person can be drawn on it.

        Nearest-neighbour keeps it exact: reducing it again gives back the cached pixels.
        """
        crop = Image.fromarray(bg[y0:y1, x0:x1])
        return crop.resize((crop.width * self.ss, crop.height * self.ss), Image.Resampling.NEAREST)

    def _person_box(self, scale: float, dx: float) -> tuple[int, int, int, int]:
        u = self.unit * scale
        pad = abs(self._bob_amp) + 2
        return (
            max(0, math.floor(self.cx + dx - 1.3 * u)),
            max(0, math.floor(self.cy - 0.8 * u - pad)),
            min(self.width, math.ceil(self.cx + dx + 1.3 * u)),
            self.height,
        )

    def _make_still(self) -> _Still:
        bg = self._background()
        clean = bg.copy()
        x0, y0, x1, y1 = self._person_box(1.0, 0.0)
        ss = self.ss
        big = self._background_ss(bg, x0, y0, x1, y1)
        mask = Image.new("L", big.size, 0)
        pn = _Painter(big, (self.cx - x0) * ss, (self.cy - y0) * ss, self.unit * ss, mask)
        self._draw_person(pn)

        # The features are redrawn every frame on top of cached supersampled face crops. Each
        # crop starts on an even column, is an even number of columns wide and has a spare row
        # above and below, so that whatever the breath's lift, whole 2x2 blocks holding all of
        # the features can be pasted into a yuv420p frame (its chroma is shared by such blocks).
        crops: list[tuple[Image.Image, int, int]] = []
        for bx in ((-0.33, -0.215, 0.33, 0.125), (-0.21, 0.165, 0.21, 0.43)):
            a, b, c, d = self._unit_box(*bx, moved=False)
            a, c = max(x0, a - a % 2), min(x1, c + c % 2)
            b, d = max(y0, b - 1), min(y1, d + 1)
            crop = big.crop(((a - x0) * ss, (b - y0) * ss, (c - x0) * ss, (d - y0) * ss))
            crops.append((crop, a, b))

        small = np.asarray(big.reduce(ss))
        cover = np.asarray(mask.reduce(ss))
        sil = cover > 0
        # How much of each pixel the person covers, over the whole frame, at half resolution
        # (each 2x2 block's mean, as yuv420p's chroma is made): a camera move warps it with
        # the person and blends the person over the backdrop with it.
        full = np.zeros((self.height, self.width), np.uint8)
        full[y0:y1, x0:x1] = cover
        half = cv2.resize(full, (self.width // 2, self.height // 2), interpolation=cv2.INTER_AREA)
        region = bg[y0:y1, x0:x1]
        region[sil] = small[sil]

        # Per row, the columns the person covers: the bob only moves those.
        spans = np.zeros((self.height, 2), np.int64)
        has = sil.any(axis=1)
        left = sil.argmax(axis=1)
        right = sil.shape[1] - sil[:, ::-1].argmax(axis=1)
        spans[y0:y1, 0] = np.where(has, np.maximum(0, left - 1) + x0, 0)
        spans[y0:y1, 1] = np.where(has, np.minimum(sil.shape[1], right + 1) + x0, 0)
        for array in (bg, clean, spans):
            array.setflags(write=False)  # shared by every shot's animator
        return _Still(clean, bg, tuple(crops), spans, np.asarray(half, np.uint8), {}, {})

    def _build_moving(self) -> None:
        """A camera move warps the still person (one affine warp a frame, not a redraw) and
        blends it over the clean backdrop. The frame is cut into bands of rows, and in each
        band only the columns that the moving person can reach during the shot are warped:
        about 40% of the box around the person. The rest stays the clean backdrop."""
        self._bands = self._move_bands()
        self._moved: dict[str, Frame] = {}  # per pixel format, the frame the move is drawn in

    def _lift_bounds(self) -> tuple[int, int]:
        """The fewest and most rows the breath (and the emotion curve's nod) can lift the
        person by, with a row to spare each way for the rounding."""
        levels = [level for _, level in self._lift]
        nod = 2.0 * self._bob_amp * max(0.0, max(levels) - levels[0]) if len(levels) > 1 else 0.0
        return math.floor(-self._bob_amp) - 1, math.ceil(self._bob_amp + nod) + 1

    def _move_bands(self) -> list[tuple[int, int, int, int]]:
        """(x0, y0, x1, y1) boxes, even corners, tiling the rows the moving person can reach
        (at every step of the move and every lift), each as wide as the person gets in it."""
        h, w = self.height, self.width
        spans = self._spans
        rows = np.nonzero(spans[:, 1] > spans[:, 0])[0]
        lo, hi, r = (spans[rows, 0] * 1.0), (spans[rows, 1] * 1.0), rows * 1.0
        left, right = np.full(h, np.inf), np.full(h, -np.inf)
        d_min, d_max = self._lift_bounds()
        for progress in np.linspace(0.0, 1.0, 33):
            # Between two of these steps the person moves under 3 px; the padding covers it.
            scale, dx = self._camera(float(progress))
            xl = self.cx + scale * (lo - self.cx) + dx
            xr = self.cx + scale * (hi - self.cx) + dx
            for d in range(d_min, d_max + 1):
                top = np.floor(self.cy + scale * (r - d - self.cy)).astype(np.int64)
                for k in range(3):  # a row scaled by under 2 reaches at most 3 rows
                    y = top + k
                    inside = (y >= 0) & (y < h)
                    np.minimum.at(left, y[inside], xl[inside])
                    np.maximum.at(right, y[inside], xr[inside])
        pad = 4  # the bilinear footprint, the soft edge and the steps between samples
        step = max(2, h // _MOVE_BANDS // 2 * 2)
        bands = []
        for y0 in range(0, h, step):
            y1 = min(h, y0 + step)
            near = slice(max(0, y0 - pad), min(h, y1 + pad))
            a, b = left[near].min(), right[near].max()
            if a > b:
                continue  # the person never reaches these rows
            x0 = max(0, math.floor(a) - pad) // 2 * 2
            x1 = min(w, math.ceil(b) + pad + 1)
            x1 += x1 % 2 if x1 < w else 0
            bands.append((x0, y0, x1, y1))
        return bands

    def _move(
        self,
        planes: Sequence[tuple[Frame, Frame, Frame, int]],
        progress: float,
        lift: int,
    ) -> None:
        """Apply the camera at ``progress``: for each (still, clean backdrop, out, subsampling)
        plane (rgb, or yuv420p's Y, U and V), warp the still (the person risen by ``lift`` px
        with the breath), scaled about the head and shifted, and blend it over the backdrop
        into ``out``, band by band. Outside the bands ``out`` holds the backdrop already."""
        scale, dx = self._camera(progress)
        for x0, y0, x1, y1 in self._bands:
            # The person's coverage is warped at half resolution: where it is soft, the warped
            # still and the clean backdrop are the same smooth backdrop, so a softer edge
            # cannot show, and it costs a quarter of a full-size warp. It has a sample to spare
            # each way, so that scaled up it is the same at the band's edges as inside.
            hw, hh = (x1 - x0 + 1) // 2 + 2, (y1 - y0 + 1) // 2 + 2
            cover = cv2.warpAffine(
                self._cover_half, self._camera_matrix(scale, dx, 2, x0 - 2, y0 - 2, lift),
                (hw, hh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
            )  # fmt: skip
            alphas: dict[int, tuple[F32, F32]] = {}
            for still, clean, out, sub in planes:
                box = (slice(y0 // sub, -(-y1 // sub)), slice(x0 // sub, -(-x1 // sub)))
                target = out[box]
                size = (target.shape[1], target.shape[0])
                if sub not in alphas:
                    if sub == 2:
                        part = cover[1 : hh - 1, 1 : hw - 1]
                    else:
                        big = cv2.resize(cover, (2 * hw, 2 * hh), interpolation=cv2.INTER_LINEAR)
                        part = big[2 : 2 + size[1], 2 : 2 + size[0]]
                    alpha = part.astype(np.float32) * np.float32(1 / 255)
                    alphas[sub] = (alpha, np.float32(1.0) - alpha)
                warped = cv2.warpAffine(
                    still, self._camera_matrix(scale, dx, sub, x0, y0), size,
                    flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
                )  # fmt: skip
                cv2.blendLinear(warped, clean[box], *alphas[sub], dst=target)  # in place

    def _camera_matrix(
        self, scale: float, dx: float, sub: int, x0: int, y0: int, lift: int = 0
    ) -> NDArray[np.float64]:
        """The warp from a plane sampled every ``sub`` pixels into a box at (``x0``, ``y0``)
        pixels on it. In pixels, dst = scale * src + (1 - scale) * head + (dx, -scale * lift);
        a plane's sample i sits at sub * i + (sub - 1) / 2 of those."""
        k = (sub - 1) / 2
        tx = (scale * k + (1 - scale) * self.cx + dx - k - x0) / sub
        ty = (scale * k + (1 - scale) * self.cy - scale * lift - k - y0) / sub
        return np.array([[scale, 0.0, tx], [0.0, scale, ty]], np.float64)

    def _shift_plan(self, d: int) -> list[tuple[int, int, int, int]]:
        plan = self._still.plans.get(d)
        if plan is None:
            plan = []
            h = self.height
            sp = self._spans
            for y in range(h):
                src = min(h - 1, max(0, y + d))
                lo = min(sp[y, 0] if sp[y, 1] else 1 << 30, sp[src, 0] if sp[src, 1] else 1 << 30)
                hi = max(sp[y, 1], sp[src, 1])
                if hi > lo:
                    plan.append((y, src, int(lo), int(hi)))
            self._still.plans[d] = plan
        return plan

    def _emotion_at(self, t: float) -> _Emotion:
        curve = self._curve
        if not curve:
            return _EMOTIONS[self.emotion]
        k = bisect_right([p[0] for p in curve], t)
        if k == 0:
            return curve[0][1]
        if k == len(curve):
            return curve[-1][1]
        (t0, a), (t1, b) = curve[k - 1], curve[k]
        return _lerp_emotion(a, b, _smooth((t - t0) / (t1 - t0)) if t1 > t0 else 1.0)

    def _render(self, t: float, mouth: FloatArray, progress: float) -> Frame:
        """The rgb24 frame at ``t``, camera move applied."""
        lift = self._render_still(t, mouth)
        if self.camera == "static":
            return self._buf
        out = self._moved.get("rgb")
        if out is None:
            out = self._moved["rgb"] = self._still.clean.copy()
        self._move([(self._buf, self._still.clean, out, 1)], progress, lift)
        return out

    def _render_yuv(self, t: float, mouth: FloatArray, progress: float) -> NDArray[np.uint8]:
        """The same frame as yuv420p, drawn in yuv: the still person converted once per lift,
        the eyes and mouth converted as they are pasted, and the camera moved in yuv (half the
        samples of rgb to warp and blend)."""
        lift, features = self._pose(t, mouth)
        np.copyto(self._yuv, self._lifted_yuv(lift))
        y, u, v = _planes(self._yuv, self.width, self.height)
        for arr, x0, y0 in features:
            (h, w), x1, y1 = arr.shape[:2], x0 + arr.shape[1], y0 + arr.shape[0]
            patch = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2YUV_I420)
            py, pu, pv = _planes(np.asarray(patch, np.uint8), w, h)
            y[y0:y1, x0:x1] = py
            u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pu
            v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pv
        if self.camera == "static":
            return self._yuv
        still = self._still
        if still.clean_yuv is None:
            still.clean_yuv = np.asarray(cv2.cvtColor(still.clean, cv2.COLOR_RGB2YUV_I420))
            still.clean_yuv.setflags(write=False)
        out = self._moved.get("yuv")
        if out is None:
            out = self._moved["yuv"] = still.clean_yuv.copy()
        w, h = self.width, self.height
        stills, cleans, outs = (_planes(f, w, h) for f in (self._yuv, still.clean_yuv, out))
        self._move(list(zip(stills, cleans, outs, (1, 2, 2), strict=True)), progress, lift)
        return out

    def _render_still(self, t: float, mouth: FloatArray) -> int:
        """Draw the rgb24 frame at ``t`` into ``_buf`` before any camera move; returns how
        many pixels the breath lifted the person."""
        lift, features = self._pose(t, mouth)
        buf = self._buf
        np.copyto(buf, self._lifted(lift))
        for arr, x0, y0 in features:
            buf[y0 : y0 + arr.shape[0], x0 : x0 + arr.shape[1]] = arr
        return lift

    def _pose(self, t: float, mouth: FloatArray) -> tuple[int, list[tuple[Frame, int, int]]]:
        """At ``t``: how many pixels the breath lifts the person, and the eyes and the mouth
        (rgb24 crops inside the frame, each with its left column and top row, both even)."""
        self._emo = self._emotion_at(t)
        gaze = self._gaze_at(t)
        eye_open = self._openness(t)
        d = round(self._breath(t))
        emo = astuple(self._emo)
        keys = ((eye_open, gaze, emo), (mouth.tobytes(), emo))
        features = []
        for i, (crop, a, b) in enumerate(self._crops):
            # The eyes hold still between blinks and glances, and the mouth in every pause:
            # those frames reuse the features already drawn.
            arr = self._features.get(keys[i])
            if arr is None:
                img = crop.copy()
                pn = _Painter(
                    img, (self.cx - a) * self.ss, (self.cy - b) * self.ss, self.unit * self.ss
                )
                if i == 0:
                    self._draw_eyes(pn, eye_open, gaze)
                else:
                    self._draw_mouth(pn, mouth)
                arr = np.asarray(img.reduce(self.ss))
                if len(self._features) >= _FEATURES_KEPT:
                    del self._features[next(iter(self._features))]
                self._features[keys[i]] = arr
            # Whole 2x2 blocks only, so a yuv420p frame can take the crop as it is (the crops
            # have a spare row each way to drop, which shows the still person just the same).
            top = b - d
            r0, r1 = max(0, top + top % 2), min(self.height, (top + arr.shape[0]) // 2 * 2)
            c0, c1 = a + a % 2, (a + arr.shape[1]) // 2 * 2
            if r1 > r0 and c1 > c0:
                features.append((arr[r0 - top : r1 - top, c0 - a : c1 - a], c0, r0))
        return d, features

    def _lifted(self, d: int) -> Frame:
        """The still person risen by ``d`` pixels over the backdrop. The breath only takes a
        few values, so a few such frames are kept (the oldest dropped) instead of shifting the
        person row by row every frame."""
        return _kept(self._still.lifts, d, lambda: self._shifted(d))

    def _lifted_yuv(self, d: int) -> Frame:
        """``_lifted`` as yuv420p, kept the same way (without keeping the rgb24 frame)."""

        def convert() -> Frame:
            rgb = self._still.lifts.get(d)
            yuv = cv2.cvtColor(self._shifted(d) if rgb is None else rgb, cv2.COLOR_RGB2YUV_I420)
            frame = np.asarray(yuv, np.uint8)
            frame.setflags(write=False)
            return frame

        return _kept(self._still.lifts_yuv, d, convert)

    def _shifted(self, d: int) -> Frame:
        frame: Frame = self._base.copy()
        for y, src, lo, hi in self._shift_plan(d):
            frame[y, lo:hi] = self._base[src, lo:hi]
        frame.setflags(write=False)
        return frame

    # ------------------------------------------------------------------ drawing

    def _draw_person(self, pn: _Painter) -> None:
        """Everything that does not move on its own: hair, body, neck, ears, face, nose."""
        pal, style = self._pal, self.look.hair_style
        bottom = (pn.img.size[1] + 4 - pn.oy) / pn.k

        if style == "long":
            back = [
                *_bezier((-0.42, -0.05), (-0.47, 0.25), (-0.53, 0.55), (-0.5, 0.86)),
                *_bezier((-0.5, 0.86), (-0.2, 0.93), (0.2, 0.93), (0.5, 0.86)),
                *_bezier((0.5, 0.86), (0.53, 0.55), (0.47, 0.25), (0.42, -0.05)),
            ]
            pn.poly(back, pal.hair_dark, solid=True)
            pn.ellipse(0.0, -0.05, 0.425, 0.5, pal.hair_dark, solid=True)
        elif style == "short":
            pn.ellipse(0.0, -0.1, 0.415, 0.46, pal.hair_dark, solid=True)
        elif style == "bun":
            pn.ellipse(0.0, -0.6, 0.155, 0.14, pal.hair, solid=True)
            pn.ellipse(-0.04, -0.64, 0.06, 0.04, _alpha(pal.hair_light, 0.5))
            pn.ellipse(0.0, -0.06, 0.395, 0.49, pal.hair_dark, solid=True)

        half = [
            (-1.2, bottom),
            *_bezier((-1.2, 1.18), (-1.16, 0.92), (-1.0, 0.8), (-0.76, 0.77), 12),
            *_bezier((-0.76, 0.77), (-0.5, 0.74), (-0.28, 0.67), (-0.15, 0.62), 10),
        ]
        pn.poly([*half, *_mirror(half)], pal.shirt, solid=True)
        for s in (-1, 1):
            # A faint crease where the arm meets the chest keeps the torso from reading as a blob.
            pn.line(
                _bezier((s * 0.93, 1.06), (s * 0.9, 1.2), (s * 0.9, 1.35), (s * 0.91, 1.6), 10),
                0.012,
                _alpha(pal.shirt_dark, 0.5),
            )

        # The neck starts under the jaw so no corner of it shows beside the chin, and flares
        # into the shoulders along a curve rather than a kink.
        neckline = _bezier((-0.19, 0.64), (-0.15, 0.8), (0.15, 0.8), (0.19, 0.64), 16)
        side = _bezier((-0.1, 0.3), (-0.104, 0.5), (-0.115, 0.59), (-0.19, 0.64), 10)
        pn.poly([*side, *neckline[1:-1], *_mirror(side)], pal.neck, solid=True)
        # The chin's shadow, kept inside the neck: outside the silhouette it would show up
        # in the cached mouth crop but not in the base frame.
        jaw = _bezier((-0.103, 0.46), (-0.06, 0.56), (0.06, 0.56), (0.103, 0.46), 12)
        pn.poly([(-0.1, 0.3), *jaw, (0.1, 0.3)], pal.skin_shadow)
        pn.line(neckline, 0.04, pal.shirt_dark)

        if style != "long":
            for s in (-1, 1):
                pn.ellipse(s * 0.365, 0.04, 0.06, 0.095, pal.skin, solid=True)
                pn.ellipse(s * 0.372, 0.045, 0.03, 0.055, pal.skin_shadow)

        pn.poly(_FACE, pal.skin, solid=True)

        # Shading only, no outline: outlined noses look harsh at this flat style.
        pn.ellipse(0.0, 0.14, 0.045, 0.028, _alpha(pal.skin_shadow, 0.55))
        pn.ellipse(0.0, 0.128, 0.04, 0.026, pal.skin)
        pn.ellipse(-0.012, 0.112, 0.014, 0.02, _alpha(pal.skin_light, 0.6))
        for s in (-1, 1):
            pn.ellipse(s * 0.022, 0.148, 0.01, 0.005, _alpha(pal.skin_shadow, 0.6))

        # Blush: stacked translucent ellipses approximate a soft falloff without a blur pass.
        for i in range(5):
            f = 1.0 - i * 0.17
            for s in (-1, 1):
                pn.ellipse(s * 0.215, 0.16, 0.07 * f, 0.04 * f, _alpha(pal.blush, 0.09))

        if style in ("short", "long"):
            part = -0.12 if style == "short" else 0.0
            # A side part with the fringe swept across in two soft locks.
            hairline = [
                (-0.42, 0.0),
                *_bezier((-0.385, -0.02), (-0.38, -0.24), (-0.26, -0.37), (part, -0.37), 12),
                *_bezier((part, -0.37), (-0.02, -0.35), (0.03, -0.27), (0.06, -0.2), 10),
                *_bezier((0.06, -0.2), (0.08, -0.24), (0.1, -0.26), (0.13, -0.27), 4),
                *_bezier((0.13, -0.27), (0.2, -0.25), (0.26, -0.2), (0.3, -0.14), 8),
                *_bezier((0.3, -0.14), (0.31, -0.17), (0.32, -0.19), (0.33, -0.2), 4),
                *_bezier((0.33, -0.2), (0.37, -0.14), (0.385, -0.07), (0.42, 0.0), 6),
            ]
            if style == "long":
                hairline = [
                    (-0.43, 0.25),
                    *_bezier((-0.36, 0.22), (-0.36, -0.12), (-0.25, -0.3), (0.0, -0.36), 14),
                    *_mirror(
                        _bezier((-0.36, 0.22), (-0.36, -0.12), (-0.25, -0.3), (0.0, -0.36), 14)
                    ),
                    (0.43, 0.25),
                ]
            top = [
                (0.43 * math.cos(a), -0.05 - 0.53 * math.sin(a))
                for a in np.linspace(-0.05, math.pi + 0.05, 40)
            ]
            pn.poly([*hairline, *top], pal.hair, solid=True)
            # A shine across the crown gives the flat hair mass some volume.
            pn.line(
                _bezier((-0.25, -0.44), (-0.14, -0.5), (0.05, -0.51), (0.18, -0.47), 12),
                0.022,
                _alpha(pal.hair_light, 0.55),
            )
            if style == "short":
                pn.line(
                    _bezier((part, -0.36), (0.0, -0.42), (0.15, -0.44), (0.3, -0.38), 10),
                    0.008,
                    _alpha(pal.hair_dark, 0.7),
                )
        elif style == "bun":
            hairline = _bezier((-0.4, -0.02), (-0.36, -0.3), (-0.2, -0.38), (0.0, -0.39), 14)
            top = [
                (0.415 * math.cos(a), -0.06 - 0.5 * math.sin(a))
                for a in np.linspace(-0.05, math.pi + 0.05, 40)
            ]
            pn.poly([*hairline, *_mirror(hairline), *top], pal.hair, solid=True)
            pn.line(
                _bezier((-0.12, -0.47), (-0.05, -0.52), (0.05, -0.52), (0.12, -0.47), 8),
                0.03,
                pal.accent,
            )
            pn.line(
                _bezier((-0.24, -0.43), (-0.14, -0.49), (0.0, -0.5), (0.12, -0.48), 10),
                0.018,
                _alpha(pal.hair_light, 0.45),
            )
        else:
            pn.ellipse(-0.1, -0.36, 0.12, 0.06, _alpha(pal.skin_light, 0.45))

        if self.look.glasses:
            for s in (-1, 1):
                pn.line([(s * 0.262, 0.0), (s * 0.37, -0.01)], 0.014, pal.frame)

    def _draw_eyes(self, pn: _Painter, openness: float, gaze: Pt) -> None:
        pal, emo = self._pal, self._emo
        white = (255, 255, 255)
        for side in (-1, 1):
            ex, ey, ew, eh = side * 0.16, 0.03, 0.078, 0.062
            q = np.linspace(0.0, 1.0, 24)
            xs = ex - ew + 2 * ew * q
            outer = q if side > 0 else 1.0 - q
            lift = -0.012 * outer  # outer corners sit a touch higher: a friendlier eye
            bump = np.sin(np.pi * q)
            up_open = ey + lift - eh * bump**0.7 * (1.0 + 0.12 * (1.0 - outer))
            low = ey + lift * 0.4 + eh * 0.78 * (1.0 - emo.lower_lid) * bump**1.1
            up = low + (up_open - low) * max(0.0, openness)
            upper = list(zip(xs.tolist(), up.tolist(), strict=True))
            lower = list(zip(xs.tolist(), low.tolist(), strict=True))
            if openness > 0.06:
                box = pn.box(ex - ew - 0.01, ey - eh * 1.4 - 0.02, ex + ew + 0.01, ey + eh + 0.01)
                size = (box[2] - box[0], box[3] - box[1])
                if size[0] > 0 and size[1] > 0:
                    # Draw the eyeball freely, then clip it to the lids through a mask.
                    eye = Image.new("RGB", size, _SCLERA)
                    sp = pn.sub(eye, box[0], box[1])
                    ix, iy = ex + gaze[0], ey + 0.004 + gaze[1]
                    sp.ellipse(ix, iy, 0.043, 0.043, pal.iris_dark)
                    sp.ellipse(ix, iy, 0.037, 0.037, pal.iris)
                    sp.ellipse(ix, iy + 0.016, 0.028, 0.018, _alpha(pal.iris_light, 0.6))
                    sp.ellipse(ix, iy, 0.019, 0.019, (22, 16, 20))
                    sp.ellipse(ix + 0.014, iy - 0.015, 0.011, 0.011, white)
                    sp.ellipse(ix - 0.013, iy + 0.014, 0.005, 0.005, _alpha(white, 0.8))
                    # The upper lid shades the top of the eyeball.
                    shade = [(x, y - 0.02) for x, y in upper] + [
                        (x, y + 0.012) for x, y in reversed(upper)
                    ]
                    sp.poly(shade, _alpha((110, 80, 95), 0.25))
                    mask = Image.new("L", size, 0)
                    ImageDraw.Draw(mask).polygon(sp.px(upper + lower[::-1]), fill=255)
                    pn.img.paste(eye, box[:2], mask)
                crease = [(x, y - 0.024 - 0.008 * openness) for x, y in upper[4:-3]]
                pn.line(crease, 0.006, _alpha(pal.skin_shadow, 0.6 * min(1.0, openness)))
                pn.line(lower[3:-2], 0.005, _alpha(pal.lash, 0.25))
            line = upper if openness > 0.06 else lower
            pn.line(line, 0.015, pal.lash)
            o = line[-1] if side > 0 else line[0]
            pn.line([o, (o[0] + side * 0.016, o[1] - 0.012)], 0.01, pal.lash)

            # Brows: tapered strokes, lifted and tilted by the emotion; they dip in a blink.
            raise_ = emo.brow_raise + (emo.brow_asym if side > 0 else 0.0)
            raise_ -= 0.006 * (1.0 - min(1.0, openness / max(emo.eye_open, 1e-6)))
            inner_y = -0.098 - raise_ - emo.brow_tilt
            outer_y = -0.098 - raise_ + emo.brow_tilt * 0.3
            brow = _bezier(
                (side * 0.07, inner_y),
                (side * 0.12, inner_y - 0.024),
                (side * 0.2, outer_y - 0.026),
                (side * 0.25, outer_y + 0.004),
                12,
            )
            pn.stroke(brow, 0.036, 0.016, pal.brow)

        if self.look.glasses:
            for side in (-1, 1):
                cx = side * 0.16
                bb = (*pn.at(cx - 0.112, -0.05), *pn.at(cx + 0.112, 0.1))
                w = max(1, round(0.012 * pn.k))
                pn.draw.rounded_rectangle(bb, radius=0.05 * pn.k, outline=pal.frame, width=w)
                pn.line([(cx + 0.035, -0.032), (cx + 0.075, 0.01)], 0.01, _alpha(white, 0.35))
            pn.line(
                _bezier((-0.05, 0.01), (-0.03, -0.015), (0.03, -0.015), (0.05, 0.01), 8),
                0.012,
                pal.frame,
            )

    def _draw_mouth(self, pn: _Painter, shape: FloatArray) -> None:
        pal, emo = self._pal, self._emo
        op, width, rnd, lip, t_up, t_low, tongue_y, tip = (float(v) for v in shape)
        op = min(1.15, op * emo.open_gain)
        cy = 0.29
        hw = 0.09 * width
        smile = emo.smile * (1.0 - 0.6 * min(1.0, rnd))
        n = 33
        xs = np.linspace(-1.0, 1.0, n)
        ax = np.abs(xs)
        ex = 2.0 + 2.2 * (1.0 - rnd)  # superellipse exponent: round for O/U, boxy when spread
        prof = np.clip(1.0 - ax**ex, 0.0, 1.0) ** (1.0 / ex)
        curve = -0.03 * smile * xs**2 + 0.006 * smile
        a_top = (0.024 + 0.014 * rnd) * op
        a_bot = (0.06 - 0.006 * rnd) * op
        in_x = xs * hw * (0.9 - 0.05 * rnd)
        in_top = cy + curve - a_top * prof
        in_bot = cy + curve + a_bot * prof
        taper = (1.0 - ax**2) ** 0.5
        taper = taper + (1.0 - taper) * 0.5 * rnd
        bow = 0.005 * (np.exp(-(((ax - 0.3) / 0.18) ** 2)) - 0.8 * np.exp(-((xs / 0.12) ** 2)))
        out_x = xs * hw
        out_top = in_top - 0.02 * lip * (0.1 + 0.9 * taper) - bow * lip
        out_bot = in_bot + 0.027 * lip * (0.1 + 0.9 * taper)

        def pts(x: FloatArray, y: FloatArray) -> list[Pt]:
            return list(zip(x.tolist(), y.tolist(), strict=True))

        mid = n // 2
        # A soft shadow under the lower lip, then the lips themselves.
        pn.ellipse(
            0.0, float(out_bot[mid]) + 0.008, hw * 0.55, 0.011, _alpha(pal.skin_shadow, 0.35)
        )
        pn.poly(pts(in_x, in_bot) + pts(out_x, out_bot)[::-1], pal.lip_lower)
        pn.poly(pts(out_x, out_top) + pts(in_x, in_top)[::-1], pal.lip_upper)
        pn.ellipse(
            0.0,
            float(in_bot[mid]) + 0.013 * lip,
            0.032 * width,
            0.0055 * lip,
            _alpha(pal.skin_light, 0.4),
        )

        inner = pts(in_x, in_top) + pts(in_x, in_bot)[::-1]
        if op > 0.015:
            box = pn.box(-hw - 0.01, cy - 0.08, hw + 0.01, cy + 0.12)
            size = (box[2] - box[0], box[3] - box[1])
            if size[0] > 0 and size[1] > 0:
                # Inside of the mouth drawn freely, then clipped to the lips through a mask.
                mimg = Image.new("RGB", size, _MOUTH_DARK)
                sp = pn.sub(mimg, box[0], box[1])
                top_c, bot_c = float(in_top[mid]), float(in_bot[mid])
                gap = bot_c - top_c
                # The tongue lies low unless it rises to the teeth (DD, nn, TH).
                ty = bot_c - gap * (0.1 + 0.55 * tongue_y) + 0.02
                sp.ellipse(0.0, ty, hw * 0.62, 0.032, _TONGUE)
                if t_low > 0.01:
                    band = 0.018 * t_low
                    sp.poly([*pts(in_x, in_bot - band), (hw, cy + 0.2), (-hw, cy + 0.2)], _TEETH)
                if t_up > 0.01:
                    band = 0.022 * t_up
                    sp.poly(
                        [*pts(in_x, in_top + band)[::-1], (-hw, cy - 0.2), (hw, cy - 0.2)], _TEETH
                    )
                if tip > 0.01:
                    sp.ellipse(0.0, top_c + gap * 0.62, hw * 0.42 * tip, gap * 0.42 * tip, _TONGUE)
                mask = Image.new("L", size, 0)
                ImageDraw.Draw(mask).polygon(sp.px(inner), fill=255)
                pn.img.paste(mimg, box[:2], mask)
        seam = pts(in_x, (in_top + in_bot) * 0.5) if op <= 0.015 else pts(in_x, in_top)
        pn.line(seam, 0.004 + 0.006 * (1.0 - min(1.0, op * 4.0)), pal.lip_line)
        if smile > 0.3:
            # Dimples at the mouth corners for a real smile.
            a = min(1.0, (smile - 0.3) * 2.0)
            for s in (-1, 1):
                x, y = s * (hw + 0.01), cy + float(curve[0]) + 0.002
                dimple = _bezier(
                    (x - s * 0.006, y - 0.013),
                    (x + s * 0.005, y - 0.006),
                    (x + s * 0.005, y + 0.004),
                    (x - s * 0.002, y + 0.011),
                    6,
                )
                pn.line(dimple, 0.005, _alpha(pal.skin_shadow, 0.7 * a))
