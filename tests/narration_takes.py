"""Recorded takes for the narration tests, made on this machine by another engine than the
offline voice (espeak-ng or flite, from Debian's packages), word by word, so every word's onset
is known exactly; with uneven pauses, a filler ("um") and a noise burst between sentences."""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RATE = 22050


def engines() -> list[str]:
    return [e for e in ("espeak-ng", "flite") if shutil.which(e)]


def _say(engine: str, text: str, voice: str) -> np.ndarray:
    if engine == "espeak-ng":
        cmd = ["espeak-ng", "-v", voice or "en-us+f3", "-s", "165", "--stdout", text]
        data = subprocess.run(cmd, check=True, capture_output=True).stdout
    else:
        cmd = ["flite", "-voice", voice or "slt", "-t", text, "-o", "/dev/stdout"]
        data = subprocess.run(cmd, check=True, capture_output=True).stdout
    with wave.open(io.BytesIO(data), "rb") as w:
        rate = w.getframerate()
        # espeak-ng writes an unknown length into the header when it writes to a pipe.
        raw = data[44:] if w.getnframes() in (0, 0x7FFFFFFF) else w.readframes(w.getnframes())
    x = np.frombuffer(raw[: len(raw) // 2 * 2], dtype="<i2").astype(np.float32) / 32768.0
    if rate != RATE:
        t = np.arange(int(len(x) * RATE / rate)) * (rate / RATE)
        x = np.interp(t, np.arange(len(x)), x).astype(np.float32)
    return _trim(x)


def _trim(x: np.ndarray, threshold: float = 0.02) -> np.ndarray:
    loud = np.flatnonzero(np.abs(x) > threshold)
    if len(loud) == 0:
        return x[:0]
    return x[max(0, loud[0] - 40) : loud[-1] + 40]


@dataclass
class Take:
    samples: np.ndarray  # float32 mono at RATE
    onsets: list[list[float]] = field(default_factory=list)  # per sentence, each word's onset
    ends: list[list[float]] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / RATE

    def write(self, path: Path) -> Path:
        pcm = (np.clip(self.samples, -1, 1) * 32767).astype("<i2").tobytes()
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(pcm)
        return path


PAUSES = (0.9, 0.45, 1.4, 0.6, 1.1, 0.5)  # uneven pauses after each sentence


def make_take(
    sentences: Sequence[str],
    *,
    engine: str = "espeak-ng",
    voice: str = "",
    lead_s: float = 0.8,
    filler_after: int | None = 0,
    noise_after: int | None = 1,
    seed: int = 1,
    gaps: tuple[float, float] = (0.03, 0.09),
) -> Take:
    """Say ``sentences`` word by word with ``engine``; an "um" in the pause after sentence
    ``filler_after``, a burst of noise in the pause after ``noise_after``."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = [np.zeros(int(lead_s * RATE), np.float32)]
    t = lead_s
    take = Take(np.zeros(0, np.float32))

    def add(x: np.ndarray) -> None:
        nonlocal t
        parts.append(x.astype(np.float32))
        t += len(x) / RATE

    for k, sentence in enumerate(sentences):
        onsets, ends = [], []
        for word in sentence.split():
            x = _say(engine, word, voice)
            onsets.append(round(t, 3))
            add(x)
            ends.append(round(t, 3))
            add(np.zeros(int(rng.uniform(*gaps) * RATE), np.float32))
        take.onsets.append(onsets)
        take.ends.append(ends)
        pause = PAUSES[k % len(PAUSES)]
        if k == filler_after:
            add(np.zeros(int(0.35 * RATE), np.float32))
            add(_say(engine, "um", voice) * 0.8)
            add(np.zeros(int(pause * RATE), np.float32))
        elif k == noise_after:
            add(np.zeros(int(0.3 * RATE), np.float32))
            add(rng.normal(0, 0.05, int(0.15 * RATE)).astype(np.float32))
            add(np.zeros(int(pause * RATE), np.float32))
        else:
            add(np.zeros(int(pause * RATE), np.float32))
    add(np.zeros(int(0.7 * RATE), np.float32))
    # A quiet room: the take's silences are never digital zero.
    samples = np.concatenate(parts)
    take.samples = samples + rng.normal(0, 0.0015, len(samples)).astype(np.float32)
    return take
