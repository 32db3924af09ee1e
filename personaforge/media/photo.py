"""Photo personas: find the face in a portrait (OpenCV Haar cascades) and animate it offline,
warping the mouth and jaw by the viseme timeline, blinking, breathing and moving the head a
little, as rgb24 frames for ffmpeg."""

from __future__ import annotations

import hashlib
import math
import random
import threading
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from personaforge.core.models import PHOTO_SUFFIXES
from personaforge.errors import PersonaForgeError

Box = tuple[int, int, int, int]  # x, y, width, height
Frame = NDArray[np.uint8]
F32 = NDArray[np.float32]

MIN_FACE_PX = 80  # the smallest face (cascade box side, in the photo's pixels) we animate
# Faces smaller than this share of the largest are taken for background people or false hits.
COMPETING_FACE_SHARE = 0.5
_DETECT_MAX_SIDE = 1024  # detection runs on a copy no larger than this; boxes are scaled back
BLINK_S = 0.16
BREATH_PERIOD_S = 4.2
COARTICULATION_S = 0.04

# Per viseme: (jaw opening 0..1, mouth width factor). The photo only moves what is there,
# so this is the drawn avatar's table reduced to what a warp can show.
_MOUTH: dict[str, tuple[float, float]] = {
    "sil": (0.00, 1.00), "PP": (0.00, 0.96), "FF": (0.18, 1.00), "TH": (0.30, 1.00),
    "DD": (0.30, 1.00), "kk": (0.40, 1.00), "CH": (0.30, 0.88), "SS": (0.18, 1.04),
    "nn": (0.26, 1.00), "RR": (0.34, 0.88), "aa": (1.00, 1.00), "E": (0.50, 1.06),
    "I": (0.30, 1.08), "O": (0.72, 0.84), "U": (0.40, 0.78),
}  # fmt: skip
_BY_LOWER = {k.lower(): k for k in _MOUTH}


@dataclass(frozen=True)
class Mood:
    """What an emotion does to a photo: corner lift, brow raise, lids, mouth gain, head sway."""

    smile: float = 0.0
    brow: float = 0.0
    eye_open: float = 1.0
    open_gain: float = 1.0
    sway: float = 1.0

    def mix(self, other: Mood, t: float) -> Mood:
        return Mood(*(a + (b - a) * t for a, b in zip(self.values(), other.values(), strict=True)))

    def values(self) -> tuple[float, ...]:
        return (self.smile, self.brow, self.eye_open, self.open_gain, self.sway)


MOODS: dict[str, Mood] = {
    "neutral": Mood(),
    "happy": Mood(smile=0.8, brow=0.3, open_gain=1.05, sway=1.2),
    "serious": Mood(smile=-0.4, brow=-0.4, eye_open=0.9, sway=0.6),
    "excited": Mood(smile=1.0, brow=0.8, eye_open=1.05, open_gain=1.12, sway=1.5),
    "calm": Mood(smile=0.35, eye_open=0.9, open_gain=0.92, sway=0.7),
    "curious": Mood(smile=0.2, brow=0.6, sway=1.1),
}


@dataclass(frozen=True)
class Portrait:
    """A decoded portrait (rgb) and where its face, eyes and lip line are, in its pixels."""

    image: Frame
    face: Box
    eyes: tuple[Box, Box]  # the viewer's left, then right
    mouth_y: int  # the line between the lips
    sha256: str


class PortraitError(PersonaForgeError):
    """A portrait we cannot animate; names persona.yaml's ``look.photo``."""


def decode_image(path: Path) -> Frame:
    """An image file as rgb pixels (upright); ValueError says why it cannot be read."""
    return _decode(path)


def _decode(path: Path) -> Frame:
    from PIL import Image, ImageOps, UnidentifiedImageError

    if path.suffix.lower() not in PHOTO_SUFFIXES:
        raise ValueError(f"{path.name!r} is not a JPEG, PNG or WebP file")
    try:
        with Image.open(path) as img:
            if img.format not in ("JPEG", "PNG", "WEBP"):
                raise ValueError(f"{path.name!r} is a {img.format} image, not JPEG, PNG or WebP")
            # Phones store the camera's orientation as a tag rather than turning the pixels.
            rgb = ImageOps.exif_transpose(img).convert("RGB")
            out: Frame = np.array(rgb, dtype=np.uint8)
            return out
    except FileNotFoundError:
        raise ValueError(f"{path.name!r} not found") from None
    except IsADirectoryError:
        raise ValueError(f"{path.name!r} is a folder, not an image") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"cannot read {path.name!r} as an image ({exc})") from None


