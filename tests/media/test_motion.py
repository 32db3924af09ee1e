"""The motion model both animators share: coarticulation, the loudness scaling the opening
(the drawn avatar's mouth follows it too), blinks and the eased emotion curve."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np

from personaforge.core.specs import Look
from personaforge.media import motion
from personaforge.media.avatar import AvatarAnimator

FPS = 25


def test_the_lips_anticipate_the_next_sound() -> None:
    track = motion.MouthTrack([(0.0, "sil"), (0.5, "aa")], FPS)
    assert track.at(0.2)[0] == 0.0
    assert 0.0 < track.at(0.48)[0] < 1.0  # 20 ms before "aa": half way there
    assert math.isclose(track.at(0.6)[0], 1.0) and track.name_at(0.6) == "aa"


def test_loudness_scales_the_opening_within_a_viseme() -> None:
    loud = np.array([0.0] * 10 + [1.0] * 10, np.float32)
    track = motion.MouthTrack([(0.0, "aa")], FPS, loud)
    quiet, full = track.at(0.1)[0], track.at(0.6)[0]
    assert math.isclose(quiet, motion.LOUD_FLOOR) and math.isclose(full, motion.LOUD_MAX)


def _tone(path: Path, envelope: list[float], rate: int = 16000) -> Path:
    """A 220 Hz tone whose level follows ``envelope`` (one value per 0.1 s)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        n = int(len(envelope) * 0.1 * rate)
        w.writeframes(b"".join(
            struct.pack("<h", int(20000 * envelope[int(i / rate / 0.1)]
                                  * math.sin(2 * math.pi * 220 * i / rate)))
            for i in range(n)
        ))  # fmt: skip
    return path


def test_loudness_per_frame_follows_the_audio(tmp_path: Path) -> None:
    env = [0.0, 0.0, 1.0, 1.0, 0.1, 0.1, 0.5, 0.5, 0.0, 0.0]
    level = motion.loudness(_tone(tmp_path / "t.wav", env), FPS, 25)
    per_step = [float(level[round(i * 2.5) + 1]) for i in range(10)]
    assert per_step[2] > 0.9 and per_step[0] < 0.05 and per_step[4] < per_step[6] < per_step[2]


def test_the_drawn_avatars_opening_follows_the_loudness() -> None:
    visemes = [(0.0, "aa")]  # one long open vowel: only the loudness changes
    loud = np.array([0.2] * 12 + [1.0] * 12, np.float32)
    anim = AvatarAnimator(Look(), 160, 90, FPS, seed=1)
    frames = [np.frombuffer(f, np.uint8).reshape(90, 160, 3)
              for f in anim.frames(visemes, 24, loud)]  # fmt: skip
    x0, y0, x1, y1 = anim.mouth_box
    dark = [int((f[y0:y1, x0:x1].mean(axis=2) < 70).sum()) for f in frames]
    assert dark[18] > 1.5 * dark[6] > 0  # the louder half opens the mouth wider


def test_blinks_and_emotion_curve_are_shared() -> None:
    blinks = motion.Blinks(4)
    starts = blinks.starts(10.0)
    assert starts == motion.Blinks(4).starts(10.0) and len(starts) >= 2
    assert blinks.closed(starts[0] + motion.BLINK_S / 2) == 1.0 and blinks.closed(0.0) == 0.0
    keys = [(0.0, 0.0), (1.0, 1.0)]
    mix = lambda a, b, k: a + (b - a) * k  # noqa: E731
    assert motion.follow(keys, 0.5, mix) == 0.0  # held until the ramp before the next key
    assert 0.0 < motion.follow(keys, 0.8, mix) < 1.0 and motion.follow(keys, 1.2, mix) == 1.0
