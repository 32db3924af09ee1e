"""Helpers for tests: read real properties of rendered media (PyAV and the bundled ffmpeg)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import av
import numpy as np

from personaforge.media.ffmpeg import ffmpeg_exe


def count_frames(path: Path) -> int:
    """The number of video frames in ``path``, decoded (not the header's claim)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def frame_at(path: Path, t: float) -> np.ndarray:
    """The decoded RGB frame shown at time ``t`` seconds."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        best = None
        for frame in container.decode(stream):
            if frame.time is not None and frame.time > t + 1e-3:
                break
            best = frame
        assert best is not None, f"no frame at {t}s in {path}"
        return best.to_ndarray(format="rgb24")


def integrated_loudness(path: Path) -> float:
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
         "-af", "ebur128", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    values = re.findall(r"I:\s+(-?[\d.]+) LUFS", proc.stderr)
    assert values, proc.stderr[-500:]
    return float(values[-1])


def loudness_and_true_peak(path: Path) -> tuple[float, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of the audio, by ffmpeg's ebur128."""
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-i", str(path), "-map", "0:a",
         "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    summary = proc.stderr[proc.stderr.rfind("Summary:") :]
    loud = re.search(r"I:\s+(-?[\d.]+) LUFS", summary)
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    assert loud and peak, proc.stderr[-800:]
    return float(loud[1]), float(peak[1])


def moov_before_mdat(path: Path) -> bool:
    """True if the file is 'faststart': its index comes before the media data."""
    with open(path, "rb") as fh:
        offset = 0
        while True:
            header = fh.read(8)
            if len(header) < 8:
                return False
            size = int.from_bytes(header[:4], "big")
            kind = header[4:8]
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            if size == 1:
                size = int.from_bytes(fh.read(8), "big")
                fh.seek(offset + size)
            else:
                fh.seek(offset + size)
            offset += size


class LipMeter:
    """The inner lips' gap (px) in rendered frames, read by the landmark model on each frame
    turned upright about the mouth first.

    The model reads a tilted mouth with a bias of its own: the as-shot portrait's open mouth,
    turned by -15 degrees, reads 8.8 px against 9.8 px upright (12.5 px at +15), and a shut
    one 2.2 against 1.9. Turning each frame upright by the face's own roll (from the
    animator's landmarks) reads every framing on the same scale.
    """

    def __init__(self, points: np.ndarray, center: tuple[float, float]) -> None:
        import cv2

        from personaforge.media import landmarks as lm

        self._lm = lm
        roll = lm.Face(points.astype(np.float32), 1.0).roll_deg
        self._m = cv2.getRotationMatrix2D(center, roll, 1.0)
        up = cv2.transform(points[None].astype(np.float32), self._m)[0]
        (x0, y0), (x1, y1) = up.min(axis=0), up.max(axis=0)
        self._box = (round(x0), round(y0), round(x1 - x0), round(y1 - y0))

    def gap(self, frame: np.ndarray) -> float:
        import cv2

        h, w = frame.shape[:2]
        upright = cv2.warpAffine(
            frame, self._m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
        )
        face = self._lm.landmarks_in(upright, self._box)
        assert face.score > 0.5
        return float(np.hypot(*(face.points[14] - face.points[13])))
