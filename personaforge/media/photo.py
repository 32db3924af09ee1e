"""Photo personas: find the face in a portrait by its landmarks (media.landmarks) and animate it
offline: the jaw and lips move along the lip landmarks by the viseme timeline and the voice's
loudness, the eyelids blink along the eyelid landmarks, the head sways and breathes, as rgb24
frames for ffmpeg. The motion itself comes from media.motion, shared with the drawn avatar."""

from __future__ import annotations

import hashlib
import math
import random
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from personaforge.core.specs import PHOTO_SUFFIXES
from personaforge.errors import PersonaForgeError
from personaforge.media import landmarks as lm
from personaforge.media import motion

Box = tuple[int, int, int, int]  # x, y, width, height
Frame = NDArray[np.uint8]
F32 = NDArray[np.float32]

MIN_FACE_PX = 80  # the smallest face (cheek to cheek, in the photo's pixels) we animate
# Faces smaller than this share of the largest are taken for background people.
COMPETING_FACE_SHARE = 0.5
OPEN_SHARE = 0.13  # the inner lips' gap for a wide-open "aa", as a share of forehead-to-chin
FACE_SHARE = 0.34  # the face's width as a share of the frame's shorter side
_MOUTHS_KEPT = 48  # mouths kept for reuse (a 1080p one is about 0.7 MB)
WIDTH_GAIN = 0.5  # a photo's lips stretch less than a drawing's: this share of the viseme's


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
    """A decoded portrait (rgb) and its face's 468 landmarks, in its pixels."""

    image: Frame
    points: F32  # (468, 2)
    sha256: str

    @property
    def face(self) -> Box:
        return lm.Face(self.points, 1.0).box


class PortraitError(PersonaForgeError):
    """A portrait we cannot animate; names persona.yaml's ``look.photo``."""


def decode_image(path: Path) -> Frame:
    """An image file as rgb pixels (upright); ValueError says why it cannot be read."""
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


_CACHE: dict[str, Portrait] = {}
_CACHE_LOCK = threading.Lock()


def load_portrait(
    path: Path,
    *,
    persona: Path | None = None,
    line: int | None = None,
    min_face: int = MIN_FACE_PX,
    cache_dir: Path | None = None,
) -> Portrait:
    """Decode ``path`` and find its one face; bad portraits are one-line errors that name
    persona.yaml's ``look.photo``. The landmarks are cached by the file's content, in this
    process and (with ``cache_dir``) on disk, so a portrait is analysed once."""

    def fail(message: str, hint: str | None = None) -> PortraitError:
        return PortraitError(message, file=persona, line=line, field="look.photo", hint=hint)

    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        raise fail(f"{path.name!r} not found") from None
    except IsADirectoryError:
        raise fail(f"{path.name!r} is a folder, not an image") from None
    except OSError as exc:
        raise fail(f"cannot read {path.name!r}: {exc.strerror or exc}") from None
    key = f"{digest}:{min_face}"
    with _CACHE_LOCK:
        if key in _CACHE:
            return _CACHE[key]
    try:
        rgb = decode_image(path)
    except ValueError as exc:
        raise fail(str(exc), hint="use a JPEG, PNG or WebP portrait") from None
    faces = lm.cached_faces(rgb, digest, cache_dir)
    if not faces:
        small = lm.find_small_faces(rgb)
        if small:
            raise fail(
                f"the face in {path.name!r} is about {small[0].width:.0f} px wide; at least "
                f"{min_face} px is needed",
                hint="use a larger or closer photo",
            )
        raise fail(
            f"no face found in {path.name!r}",
            hint=f"use a well-lit, frontal head-and-shoulders photo, the face at least "
            f"{min_face} px wide",
        )
    biggest = faces[0].width
    rivals = [f for f in faces if f.width >= COMPETING_FACE_SHARE * biggest]
    if len(rivals) > 1:
        where = "; ".join(f"{w}x{h} px at x={x}, y={y}" for x, y, w, h in (f.box for f in rivals))
        raise fail(
            f"{len(rivals)} faces of similar size found in {path.name!r} ({where})",
            hint="crop the photo to the one face that should speak",
        )
    face = faces[0]
    if face.width < min_face:
        raise fail(
            f"the face in {path.name!r} is {face.width:.0f} px wide; at least {min_face} px "
            "is needed",
            hint="use a larger or closer photo",
        )
    portrait = Portrait(image=rgb, points=face.points, sha256=digest)
    with _CACHE_LOCK:
        _CACHE[key] = portrait
    return portrait


