"""Face landmarks for photo personas: MediaPipe's Face Mesh model (468 points, shipped in this
package) run with LiteRT, on candidate faces from OpenCV's Haar cascade; cached by the
portrait's hash so a portrait is analysed once."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from personaforge.errors import PersonaForgeError

F32 = NDArray[np.float32]
Box = tuple[int, int, int, int]  # x, y, width, height

# Bumped when anything that changes the points found changes: cached results are keyed on it.
VERSION = "mediapipe-face_landmark-0.10.21/2"  # /2: the model scans where the cascade finds none
MODEL = "face_landmark.tflite"
_INPUT = 192  # the model's square input, in pixels
_DETECT_MAX_SIDE = 1024  # the cascade runs on a copy no larger than this
_FACE_SCORE = 0.5  # the model's own "this is a face" probability, below which a box is dropped
_TILTS = (0.0, 15.0, -15.0, 25.0, -25.0)  # the cascade only finds upright faces; try these too

# Face Mesh indices (the canonical 468-point topology).
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
# Each eye from its outer to its inner corner; the viewer's left eye first.
EYE_UPPER = (
    (33, 246, 161, 160, 159, 158, 157, 173, 133),
    (263, 466, 388, 387, 386, 385, 384, 398, 362),
)
EYE_LOWER = (
    (33, 7, 163, 144, 145, 153, 154, 155, 133),
    (263, 249, 390, 373, 374, 380, 381, 382, 362),
)
BROWS = ((70, 63, 105, 66, 107), (300, 293, 334, 296, 336))
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
NOSE_TIP, SUBNASALE, FOREHEAD, CHIN = 1, 2, 10, 152


@dataclass(frozen=True)
class Face:
    """One face's 468 landmarks in the photo's pixels (x, y; z is dropped) and the model's
    confidence that the crop held a face."""

    points: F32  # (468, 2)
    score: float

    @property
    def box(self) -> Box:
        """Forehead to chin, cheek to cheek."""
        x0, y0 = self.points.min(axis=0)
        x1, y1 = self.points.max(axis=0)
        return (round(x0), round(y0), round(x1 - x0), round(y1 - y0))

    @property
    def width(self) -> float:
        return float(np.ptp(self.points[:, 0]))

    @property
    def roll_deg(self) -> float:
        """How far the head is tilted in the picture (+: clockwise on screen)."""
        a, b = self.points[33], self.points[263]
        return math.degrees(math.atan2(float(b[1] - a[1]), float(b[0] - a[0])))


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null for a moment (native code writes there directly)."""
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _Model:
    """The landmark model, loaded once per process (LiteRT interpreters are not thread-safe)."""

    _lock = threading.Lock()
    _instance: _Model | None = None

    def __init__(self) -> None:
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            raise PersonaForgeError(
                "photo personas need the LiteRT runtime (ai-edge-litert)",
                hint="pip install 'ai-edge-litert>=2.3' (none for Intel Macs: use a drawn look)",
            ) from None
        data = resources.files("personaforge.media").joinpath("models").joinpath(MODEL).read_bytes()
        self.it = Interpreter(model_content=data, num_threads=1)
        with _quiet_stderr():
            # The runtime says "INFO: Created TensorFlow Lite XNNPACK delegate" on the process's
            # stderr, where our errors are one line each.
            self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]["index"]
        outs = {tuple(o["shape"]): o["index"] for o in self.it.get_output_details()}
        self.pts_out = outs[(1, 1, 1, 1404)]
        self.flag_out = outs[(1, 1, 1, 1)]

    @classmethod
    def get(cls) -> _Model:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def run(self, crop: F32) -> tuple[F32, float]:
        with self._lock:
            self.it.set_tensor(self.inp, crop[None])
            self.it.invoke()
            pts = np.array(self.it.get_tensor(self.pts_out), np.float32).reshape(468, 3)[:, :2]
            logit = float(np.array(self.it.get_tensor(self.flag_out)).reshape(-1)[0])
        return pts, 1.0 / (1.0 + math.exp(-logit))