def _cascade(name: str) -> object:
    import cv2

    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if not folder:
        raise PersonaForgeError(
            "this OpenCV has no Haar cascades (cv2.data.haarcascades)",
            hint="pip install 'opencv-python-headless<5'",
        )
    return cv2.CascadeClassifier(str(Path(folder) / name))


def detect_faces(rgb: Frame) -> list[Box]:
    """Frontal faces in ``rgb``, largest first, in its own pixels."""
    import cv2

    h, w = rgb.shape[:2]
    k = min(1.0, _DETECT_MAX_SIDE / max(h, w))
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if k < 1.0:
        gray = cv2.resize(gray, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
    gray = cv2.equalizeHist(gray)
    cascade = _cascade("haarcascade_frontalface_default.xml")
    found = cascade.detectMultiScale(  # type: ignore[attr-defined]
        gray, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)
    )
    boxes = [tuple(round(int(v) / k) for v in box) for box in found]
    return sorted(((b[0], b[1], b[2], b[3]) for b in boxes), key=lambda b: -b[2] * b[3])


def _find_eyes(rgb: Frame, face: Box) -> tuple[Box, Box]:
    """Both eyes: the eye cascade where it finds one per side, else where eyes usually sit."""
    import cv2

    fx, fy, fw, fh = face
    default = (
        (fx + round(0.19 * fw), fy + round(0.33 * fh), round(0.24 * fw), round(0.14 * fh)),
        (fx + round(0.57 * fw), fy + round(0.33 * fh), round(0.24 * fw), round(0.14 * fh)),
    )
    top = rgb[fy : fy + fh // 2 + fh // 10, fx : fx + fw]
    gray = cv2.equalizeHist(cv2.cvtColor(top, cv2.COLOR_RGB2GRAY))
    found = _cascade("haarcascade_eye.xml").detectMultiScale(  # type: ignore[attr-defined]
        gray, scaleFactor=1.1, minNeighbors=4, minSize=(max(8, fw // 12),) * 2
    )
    sides: list[Box | None] = [None, None]
    for x, y, w, h in sorted((tuple(int(v) for v in b) for b in found), key=lambda b: -b[2]):
        side = 0 if x + w / 2 < fw / 2 else 1
        if sides[side] is None and w < fw * 0.4:
            sides[side] = (fx + x, fy + y, w, h)
    if sides[0] is None or sides[1] is None:
        return default
    # The cascade's box is square and loose; the lids move within its middle band.
    return (_eye_band(sides[0]), _eye_band(sides[1]))


def _eye_band(box: Box) -> Box:
    x, y, w, h = box
    return (x + w // 12, y + h // 4, w - w // 6, h // 2)


def _lip_line(rgb: Frame, face: Box) -> int:
    """The darkest row across the middle of the lower face: the line between the lips."""
    import cv2

    fx, fy, fw, fh = face
    y0, y1 = fy + round(0.64 * fh), fy + round(0.9 * fh)
    x0, x1 = fx + round(0.33 * fw), fx + round(0.67 * fw)
    strip = rgb[y0:y1, x0:x1]
    if strip.size == 0:
        return fy + round(0.76 * fh)
    gray = cv2.GaussianBlur(cv2.cvtColor(strip, cv2.COLOR_RGB2GRAY), (0, 0), 1.0)
    rows = gray.astype(np.float32).mean(axis=1)
    return y0 + int(np.argmin(rows))


_CACHE: dict[str, Portrait] = {}
_CACHE_LOCK = threading.Lock()


def load_portrait(
    path: Path,
    *,
    persona: Path | None = None,
    line: int | None = None,
    min_face: int = MIN_FACE_PX,
) -> Portrait:
    """Decode ``path`` and find its one face; bad portraits are one-line errors that name
    persona.yaml's ``look.photo``. Results are cached by content for this process."""

    def fail(message: str, hint: str | None = None) -> PortraitError:
        return PortraitError(message, file=persona, line=line, field="look.photo", hint=hint)

    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise fail(f"{path.name!r} not found") from None
    except OSError as exc:
        raise fail(f"cannot read {path.name!r}: {exc.strerror or exc}") from None
    with _CACHE_LOCK:
        if digest in _CACHE:
            return _CACHE[digest]
    try:
        rgb = _decode(path)
    except ValueError as exc:
        raise fail(str(exc), hint="use a JPEG, PNG or WebP portrait") from None
    faces = detect_faces(rgb)
    if not faces:
        raise fail(
            f"no face found in {path.name!r}",
            hint="use a well-lit, frontal head-and-shoulders photo",
        )
    biggest = faces[0][2]
    rivals = [f for f in faces if f[2] >= COMPETING_FACE_SHARE * biggest]
    if len(rivals) > 1:
        where = "; ".join(f"{w}x{h} px at x={x}, y={y}" for x, y, w, h in rivals)
        raise fail(
            f"{len(rivals)} faces found in {path.name!r} ({where})",
            hint="crop the photo to the one face that should speak",
        )
    face = faces[0]
    if face[2] < min_face:
        raise fail(
            f"the face in {path.name!r} is {face[2]} px wide; at least {min_face} px is needed",
            hint="use a larger or closer photo",
        )
    portrait = portrait_at(rgb, face, digest)
    with _CACHE_LOCK:
        _CACHE[digest] = portrait
    return portrait


def portrait_at(rgb: Frame, face: Box, digest: str = "") -> Portrait:
    """A portrait whose face is already known (``face`` in its pixels): no detection."""
    h, w = rgb.shape[:2]
    x, y, fw, fh = (int(v) for v in face)
    if fw < 8 or fh < 8 or x < 0 or y < 0 or x + fw > w or y + fh > h:
        raise PersonaForgeError(f"the face box {face} is not inside the {w}x{h} picture")
    box = (x, y, fw, fh)
    return Portrait(
        image=rgb, face=box, eyes=_find_eyes(rgb, box), mouth_y=_lip_line(rgb, box), sha256=digest
    )


def _smoothstep(e0: float, e1: float, x: F32) -> F32:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    out: F32 = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return out


class PhotoAnimator:
    """Animates one portrait for one shot; ``frames`` streams rgb24 bytes.

    The portrait is placed once (face centred, a blurred copy of the photo where it does
    not cover the frame); per frame only a box around the head is resampled with
    ``cv2.remap``, through a displacement field mixed from a few precomputed fields.
    """

    def __init__(
        self,
        portrait: Portrait,
        width: int,
        height: int,
        fps: int,
        *,
        emotion: str = "neutral",
        emotion_curve: Sequence[tuple[float, str, float]] = (),
        seed: int = 0,
    ) -> None:
        import cv2

        if width < 16 or height < 16 or fps <= 0:
            raise ValueError(f"unusable frame size or rate: {width}x{height} @ {fps}")
        self.width, self.height, self.fps = width, height, fps
        self.seed = seed
        self._mood_keys = self._moods(emotion, emotion_curve)
        self._blink_rng = random.Random(f"blink:{seed}")
        self._blinks: list[float] = []
        phase = random.Random(f"sway:{seed}")
        self._sway_phase = (phase.uniform(0, 6.28), phase.uniform(0, 6.28), phase.uniform(0, 6.28))

        src = portrait.image
        m = min(width, height)
        fx, fy, fw, fh = portrait.face
        # The cascade box spans brows to chin; this size leaves room for hair and shoulders.
        s = 0.34 * m / fw
        target = (width / 2.0, height * (0.36 if height > width * 1.15 else 0.43))
        ox = target[0] - s * (fx + fw / 2)
        oy = target[1] - s * (fy + fh / 2)
        k = s
        if s < 0.9:
            # warpAffine samples without averaging: shrinking a large photo through it aliases,
            # so it is shrunk by area first and only moved (and slightly scaled) after.
            src = np.asarray(
                cv2.resize(src, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), np.uint8
            )
            k = 1.0
        affine = np.array([[k, 0, ox], [0, k, oy]], np.float64)
        fg = cv2.warpAffine(
            src, affine, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        cover = cv2.warpAffine(
            np.full(src.shape[:2], 255, np.uint8), affine, (width, height), flags=cv2.INTER_LINEAR
        )
        if int(cover.min()) < 255:
            # Where the photo stops, its edges carry on, blurred (made small, then enlarged).
            small = cv2.resize(
                fg, (max(8, width // 8), max(8, height // 8)), interpolation=cv2.INTER_AREA
            )
            small = cv2.GaussianBlur(small, (0, 0), max(1.0, m / 8 * 0.04))
            bg = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
            alpha = cv2.GaussianBlur(cover, (0, 0), max(1.0, m * 0.006))
            alpha = np.minimum(alpha, cover).astype(np.float32)[..., None] / 255
            fg = (fg * alpha + bg * (1 - alpha)).astype(np.uint8)
        self._frame: Frame = np.ascontiguousarray(fg)

        # Geometry in frame pixels.
        def box(b: Box) -> tuple[float, float, float, float]:
            return (s * b[0] + ox, s * b[1] + oy, s * b[2], s * b[3])

        self.face = box(portrait.face)
        cfx, cfy, cfw, cfh = self.face
        self.mouth_center = (cfx + cfw / 2, s * portrait.mouth_y + oy)
        self._mouth_hw = 0.2 * cfw
        self._eyes = [box(e) for e in portrait.eyes]
        self._open_px = 0.12 * cfh  # the jaw's drop for a wide-open "aa"

        # The head box: everything the warp may move, kept inside the frame.
        self._x0 = max(0, math.floor(cfx - 0.75 * cfw))
        self._x1 = min(width, math.ceil(cfx + 1.75 * cfw))
        self._y0 = max(0, math.floor(cfy - 0.7 * cfh))
        self._y1 = min(height, math.ceil(cfy + 1.55 * cfh))
        rw, rh = self._x1 - self._x0, self._y1 - self._y0
        self._src: Frame = self._frame[self._y0 : self._y1, self._x0 : self._x1].copy()
        self._scratch: Frame = self._src.copy()
        gx, gy = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
        self._gx, self._gy = gx, gy
        self._map_x = np.empty_like(gx)
        self._map_y = np.empty_like(gy)

        # Smooth fields are made on a coarse grid and enlarged each frame.
        self._step = max(2, round(m / 120))
        lw, lh = max(4, math.ceil(rw / self._step)), max(4, math.ceil(rh / self._step))
        lx = (np.arange(lw, dtype=np.float32) + 0.5) * (rw / lw) + self._x0
        ly = (np.arange(lh, dtype=np.float32) + 0.5) * (rh / lh) + self._y0
        X, Y = np.meshgrid(lx, ly)
        hcx, hcy = cfx + cfw / 2, cfy + 0.5 * cfh
        d = np.sqrt(((X - hcx) / (0.8 * cfw)) ** 2 + ((Y - hcy) / (1.0 * cfh)) ** 2)
        head = 1.0 - _smoothstep(0.95, 1.45, d)
        # Nothing moves at the box's edges, so it joins the still frame without a seam.
        edge = np.minimum.reduce([X - self._x0, self._x1 - X, Y - self._y0, self._y1 - Y])
        head *= _smoothstep(0.0, 0.1 * cfw, edge)
        self._head = head.astype(np.float32)
        self._head_rx = ((X - hcx) * head).astype(np.float32)  # rotation about the face centre
        self._head_ry = ((Y - hcy) * head).astype(np.float32)
        mcx, mcy = self.mouth_center
        corner = np.clip(np.abs(X - mcx) / (1.3 * self._mouth_hw), 0, 1) ** 2
        near_mouth = np.exp(-(((X - mcx) / (0.3 * cfw)) ** 2) - ((Y - mcy) / (0.08 * cfh)) ** 2)
        self._smile = (corner * near_mouth).astype(np.float32)
        self._narrow = ((X - mcx) * near_mouth).astype(np.float32)
        brow_y = min(e[1] for e in self._eyes) - 0.06 * cfh
        self._brow = np.exp(
            -(((X - hcx) / (0.35 * cfw)) ** 2) - ((Y - brow_y) / (0.09 * cfh)) ** 2
        ).astype(np.float32)

        # The jaw field at full resolution: it has an edge at the lip line.
        jx0 = max(self._x0, math.floor(mcx - 0.6 * cfw))
        jx1 = min(self._x1, math.ceil(mcx + 0.6 * cfw))
        jy0 = max(self._y0, math.floor(mcy - 0.12 * cfh))
        jy1 = min(self._y1, math.ceil(cfy + 1.45 * cfh))
        self._jaw_box = (jx0 - self._x0, jy0 - self._y0, jx1 - self._x0, jy1 - self._y0)
        JX, JY = np.meshgrid(
            np.arange(jx0, jx1, dtype=np.float32) + 0.5, np.arange(jy0, jy1, dtype=np.float32) + 0.5
        )
        dx = JX - mcx
        lips = np.sqrt(np.clip(1 - (dx / self._mouth_hw) ** 2, 0, 1))
        jaw = np.clip(1 - (dx / (0.5 * cfw)) ** 2, 0, 1)
        below = _smoothstep(mcy - 0.5, mcy + 0.5, JY)
        v = _smoothstep(mcy, mcy + 0.15 * cfh, JY)
        chin = cfy + 1.02 * cfh
        fade = 1 - _smoothstep(chin, chin + 0.4 * cfh, JY)
        lift = (1 - below) * _smoothstep(mcy - 0.1 * cfh, mcy, JY) * lips * 0.2
        self._jaw = (((1 - v) * lips + v * jaw) * below * fade - lift).astype(np.float32)

        # Eyes closed: the eye painted over with the skin just below it, and a lash line.
        self._eye_patches: list[tuple[int, int, int, int, Frame, Frame]] = []
        for ex, ey, ew, eh in self._eyes:
            x0 = max(0, math.floor(ex - 0.15 * ew) - self._x0)
            x1 = min(rw, math.ceil(ex + 1.15 * ew) - self._x0)
            y0 = max(0, math.floor(ey - 0.1 * eh) - self._y0)
            y1 = min(rh, math.ceil(ey + 1.1 * eh) - self._y0)
            below = self._src[
                min(rh - 1, y1 + round(0.2 * eh)) : min(rh, y1 + round(0.8 * eh) + 1),
                x0 + (x1 - x0) // 4 : x1 - (x1 - x0) // 4,
            ]
            if x1 - x0 < 3 or y1 - y0 < 3 or below.size == 0:
                continue
            skin = np.median(below.reshape(-1, 3), axis=0).astype(np.float32)
            opened = self._src[y0:y1, x0:x1].copy()
            cx, cy = ex + ew / 2 - self._x0 - x0, ey + eh / 2 - self._y0 - y0
            yy, xx = np.mgrid[0 : y1 - y0, 0 : x1 - x0].astype(np.float32) + 0.5
            r = np.sqrt(((xx - cx) / (0.62 * ew)) ** 2 + ((yy - cy) / (0.62 * eh)) ** 2)
            cover = (1 - _smoothstep(0.8, 1.0, r))[..., None]
            closed = opened * (1 - cover) + skin * cover
            # The lash line where the lids meet, a little below the eye's middle.
            lash = np.abs(yy - (cy + 0.18 * eh + 0.25 * eh * ((xx - cx) / (0.55 * ew)) ** 2))
            lash_a = (np.clip(1.2 - lash / max(0.6, 0.07 * eh), 0, 1) * (r < 0.95))[..., None]
            closed = closed * (1 - 0.6 * lash_a) + skin * 0.35 * (0.6 * lash_a)
            self._eye_patches.append((x0, y0, x1, y1, opened, closed.astype(np.uint8)))

    # ------------------------------------------------------------------ public

    @property
    def mouth_box(self) -> Box:
        """(x0, y0, x1, y1) frame pixels around the mouth and the jaw's travel."""
        mcx, mcy = self.mouth_center
        return (
            math.floor(mcx - 1.2 * self._mouth_hw),
            math.floor(mcy - 0.06 * self.face[3]),
            math.ceil(mcx + 1.2 * self._mouth_hw),
            math.ceil(mcy + self._open_px * 1.3),
        )

    @property
    def eyes_box(self) -> Box:
        """(x0, y0, x1, y1) frame pixels holding both eyes."""
        xs = [e[0] for e in self._eyes] + [e[0] + e[2] for e in self._eyes]
        ys = [e[1] for e in self._eyes] + [e[1] + e[3] for e in self._eyes]
        return (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))

    def openness(self, visemes: Sequence[tuple[float, str]], t: float) -> float:
        """How far the jaw is open at ``t`` (0..1), before the emotion's gain."""
        keys = _keys(visemes)
        return _blend([k for k, _ in keys], [_MOUTH[v] for _, v in keys], t)[0]

    def blinks(self, until_s: float) -> list[float]:
        """The times blinks start, up to ``until_s``."""
        self._closed(until_s)
        return [b for b in self._blinks if b <= until_s]

    def frames(self, visemes: Sequence[tuple[float, str]], n_frames: int) -> Iterator[bytes]:
        """Yield exactly ``n_frames`` rgb24 frames; deterministic for the same inputs."""
        keys = _keys(visemes)
        times = [k for k, _ in keys]
        shapes = [_MOUTH[v] for _, v in keys]
        for i in range(n_frames):
            t = i / self.fps
            yield self._render(t, *_blend(times, shapes, t)).tobytes()

    # ------------------------------------------------------------------ per frame

    def _render(self, t: float, jaw: float, width: float) -> Frame:
        import cv2

        mood = self._mood(t)
        open_px = self._open_px * min(1.0, jaw * mood.open_gain)
        closed = 1.0 - self._eye_open(t) * mood.eye_open
        cfw, cfh = self.face[2], self.face[3]
        p = self._sway_phase
        sway = mood.sway
        hx = sway * 0.012 * cfw * (math.sin(0.9 * t + p[0]) + 0.4 * math.sin(2.3 * t + p[1]))
        breath = 0.006 * cfh * math.sin(2 * math.pi * t / BREATH_PERIOD_S)
        hy = sway * 0.006 * cfh * math.sin(0.7 * t + p[2]) + breath
        ang = sway * 0.012 * math.sin(0.5 * t + p[1])

        # Content moves by +d where the source is sampled at -d.
        low_x = -hx * self._head + ang * self._head_ry - (width - 1.0) * 1.4 * self._narrow
        low_y = (
            -hy * self._head
            - ang * self._head_rx
            + (0.035 * mood.smile * cfh) * self._smile
            + (0.03 * mood.brow * cfh) * self._brow
        )
        rh, rw = self._gx.shape
        cv2.add(self._gx, cv2.resize(low_x, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_x)
        cv2.add(self._gy, cv2.resize(low_y, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_y)
        if open_px > 0.05:
            jx0, jy0, jx1, jy1 = self._jaw_box
            self._map_y[jy0:jy1, jx0:jx1] -= open_px * self._jaw

        src = self._src
        if closed > 0.01 and self._eye_patches:
            src = self._scratch
            for x0, y0, x1, y1, opened, shut in self._eye_patches:
                # The lid comes down from the top: rows above the lid show the closed eye.
                h = y1 - y0
                lid = closed * h * 1.05
                rows = np.clip(lid - np.arange(h, dtype=np.float32), 0, 1)[:, None, None]
                src[y0:y1, x0:x1] = (shut * rows + opened * (1 - rows)).astype(np.uint8)
        region: Frame = np.asarray(
            cv2.remap(
                src, self._map_x, self._map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            ),
            np.uint8,
        )
        if open_px > 0.5:
            self._paint_mouth(region, open_px, width, hx, hy)
        self._frame[self._y0 : self._y1, self._x0 : self._x1] = region
        return self._frame

    def _paint_mouth(
        self, region: Frame, open_px: float, width: float, hx: float, hy: float
    ) -> None:
        """The dark inside of the mouth (and a hint of teeth) in the gap the jaw opened."""
        mcx, mcy = self.mouth_center
        hw = self._mouth_hw * width
        cx, cy = mcx + hx - self._x0, mcy + hy - self._y0
        x0, x1 = max(0, math.floor(cx - hw)), min(region.shape[1], math.ceil(cx + hw) + 1)
        y0 = max(0, math.floor(cy - 0.25 * open_px) - 1)
        y1 = min(region.shape[0], math.ceil(cy + open_px) + 2)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return
        xs = np.arange(x0, x1, dtype=np.float32) + 0.5
        ys = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
        prof = np.sqrt(np.clip(1 - ((xs - cx) / hw) ** 2, 0, 1))[None, :]
        top = cy - 0.2 * open_px * prof
        bottom = cy + 0.92 * open_px * prof
        inside = np.clip(np.minimum(ys - top, bottom - ys), 0, 1)[..., None]
        depth = np.clip((ys - top) / np.maximum(bottom - top, 1e-3), 0, 1)[..., None]
        teeth = (depth < 0.22) & (open_px > 0.25 * self._open_px)
        dark = np.array([52, 16, 22], np.float32) * (1.2 - 0.5 * depth)
        colour = np.where(teeth, np.array([222, 214, 200], np.float32), dark)
        patch = region[y0:y1, x0:x1].astype(np.float32)
        region[y0:y1, x0:x1] = (patch * (1 - inside) + colour * inside).astype(np.uint8)

    # ------------------------------------------------------------------ timing

    def _closed(self, t: float) -> None:
        while not self._blinks or self._blinks[-1] <= t:
            prev = self._blinks[-1] if self._blinks else None
            self._blinks.append(
                prev + self._blink_rng.uniform(2.4, 4.8)
                if prev is not None
                else self._blink_rng.uniform(0.5, 1.8)
            )

    def _eye_open(self, t: float) -> float:
        self._closed(t)
        k = bisect_right(self._blinks, t) - 1
        if k >= 0:
            ph = (t - self._blinks[k]) / BLINK_S
            if 0.0 <= ph < 1.0:
                return 1.0 - min(1.0, (1.0 - abs(2.0 * ph - 1.0)) * 1.6)
        return 1.0

    @staticmethod
    def _moods(emotion: str, curve: Sequence[tuple[float, str, float]]) -> list[tuple[float, Mood]]:
        neutral = MOODS["neutral"]
        if not curve:
            return [(0.0, MOODS.get(emotion.strip().lower(), neutral))]
        keys = []
        for t, name, intensity in sorted(curve, key=lambda k: k[0]):
            mood = MOODS.get(name.strip().lower(), neutral)
            keys.append((float(t), neutral.mix(mood, max(0.0, min(1.0, float(intensity))))))
        return keys

    def _mood(self, t: float) -> Mood:
        keys = self._mood_keys
        k = bisect_right([kt for kt, _ in keys], t) - 1
        if k < 0:
            return keys[0][1]
        if k + 1 >= len(keys):
            return keys[k][1]
        (t0, a), (t1, b) = keys[k], keys[k + 1]
        # Expressions change over the last 0.4 s before the next key, not in one frame.
        ramp = max(0.0, min(1.0, (t - (t1 - 0.4)) / 0.4)) if t1 > t0 else 1.0
        return a.mix(b, ramp * ramp * (3 - 2 * ramp))


def _keys(visemes: Sequence[tuple[float, str]]) -> list[tuple[float, str]]:
    return sorted(
        ((float(t), _BY_LOWER.get(v.lower(), "sil")) for t, v in visemes), key=lambda kv: kv[0]
    )


def _blend(times: list[float], shapes: list[tuple[float, float]], t: float) -> tuple[float, float]:
    """The mouth averaged over [t, t + window]: the lips anticipate the next sound."""
    sil = _MOUTH["sil"]
    end = t + COARTICULATION_S
    k = bisect_right(times, t) - 1
    acc_j = acc_w = 0.0
    cur = t
    while cur < end:
        nxt = times[k + 1] if k + 1 < len(times) else math.inf
        seg = min(nxt, end)
        if seg > cur:
            j, w = shapes[k] if k >= 0 else sil
            acc_j += j * (seg - cur)
            acc_w += w * (seg - cur)
        cur = max(cur, seg)
        k += 1
    return acc_j / COARTICULATION_S, acc_w / COARTICULATION_S


def visemes_from_audio(path: Path, fps: int) -> tuple[list[tuple[float, str]], float]:
    """A viseme timeline from loudness alone, and the audio's duration: for callers with audio
    but no phoneme timings (the RunPod worker's offline fallback). Louder opens wider."""
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
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    duration = len(samples) / rate
    hop = rate // fps
    n = max(1, len(samples) // hop)
    rms = np.sqrt(
        np.mean(np.square(samples[: n * hop].reshape(n, hop)), axis=1) if len(samples) >= hop
        else np.zeros(1, np.float32)
    )  # fmt: skip
    peak = float(np.percentile(rms, 95)) if rms.size else 0.0
    level = rms / peak if peak > 1e-6 else rms * 0
    out: list[tuple[float, str]] = []
    for i, v in enumerate(level):
        name = "aa" if v > 0.7 else "E" if v > 0.4 else "nn" if v > 0.15 else "sil"
        if not out or out[-1][1] != name:
            out.append((i / fps, name))
    return out, duration