def portrait_at(rgb: Frame, face: Box, digest: str = "") -> Portrait:
    """A portrait whose face is already known (``face`` in its pixels): no search."""
    h, w = rgb.shape[:2]
    x, y, fw, fh = (int(v) for v in face)
    if fw < 8 or fh < 8 or x < 0 or y < 0 or x + fw > w or y + fh > h:
        raise PersonaForgeError(f"the face box {face} is not inside the {w}x{h} picture")
    found = lm.landmarks_in(rgb, (x, y, fw, fh))
    if found.score < 0.5:
        raise PersonaForgeError(f"no face in the face box {face}")
    return Portrait(image=rgb, points=found.points, sha256=digest)


def _smoothstep(e0: float, e1: float, x: F32) -> F32:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    out: F32 = (t * t * (3.0 - 2.0 * t)).astype(np.float32)
    return out


def _profile(u: F32, v: F32, at: F32) -> F32:
    """A contour given as points (u, v), as v over ``at`` (held flat beyond its ends)."""
    order = np.argsort(u)
    out: F32 = np.interp(at, u[order], v[order]).astype(np.float32)
    return out


class _Axes:
    """A face-aligned frame: u along a feature (corner to corner), v across it (down)."""

    def __init__(self, a: F32, b: F32) -> None:
        d = b - a
        self.u = (d / max(1e-6, float(np.hypot(*d)))).astype(np.float32)
        self.v = np.array([-self.u[1], self.u[0]], np.float32)
        self.o = ((a + b) / 2).astype(np.float32)

    def uv(self, pts: F32) -> tuple[F32, F32]:
        rel = pts - self.o
        return (rel @ self.u).astype(np.float32), (rel @ self.v).astype(np.float32)

    def grid(self, X: F32, Y: F32) -> tuple[F32, F32]:
        dx, dy = X - self.o[0], Y - self.o[1]
        u = (dx * self.u[0] + dy * self.u[1]).astype(np.float32)
        v = (dx * self.v[0] + dy * self.v[1]).astype(np.float32)
        return u, v


def _sorted(u: F32, v: F32) -> tuple[F32, F32]:
    order = np.argsort(u)
    return u[order], v[order]