def _roi_landmarks(
    rgb: NDArray[np.uint8], center: tuple[float, float], side: float, angle_deg: float
) -> tuple[F32, float]:
    """Run the model on a square of ``side`` px around ``center``, turned by ``angle_deg``;
    the points come back in the photo's pixels."""
    import cv2

    k = _INPUT / side
    m = cv2.getRotationMatrix2D(center, angle_deg, k)
    m[0, 2] += _INPUT / 2 - center[0]
    m[1, 2] += _INPUT / 2 - center[1]
    crop = cv2.warpAffine(
        rgb, m, (_INPUT, _INPUT), flags=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
    )  # fmt: skip
    pts, score = _Model.get().run(crop.astype(np.float32) / 255.0)
    inv = cv2.invertAffineTransform(m)
    out = pts @ inv[:, :2].T + inv[:, 2]
    return out.astype(np.float32), score


def landmarks_in(rgb: NDArray[np.uint8], box: Box, angle_deg: float = 0.0) -> Face:
    """The face whose cascade box is ``box``: a first guess, then twice more on a square fitted
    to the points found, turned upright by the eyes (as MediaPipe's own pipeline tracks)."""
    x, y, w, h = box
    center = (x + w / 2, y + h * 0.55)
    side = 1.7 * max(w, h)
    pts, score = _roi_landmarks(rgb, center, side, angle_deg)
    for _ in range(2):
        face = Face(pts, score)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        center = (float(x0 + x1) / 2, float(y0 + y1) / 2)
        side = 1.5 * float(max(x1 - x0, y1 - y0))
        pts, score = _roi_landmarks(rgb, center, side, face.roll_deg)
    return Face(pts, score)


@functools.lru_cache(maxsize=1)
def _cascade() -> object:
    import cv2

    data = getattr(cv2, "data", None)
    folder = getattr(data, "haarcascades", None)
    if not folder:
        raise PersonaForgeError(
            "this OpenCV has no Haar cascades (cv2.data.haarcascades)",
            hint="pip install 'opencv-python-headless<5'",
        )
    return cv2.CascadeClassifier(str(Path(folder) / "haarcascade_frontalface_default.xml"))


def _candidates(rgb: NDArray[np.uint8]) -> Iterator[list[tuple[Box, float]]]:
    """Batches of candidate faces (box in the photo's pixels, the tilt it was found at), from
    the cheapest look to the dearest: the caller stops at the first batch the model confirms."""
    import cv2

    cascade = _cascade()
    h, w = rgb.shape[:2]
    full = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    # A small face in a large photo is lost at the first size: look again at twice it.
    sides = [_DETECT_MAX_SIDE] + ([2 * _DETECT_MAX_SIDE] if max(h, w) > _DETECT_MAX_SIDE else [])
    for tilt in _TILTS:
        for side in sides:
            k = min(1.0, side / max(h, w))
            gray = full
            if k < 1.0:
                gray = cv2.resize(full, (round(w * k), round(h * k)), interpolation=cv2.INTER_AREA)
            # Equalising helps a dim photo and hurts a face on a plain background: both.
            for img in (gray, cv2.equalizeHist(gray)):
                found = _detect(cascade, np.asarray(img, np.uint8), k, tilt)
                if found:
                    yield found


def _detect(
    cascade: object, gray: NDArray[np.uint8], k: float, tilt: float
) -> list[tuple[Box, float]]:
    import cv2

    gh, gw = gray.shape
    m = cv2.getRotationMatrix2D((gw / 2, gh / 2), tilt, 1.0)
    img = gray if tilt == 0 else cv2.warpAffine(gray, m, (gw, gh), borderMode=cv2.BORDER_REPLICATE)
    boxes = cascade.detectMultiScale(  # type: ignore[attr-defined]
        img, scaleFactor=1.1, minNeighbors=5, minSize=(24, 24)
    )
    inv = cv2.invertAffineTransform(m)
    found: list[tuple[Box, float]] = []
    for bx, by, bw, bh in (tuple(int(v) for v in b) for b in boxes):
        cx, cy = inv @ np.array([bx + bw / 2, by + bh / 2, 1.0])
        box = (round((cx - bw / 2) / k), round((cy - bh / 2) / k), round(bw / k), round(bh / k))
        found.append((box, -tilt))
    return found


