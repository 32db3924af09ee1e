"""Real portraits for the tests, made offline: scikit-image's public-domain NASA portrait
(the astronaut) and the framings a creator brings, made from it (tilt, glasses and a beard
drawn from its own landmarks, a tight crop, padding, a phone photo with a small face)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from personaforge.media import landmarks as lm
from personaforge.media.photo import load_portrait

Frame = NDArray[np.uint8]


def astronaut() -> Frame:
    from skimage import data  # a dev dependency, not shipped

    return np.asarray(data.astronaut(), np.uint8)


def save(img: Frame, path: Path) -> Path:
    Image.fromarray(img).save(path, quality=92)
    return path


def tilted(img: Frame, deg: float) -> Frame:
    import cv2

    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), deg, 1.0)
    return np.asarray(cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT), np.uint8)


def on_canvas(img: Frame, size: tuple[int, int], scale: float, at: tuple[int, int]) -> Frame:
    """``img`` scaled by ``scale`` on a plain grey canvas of ``size`` (w, h), its corner ``at``."""
    import cv2

    w, h = size
    canvas = np.full((h, w, 3), (118, 112, 104), np.uint8)
    small = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    x, y = at
    canvas[y : y + small.shape[0], x : x + small.shape[1]] = small
    return canvas


_POINTS: list[NDArray[np.float64]] = []


def _points(img: Frame) -> NDArray[np.float64]:
    """The astronaut's landmarks, found once (where the glasses and the beard go)."""
    if not _POINTS:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            _POINTS.append(load_portrait(save(img, Path(tmp) / "a.jpg")).points)
    return _POINTS[0]


def _with_glasses(img: Frame, size: float = 1.0, rim: int = 2) -> Frame:
    """Dark-rimmed glasses drawn on: a rim round each eye and a bridge;
    ``size`` times an ordinary lens, rims ``rim`` px thick."""
    import cv2

    pts, out = _points(img), img.copy()
    centres = []
    for upper, lower in zip(lm.EYE_UPPER, lm.EYE_LOWER, strict=True):
        eye = pts[list(upper + lower)]
        (x0, y0), (x1, y1) = eye.min(axis=0), eye.max(axis=0)
        c = (round((x0 + x1) / 2), round((y0 + y1) / 2))
        # A lens about 1.5 eye-widths wide and one tall, as ordinary glasses have.
        axes = (round((x1 - x0) * 0.75 * size), round((x1 - x0) * 0.5 * size))
        cv2.ellipse(out, c, axes, 0, 0, 360, (25, 22, 20), rim, cv2.LINE_AA)
        centres.append((c, axes))
    (c0, a0), (c1, a1) = sorted(centres)
    cv2.line(out, (c0[0] + a0[0], c0[1]), (c1[0] - a1[0], c1[1]), (25, 22, 20), rim, cv2.LINE_AA)
    return out


def _with_beard(img: Frame) -> Frame:
    """A dark, grainy beard over the jaw and chin, the lips left bare."""
    import cv2

    pts, out = _points(img), img.copy()
    oval = list(lm.FACE_OVAL)
    jaw = pts[oval[oval.index(361) : oval.index(132) + 1]]  # cheek to cheek, under the chin
    mouth_line = pts[[291, 287, 18, 57, 61]] + [0, 6]  # from corner to corner, under the lip
    beard = np.zeros(img.shape[:2], np.uint8)
    cv2.fillPoly(beard, [np.vstack([jaw, mouth_line]).round().astype(np.int32)], 255)
    lips = pts[list(lm.LIPS_UPPER_OUTER + lm.LIPS_LOWER_OUTER[::-1])].round().astype(np.int32)
    cv2.fillPoly(beard, [lips], 0)
    grain = np.random.default_rng(5).integers(0, 40, img.shape[:2])
    hair = np.stack([60 + grain, 45 + grain, 35 + grain], axis=2).astype(np.uint8)
    alpha = cv2.GaussianBlur(beard, (5, 5), 0)[..., None] / 255.0
    return np.asarray(out * (1 - alpha) + hair * alpha, np.uint8)


FRAMINGS = {
    "as shot": lambda im: im,
    "glasses": _with_glasses,
    # Oversized frames with thick rims: the Haar cascade finds no face behind them.
    "thick glasses": lambda im: _with_glasses(im, size=1.15, rim=6),
    "beard": _with_beard,
    "tilted +15": lambda im: tilted(im, 15),
    "tilted -15": lambda im: tilted(im, -15),
    "cropped tight": lambda im: im[40:260, 120:330],
    "padded": lambda im: np.pad(im, ((200, 40), (300, 60), (0, 0)), mode="edge"),
    # A phone photo: 4000 px wide, the face small and off-centre.
    "4000 px, small face": lambda im: on_canvas(im, (4000, 3000), 1.6, (2900, 1700)),
}