class _Mouth:
    """The mouth's fields, built once per portrait and shot size: per frame the warp is a
    weighted sum of them and the cavity a comparison against precomputed contours."""

    def __init__(self, src: Frame, pts: F32, face_h: float, face_w: float) -> None:
        H, W = src.shape[:2]
        ax = _Axes(pts[61], pts[291])
        self.ax = ax
        ui, vi = ax.uv(pts[list(lm.LIPS_UPPER_INNER)])
        li, lv = ax.uv(pts[list(lm.LIPS_LOWER_INNER)])
        uo, vo = ax.uv(pts[list(lm.LIPS_UPPER_OUTER)])
        hw = float(np.hypot(*(pts[291] - pts[61]))) / 2
        hw_in = max(2.0, float(abs(ui[-1] - ui[0])) / 2, 0.8 * hw)
        _, v_chin = ax.uv(pts[[lm.CHIN]])
        chin = float(v_chin[0])
        self.max_gap = OPEN_SHARE * face_h
        self.face_h = face_h
        x0 = max(0, math.floor(ax.o[0] - 0.75 * face_w))
        x1 = min(W, math.ceil(ax.o[0] + 0.75 * face_w))
        y0 = max(0, math.floor(ax.o[1] - 0.28 * face_h))
        y1 = min(H, math.ceil(ax.o[1] + (chin + 0.35 * face_h)))
        self.box = (x0, y0, x1, y1)
        X, Y = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        self.X, self.Y = X, Y
        U, V = ax.grid(X, Y)
        self.U, self.V = U, V
        vu = _profile(ui, vi, U)  # the upper lip's inner edge, per pixel's column
        vl = _profile(li, lv, U)
        vuo = _profile(uo, vo, U)
        P = np.sqrt(np.clip(1 - (U / hw_in) ** 2, 0, 1)).astype(np.float32)
        self.P = P
        g0 = np.maximum(0.0, vl - vu) * (P > 0)
        self.g0 = g0.astype(np.float32)
        self.photo_gap = float(g0.max()) if g0.size else 0.0
        D = V - vu  # below the upper lip's inner edge
        self.D = D.astype(np.float32)
        step = _smoothstep(-0.5, 0.5, D)
        ramp = _smoothstep(0.0, 0.12 * face_h, D)
        jaw_u = np.clip(1 - (U / (0.42 * face_w)) ** 2, 0, 1) ** 1.5
        fade = 1 - _smoothstep(chin, chin + 0.3 * face_h, V)
        # The edges of the box never move, so the patch joins the still face without a seam.
        edge = np.minimum.reduce([X - x0, x1 - 1 - X, Y - y0, y1 - 1 - Y])
        still = _smoothstep(0.0, 0.06 * face_w, edge)
        jaw = ((1 - ramp) * P + ramp * jaw_u) * step * fade * still
        # The upper lip's red part lifts a little; the skin above it (to the nose) does not.
        thick = np.maximum(1.0, vu - vuo)
        red = _smoothstep(0.0, 1.0, np.clip((V - vuo) / thick, 0, 1)) * (1 - step) * P * still
        near = np.exp(-((V / (0.12 * face_h)) ** 2)) * still
        widen = U * near * np.exp(-((U / (1.6 * hw)) ** 2))
        # The photo's own gap is where the jaw starts: it moves (rigidly, as a jaw does) by
        # the wanted gap less that one; a smile with teeth closes and opens from there.
        self.gap_mid = float(np.interp(0.0, *_sorted(li, lv))) - float(
            np.interp(0.0, *_sorted(ui, vi))
        )
        self.gap_mid = max(0.0, self.gap_mid)
        self.f_jaw = self._xy(jaw)
        self.f_red = self._xy(red)
        self.f_wide = (
            (widen * ax.u[0]).astype(np.float32),
            (widen * ax.u[1]).astype(np.float32),
        )
        self.vu = vu.astype(np.float32)
        # The cavity's colour: the lips' own, very dark; darker toward the corners.
        lips = src[
            np.clip(np.round(pts[list(lm.LIPS_LOWER_OUTER)][:, 1]).astype(int), 0, H - 1),
            np.clip(np.round(pts[list(lm.LIPS_LOWER_OUTER)][:, 0]).astype(int), 0, W - 1),
        ].astype(np.float32)
        lip = np.median(lips, axis=0)
        base = lip * 0.3 + np.array([14, 4, 5], np.float32)
        self.dark = (base[None, None, :] * (0.55 + 0.45 * P[..., None])).astype(np.float32)
        self.tongue = (lip * 0.62).astype(np.float32)
        # Does the photo show its teeth? Teeth are light and nearly grey; lips are pink.
        gap_px = src[y0:y1, x0:x1][(g0 > 1.0) & (D > 0.2) & np.less(D, g0 - 0.2) & (P > 0.3)]
        gap_px = gap_px.astype(np.int16)
        light_grey = (gap_px.mean(axis=1) > 150) & (np.ptp(gap_px, axis=1) < 45)
        self.own_teeth = bool(gap_px.shape[0] >= 8 and float(light_grey.mean()) > 0.2)
        self.map_x = np.empty_like(X)
        self.map_y = np.empty_like(Y)
        # Where a cavity can be: inside the corners, from the lifted upper lip to the lowest
        # the lower lip goes.
        lowest, highest = 1.25 * self.max_gap + self.photo_gap + 2, -0.1 * self.max_gap - 2
        reach = (P > 0.02) & np.greater(D, highest) & np.less(D, lowest)
        rows, cols = np.flatnonzero(reach.any(axis=1)), np.flatnonzero(reach.any(axis=0))
        self.cavity_box = (
            (int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1)
            if rows.size and cols.size
            else (0, 0, 0, 0)
        )
        self._made: dict[tuple[float, float], Frame] = {}

    def _xy(self, field: F32) -> tuple[F32, F32]:
        v = self.ax.v
        return (field * v[0]).astype(np.float32), (field * v[1]).astype(np.float32)

    def draw(self, src: Frame, dst: Frame, gap: float, width: float) -> None:
        """The mouth with its inner lips ``gap`` px apart at the middle and ``width`` times its
        width, from ``src`` into ``dst`` (both frame-sized)."""
        x0, y0, x1, y1 = self.box
        # Half-pixel steps of the gap and 2% steps of the width look the same as any values,
        # and a pause, a held vowel or a repeated shape reuses the mouth already made.
        key = (round(gap * 2) / 2, round((width - 1.0) * WIDTH_GAIN * 50) / 50)
        patch = self._made.pop(key, None)
        if patch is None:
            patch = self._make(src, *key)
            while len(self._made) >= _MOUTHS_KEPT:
                del self._made[next(iter(self._made))]
        self._made[key] = patch  # most recently used last
        dst[y0:y1, x0:x1] = patch

    def _make(self, src: Frame, gap: float, w: float) -> Frame:
        import cv2

        x0, y0 = self.box[:2]
        lift = 0.08 * gap
        move = gap - self.gap_mid
        # Content moves by +d where the source is sampled at -d.
        jx, jy = self.f_jaw
        cv2.scaleAdd(jx, -move, self.X, self.map_x)
        cv2.scaleAdd(jy, -move, self.Y, self.map_y)
        if lift:
            cv2.scaleAdd(self.f_red[0], lift, self.map_x, self.map_x)
            cv2.scaleAdd(self.f_red[1], lift, self.map_y, self.map_y)
        if w:
            cv2.scaleAdd(self.f_wide[0], -w, self.map_x, self.map_x)
            cv2.scaleAdd(self.f_wide[1], -w, self.map_y, self.map_y)
        patch = np.asarray(
            cv2.remap(
                src, self.map_x, self.map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
            ),
            np.uint8,
        )
        if gap > 0.4:
            # The cavity, worked out only where it can be.
            r0, r1, c0, c1 = self.cavity_box
            D, P = self.D[r0:r1, c0:c1], self.P[r0:r1, c0:c1]
            g0 = self.g0[r0:r1, c0:c1]
            top, bottom = -lift * P, np.maximum(0.0, g0 + move * P)
            inside = np.clip(np.minimum(D - top, bottom - D), 0, 1) * (P > 0.02)
            if float(inside.max()) > 0:
                a = inside[..., None]
                # Where the photo shows its own open mouth (the upper teeth), that stays put:
                # the upper teeth belong to the skull, only the jaw below them moves.
                depth = np.clip((D - top) / np.maximum(bottom - top, 1e-3), 0, 1)[..., None]
                # Darkest in the middle of the mouth; the tongue shows low in a wide one.
                cavity = self.dark[r0:r1, c0:c1] * (1.15 - 0.35 * np.sin(np.pi * depth))
                wide = min(1.0, max(0.0, gap / self.max_gap - 0.35) * 2.5)
                if wide > 0:
                    t = np.clip((depth - 0.62) / 0.38, 0, 1) * 0.7 * wide
                    cavity = cavity * (1 - t) + self.tongue * t
                if self.own_teeth:
                    still = src[y0 + r0 : y0 + r1, x0 + c0 : x0 + c1].astype(np.float32)
                    cavity = np.where((g0 > D)[..., None], still, cavity)
                elif gap > 0.2 * self.max_gap:
                    # The photo shows none: a band of upper teeth under the upper lip, their
                    # height the teeth's own (not the gap's), shaded toward the corners.
                    band = np.clip((0.22 * self.max_gap - (D - top)[..., None]) / 1.5, 0, 1)
                    shade = (0.55 + 0.45 * P[..., None]) * min(1.0, gap / (0.4 * self.max_gap))
                    t = band * shade * 0.9
                    cavity = cavity * (1 - t) + np.array([222, 214, 200], np.float32) * shade * t
                sub = patch[r0:r1, c0:c1]
                patch[r0:r1, c0:c1] = (sub * (1 - a) + cavity * a).astype(np.uint8)
        return patch