# Where the cascade proposes nothing the model is asked itself, on a grid of squares of these
# shares of the photo's short side (with overlap): the cascade's Haar features miss faces
# whose eyes are hidden, by thick dark glasses rims say, that the landmark model still reads.
_SCAN_SIDES = (0.3, 0.45, 0.65)
_SCAN_STEP = 0.4  # of the square's side
_SCAN_SCORE = 0.9  # a square the model is this sure of is a face to refine


def _scanned(rgb: NDArray[np.uint8]) -> list[tuple[Box, float]]:
    """Face boxes the landmark model finds in a grid of squares (about 70 runs of it)."""
    h, w = rgb.shape[:2]
    short = min(h, w)
    found: list[tuple[Box, float]] = []
    for share in _SCAN_SIDES:
        side = share * short
        step = _SCAN_STEP * side
        for cy in np.arange(side / 2, h - side / 2 + 1, step):
            for cx in np.arange(side / 2, w - side / 2 + 1, step):
                pts, score = _roi_landmarks(rgb, (float(cx), float(cy)), side, 0.0)
                if score >= _SCAN_SCORE:
                    face = Face(pts, score)
                    found.append((face.box, face.roll_deg))
    return found


def _proposals(rgb: NDArray[np.uint8]) -> Iterator[list[tuple[Box, float]]]:
    yield from _candidates(rgb)
    yield _scanned(rgb)  # only when no cascade proposal was a face


def find_faces(rgb: NDArray[np.uint8]) -> list[Face]:
    """Every face the model confirms, largest first; overlapping finds of one face merged."""
    for batch in _proposals(rgb):
        faces: list[Face] = []
        for box, tilt in sorted(batch, key=lambda bt: -bt[0][2]):
            cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
            if any(_inside(cx, cy, f.box) for f in faces):
                continue
            face = landmarks_in(rgb, box, tilt)
            if face.score < _FACE_SCORE:
                continue
            fcx, fcy = face.points.mean(axis=0)
            if any(_inside(float(fcx), float(fcy), f.box) for f in faces):
                continue
            faces.append(face)
        if faces:
            return sorted(faces, key=lambda f: -f.width)
    return []


# The largest copy a photo is enlarged to when looking for a face too small to animate: the
# cascade finds faces from 24 px of its copy, so a face of ~15 px in a 700 px photo is named.
_SMALL_SEARCH_SIDE = 2048
_SMALL_SEARCH_MAX_GAIN = 4.0


def find_small_faces(rgb: NDArray[np.uint8]) -> list[Face]:
    """Faces too small for ``find_faces``, looked for on an enlarged copy (only after it found
    none, to say how small the face is rather than that there is none); points in the photo's
    pixels."""
    import cv2

    h, w = rgb.shape[:2]
    gain = min(_SMALL_SEARCH_MAX_GAIN, _SMALL_SEARCH_SIDE / max(h, w))
    if gain <= 1.5:
        return []
    big = np.asarray(
        cv2.resize(rgb, None, fx=gain, fy=gain, interpolation=cv2.INTER_CUBIC), np.uint8
    )
    return [Face((f.points / gain).astype(np.float32), f.score) for f in find_faces(big)]


def _inside(x: float, y: float, box: Box) -> bool:
    bx, by, bw, bh = box
    return bx <= x <= bx + bw and by <= y <= by + bh


def cached_faces(rgb: NDArray[np.uint8], digest: str, cache_dir: Path | None) -> list[Face]:
    """``find_faces``, read from ``cache_dir/<digest>.json`` when this analyser wrote it."""
    path = cache_dir / f"{digest}.json" if cache_dir is not None and digest else None
    if path is not None and path.is_file():
        try:
            data = json.loads(path.read_text())
            if data.get("version") == VERSION:
                return [
                    Face(np.array(f["points"], np.float32).reshape(-1, 2), float(f["score"]))
                    for f in data["faces"]
                ]
        except (ValueError, KeyError, TypeError):
            pass  # a damaged cache entry is found again
    faces = find_faces(rgb)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        record = {
            "version": VERSION,
            "faces": [{"score": f.score, "points": np.round(f.points, 2).tolist()} for f in faces],
        }
        tmp.write_text(json.dumps(record))
        os.replace(tmp, path)
    return faces