class _Eye:
    """One eye's blink: the upper lid slides down along the eyelid landmarks, the lid's skin
    stretching after it; the lower lid stays."""

    def __init__(
        self, pts: F32, upper: Sequence[int], lower: Sequence[int], H: int, W: int
    ) -> None:
        a, b = pts[upper[0]], pts[upper[-1]]
        ax = _Axes(a, b) if a[0] <= b[0] else _Axes(b, a)  # u to the right, so v points down
        uu, vu = ax.uv(pts[list(upper)])
        ul, vl = ax.uv(pts[list(lower)])
        half = float(np.hypot(*(pts[upper[-1]] - pts[upper[0]]))) / 2
        open_h = max(1.0, float((vl - vu).max()) if vl.size else 1.0)
        x0 = max(0, math.floor(ax.o[0] - 1.3 * half))
        x1 = min(W, math.ceil(ax.o[0] + 1.3 * half))
        y0 = max(0, math.floor(ax.o[1] - 2.2 * open_h - 0.5 * half))
        y1 = min(H, math.ceil(ax.o[1] + 1.2 * open_h + 0.2 * half))
        self.box = (x0, y0, x1, y1)
        X, Y = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        U, V = ax.grid(X, Y)
        inside = np.abs(U) < half
        self.X, self.Y, self.V, self.ax = X, Y, V, ax
        self.up = np.where(inside, _profile(uu, vu, U), 0).astype(np.float32)
        self.lo = np.where(inside, _profile(ul, vl, U), 0).astype(np.float32)
        self.lo = np.maximum(self.lo, self.up)
        self.top = (self.up - 1.6 * open_h).astype(np.float32)  # the lid's skin, to its crease
        self.half = half
        self.U = U

    def draw(self, src: Frame, dst: Frame, closed: float) -> None:
        import cv2

        x0, y0, x1, y1 = self.box
        c = min(0.97, closed)
        V, up, lo, top = self.V, self.up, self.lo, self.top
        lid = up + c * (lo - up)
        above = (top <= V) & (lid > V)
        between = (lid <= V) & (lo >= V)
        sv = V.copy()
        sv[above] = (top + (V - top) * (up - top) / np.maximum(lid - top, 1e-3))[above]
        sv[between] = (lo - (lo - V) * (lo - up) / np.maximum(lo - lid, 1e-3))[between]
        dv = sv - V
        mx = (self.X + dv * self.ax.v[0]).astype(np.float32)
        my = (self.Y + dv * self.ax.v[1]).astype(np.float32)
        patch = np.asarray(
            cv2.remap(src, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.uint8
        ).astype(np.float32)
        # The lashes where the lid's edge is.
        edge = np.clip(1.3 - np.abs(V - lid) / 1.2, 0, 1) * (lo - up > 0.5) * c
        patch *= 1 - 0.45 * edge[..., None]
        dst[y0:y1, x0:x1] = patch.astype(np.uint8)


def _i420(buf: NDArray[np.uint8], w: int, h: int) -> tuple[NDArray[np.uint8], ...]:
    """The Y, U and V planes of a yuv420p buffer of a w x h picture (views, not copies)."""
    q = (h // 2) * (w // 2)
    flat = buf.reshape(-1)
    return (
        flat[: h * w].reshape(h, w),
        flat[h * w : h * w + q].reshape(h // 2, w // 2),
        flat[h * w + q : h * w + 2 * q].reshape(h // 2, w // 2),
    )


class _Yuv:
    """The yuv420p side of the animator: the still frame (with this frame's mouth and eyes
    pasted in) and the output, as planes; the head box is moved plane by plane."""

    def __init__(self, still: Frame, head: Box) -> None:
        import cv2

        self.h, self.w = still.shape[:2]
        self.work: NDArray[np.uint8] = np.asarray(cv2.cvtColor(still, cv2.COLOR_RGB2YUV_I420))
        self.out: NDArray[np.uint8] = self.work.copy()
        self.head = head
        x0, y0, x1, y1 = head
        gx, gy = np.meshgrid(
            np.arange((x1 - x0) // 2, dtype=np.float32), np.arange((y1 - y0) // 2, dtype=np.float32)
        )
        self.grid_x, self.grid_y = gx, gy
        self.map_x, self.map_y = np.empty_like(gx), np.empty_like(gy)

    def planes(self, buf: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], ...]:
        return _i420(buf, self.w, self.h)

    def paste(self, rgb: Frame, box: tuple[int, int, int, int]) -> None:
        """The rgb frame's pixels in ``box`` (x0, y0, x1, y1; widened to even edges) into the
        work planes."""
        import cv2

        x0, y0 = box[0] // 2 * 2, box[1] // 2 * 2
        x1, y1 = min(self.w, -(-box[2] // 2) * 2), min(self.h, -(-box[3] // 2) * 2)
        if x1 <= x0 or y1 <= y0:
            return
        sub = np.ascontiguousarray(rgb[y0:y1, x0:x1])
        part = np.asarray(cv2.cvtColor(sub, cv2.COLOR_RGB2YUV_I420), np.uint8)
        py, pu, pv = _i420(part, x1 - x0, y1 - y0)
        wy, wu, wv = self.planes(self.work)
        wy[y0:y1, x0:x1] = py
        wu[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pu
        wv[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = pv

    def move(self, map_x: F32, map_y: F32) -> None:
        import cv2

        x0, y0, x1, y1 = self.head
        src, dst = self.planes(self.work), self.planes(self.out)
        flags, border = cv2.INTER_LINEAR, cv2.BORDER_REPLICATE
        dst[0][y0:y1, x0:x1] = cv2.remap(src[0][y0:y1, x0:x1], map_x, map_y, flags,
                                         borderMode=border)  # fmt: skip
        for k in (1, 2):
            plane = src[k][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            dst[k][y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = cv2.remap(
                plane, self.map_x, self.map_y, flags, borderMode=border
            )


class PhotoAnimator(motion.Animator):
    """Animates one portrait for one shot; ``frames`` streams rgb24 bytes.

    The portrait is placed once (face centred; a blurred copy of the photo where it does not
    cover the frame). Per frame the mouth and (when blinking) the eyes are warped in place
    from fields built here, then a box around the head is resampled with ``cv2.remap``
    through a smooth field for head motion, breathing, brows and smile; the head's motion
    fades out around it, so the background beyond stays still.
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
        self.emotion = emotion
        self._curve = [(float(t), e, float(i)) for t, e, i in sorted(emotion_curve)]
        self._mood_keys = self._moods(emotion, emotion_curve)
        self._blinks = motion.Blinks(seed)
        phase = random.Random(f"sway:{seed}")
        self._sway_phase = (phase.uniform(0, 6.28), phase.uniform(0, 6.28), phase.uniform(0, 6.28))

        src = portrait.image
        m = min(width, height)
        fx, fy, fw, fh = portrait.face
        s = FACE_SHARE * m / max(1, fw)
        target = (width / 2.0, height * (0.38 if height > width * 1.15 else 0.45))
        ox = target[0] - s * (fx + fw / 2)
        oy = target[1] - s * (fy + fh / 2)
        k = s
        if s < 0.9:
            # warpAffine samples without averaging: shrinking a large photo through it aliases,
            # so it is shrunk by area first and only moved after.
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
        self._still: Frame = np.ascontiguousarray(fg)
        self._frame: Frame = self._still.copy()
        self._work: Frame = self._still.copy()  # the still with this frame's mouth and eyes

        pts = (portrait.points * s + np.array([ox, oy], np.float32)).astype(np.float32)
        self.points = pts
        cfw = float(np.ptp(pts[:, 0]))
        cfh = float(np.hypot(*(pts[lm.CHIN] - pts[lm.FOREHEAD])))
        self.face = (float(pts[:, 0].min()), float(pts[:, 1].min()), cfw, cfh)
        self._mouth = _Mouth(self._still, pts, cfh, cfw)
        self._eyes = [_Eye(pts, lm.EYE_UPPER[i], lm.EYE_LOWER[i], height, width) for i in range(2)]
        self.mouth_center = (float(self._mouth.ax.o[0]), float(self._mouth.ax.o[1]))

        # The head box: everything the head's motion may move, kept inside the frame.
        cfx, cfy = self.face[0], self.face[1]
        # Even edges, so the yuv420p frames can move it by whole chroma samples.
        self._x0 = max(0, math.floor(cfx - 0.7 * cfw) // 2 * 2)
        self._x1 = min(width, -(-math.ceil(cfx + 1.7 * cfw) // 2) * 2)
        self._y0 = max(0, math.floor(cfy - 0.6 * cfh) // 2 * 2)
        self._y1 = min(height, -(-math.ceil(cfy + 1.7 * cfh) // 2) * 2)
        rw, rh = self._x1 - self._x0, self._y1 - self._y0
        gx, gy = np.meshgrid(np.arange(rw, dtype=np.float32), np.arange(rh, dtype=np.float32))
        self._gx, self._gy = gx, gy
        self._map_x = np.empty_like(gx)
        self._map_y = np.empty_like(gy)

        # Smooth fields are made on a coarse grid and enlarged each frame.
        step = max(2, round(m / 120))
        lw, lh = max(4, math.ceil(rw / step)), max(4, math.ceil(rh / step))
        lx = (np.arange(lw, dtype=np.float32) + 0.5) * (rw / lw) + self._x0
        ly = (np.arange(lh, dtype=np.float32) + 0.5) * (rh / lh) + self._y0
        X, Y = np.meshgrid(lx, ly)
        hcx, hcy = cfx + cfw / 2, cfy + 0.5 * cfh
        d = np.sqrt(((X - hcx) / (0.8 * cfw)) ** 2 + ((Y - hcy) / (0.95 * cfh)) ** 2)
        head = 1.0 - _smoothstep(1.0, 1.5, d)
        # Nothing moves at the box's edges, so it joins the still frame without a seam.
        edge = np.minimum.reduce([X - self._x0, self._x1 - X, Y - self._y0, self._y1 - Y])
        head *= _smoothstep(0.0, 0.1 * cfw, edge)
        self._head = head.astype(np.float32)
        self._head_rx = ((X - hcx) * head).astype(np.float32)  # rotation about the face centre
        self._head_ry = ((Y - hcy) * head).astype(np.float32)
        mcx, mcy = self.mouth_center
        hw = float(np.hypot(*(pts[291] - pts[61]))) / 2
        corner = np.clip(np.abs(X - mcx) / (1.3 * hw), 0, 1) ** 2
        near_mouth = np.exp(-(((X - mcx) / (0.3 * cfw)) ** 2) - ((Y - mcy) / (0.08 * cfh)) ** 2)
        self._smile = (corner * near_mouth).astype(np.float32)
        brow = pts[list(lm.BROWS[0] + lm.BROWS[1])]
        bcx, bcy = float(brow[:, 0].mean()), float(brow[:, 1].mean())
        self._brow = np.exp(
            -(((X - bcx) / (0.4 * cfw)) ** 2) - ((Y - bcy) / (0.08 * cfh)) ** 2
        ).astype(np.float32)
        # What the last frame showed, for the debug overlay and the tests.
        self.last: dict[str, float | str] = {}
        self._yuv: _Yuv | None = None

    # ------------------------------------------------------------------ public

    @property
    def mouth_box(self) -> Box:
        """(x0, y0, x1, y1) frame pixels around the mouth and the jaw's travel."""
        pts = self.points[list(lm.LIPS_UPPER_OUTER + lm.LIPS_LOWER_OUTER)]
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return (
            math.floor(x0 - 2),
            math.floor(y0 - 2),
            math.ceil(x1 + 2),
            math.ceil(y1 + self._mouth.max_gap + 2),
        )

    @property
    def eyes_box(self) -> Box:
        """(x0, y0, x1, y1) frame pixels holding both eyes."""
        pts = self.points[[i for e in lm.EYE_UPPER + lm.EYE_LOWER for i in e]]
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        return (math.floor(x0), math.floor(y0), math.ceil(x1), math.ceil(y1))

    def blinks(self, until_s: float) -> list[float]:
        """The times blinks start, up to ``until_s``."""
        return self._blinks.starts(until_s)

    def _steps(
        self,
        visemes: Sequence[tuple[float, str]],
        n_frames: int,
        loudness: NDArray[np.float32] | None,
    ) -> Iterator[tuple[float, float, float]]:
        """Per frame: its time and the mouth's opening and width."""
        for _, t, shape in self._track(visemes, n_frames, loudness):
            yield t, float(shape[0]), float(shape[1])

    def _rgb_frame(self, t: float, jaw: float, width: float) -> Frame:  # type: ignore[override]
        return self.render(t, jaw, width)

    def _yuv_frame(self, t: float, jaw: float, width: float) -> NDArray[np.uint8]:  # type: ignore[override]
        return self.render_yuv(t, jaw, width)

    def openness(self, visemes: Sequence[tuple[float, str]], t: float) -> float:
        """How far the jaw is open at ``t`` (0..1), before loudness and the emotion's gain."""
        return float(motion.MouthTrack(visemes, self.fps).at(t)[0])

    # ------------------------------------------------------------------ per frame

    def render(self, t: float, jaw: float, width: float = 1.0) -> Frame:
        """The frame at ``t`` with the jaw ``jaw`` (0..1) open; the array is reused."""
        import cv2

        low_x, low_y = self._pose(t, jaw, width)
        rh, rw = self._gx.shape
        cv2.add(self._gx, cv2.resize(low_x, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_x)
        cv2.add(self._gy, cv2.resize(low_y, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_y)
        region = self._work[self._y0 : self._y1, self._x0 : self._x1]
        self._frame[self._y0 : self._y1, self._x0 : self._x1] = cv2.remap(
            region, self._map_x, self._map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        return self._frame

    def render_yuv(self, t: float, jaw: float, width: float = 1.0) -> NDArray[np.uint8]:
        """``render`` as a yuv420p frame, (height * 3 / 2, width); the array is reused."""
        import cv2

        if self._yuv is None:
            self._yuv = _Yuv(self._still, (self._x0, self._y0, self._x1, self._y1))
        yuv = self._yuv
        low_x, low_y = self._pose(t, jaw, width)
        for box in (self._mouth.box, *(e.box for e in self._eyes)):
            yuv.paste(self._work, box)
        rh, rw = self._gx.shape
        cv2.add(self._gx, cv2.resize(low_x, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_x)
        cv2.add(self._gy, cv2.resize(low_y, (rw, rh), interpolation=cv2.INTER_LINEAR), self._map_y)
        ch, cw = yuv.grid_x.shape
        # Chroma is half the size: half the displacement, on its own grid.
        cv2.scaleAdd(cv2.resize(low_x, (cw, ch), interpolation=cv2.INTER_LINEAR), 0.5,
                     yuv.grid_x, yuv.map_x)  # fmt: skip
        cv2.scaleAdd(cv2.resize(low_y, (cw, ch), interpolation=cv2.INTER_LINEAR), 0.5,
                     yuv.grid_y, yuv.map_y)  # fmt: skip
        yuv.move(self._map_x, self._map_y)
        return yuv.out

    def _pose(self, t: float, jaw: float, width: float) -> tuple[F32, F32]:
        """Draw this frame's mouth and eyes into the work frame; the head's motion, brows and
        smile as coarse (x, y) displacement fields over the head box."""
        mood = self._mood(t)
        openness = max(0.0, min(1.2, jaw * mood.open_gain))
        closed = 1.0 - (1.0 - self._blinks.closed(t)) * min(1.0, mood.eye_open)
        cfw, cfh = self.face[2], self.face[3]
        p = self._sway_phase
        sway = mood.sway
        hx = sway * 0.010 * cfw * (math.sin(0.9 * t + p[0]) + 0.4 * math.sin(2.3 * t + p[1]))
        hy = sway * 0.005 * cfh * math.sin(0.7 * t + p[2]) + 0.005 * cfh * motion.breath(t)
        ang = sway * 0.010 * math.sin(0.5 * t + p[1])
        self.last.update(openness=openness, emotion=self._emotion_name(t), eyes_closed=closed)

        self._mouth.draw(self._still, self._work, openness * self._mouth.max_gap, width)
        for eye in self._eyes:
            if closed > 0.02:
                eye.draw(self._still, self._work, closed)
            else:
                x0, y0, x1, y1 = eye.box
                self._work[y0:y1, x0:x1] = self._still[y0:y1, x0:x1]

        low_x: F32 = (-hx * self._head + ang * self._head_ry).astype(np.float32)
        low_y: F32 = (
            -hy * self._head
            - ang * self._head_rx
            + (0.03 * mood.smile * cfh) * self._smile
            + (0.025 * mood.brow * cfh) * self._brow
        ).astype(np.float32)
        return low_x, low_y

    # ------------------------------------------------------------------ emotion

    def _emotion_name(self, t: float) -> str:
        if not self._curve:
            return self.emotion
        k = max(0, sum(1 for kt, _, _ in self._curve if kt <= t) - 1)
        _, name, intensity = self._curve[k]
        return f"{name} {intensity:.2f}"

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
        return motion.follow(self._mood_keys, t, Mood.mix)


def visemes_from_audio(path: Path, fps: int) -> tuple[list[tuple[float, str]], float]:
    """A viseme timeline from loudness alone, and the audio's duration: for callers with audio
    but no phoneme timings (the RunPod worker's offline fallback). Louder opens wider."""
    level = motion.loudness(path, fps)
    out: list[tuple[float, str]] = []
    for i, v in enumerate(level):
        name = "aa" if v > 0.8 else "E" if v > 0.6 else "nn" if v > 0.35 else "sil"
        if not out or out[-1][1] != name:
            out.append((i / fps, name))
    return out, len(level) / fps
