"""Benchmark: milliseconds per frame of the offline animators at 1080p, the drawn avatar and the
photo animator (examples/photo's NASA portrait), on the same viseme timeline and loudness, in
the same run (frame generation only: no encoding). render_bench.py prints these too.
Usage: python bench/photo_bench.py [--frames N] [--size WxH]"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from personaforge.core.specs import Look  # noqa: E402
from personaforge.media.avatar import AvatarAnimator  # noqa: E402
from personaforge.media.photo import PhotoAnimator, load_portrait  # noqa: E402

FPS = 30
VISEMES = [(i * 0.09, ("aa", "sil", "O", "E", "PP", "SS", "U")[i % 7]) for i in range(400)]


def _time(make: Callable[[], Iterator[bytes]], frames: int) -> tuple[float, float]:
    """(set-up ms, ms per frame)."""
    t0 = time.perf_counter()
    it = make()
    first = next(it)  # set-up happens on the first frame for lazy animators
    t1 = time.perf_counter()
    n = 1
    for frame in it:
        n += 1
        assert len(frame) == len(first)
    t2 = time.perf_counter()
    return (t1 - t0) * 1000, (t2 - t1) * 1000 / max(1, n - 1)


def per_frame_ms(w: int, h: int, frames: int) -> dict[str, tuple[float, float]]:
    """(set-up ms, ms per frame) of each animator at ``w``x``h``."""
    import numpy as np

    portrait = load_portrait(REPO / "examples" / "photo" / "portrait.jpg")
    loud = (0.5 + 0.5 * np.sin(np.arange(frames) * 0.7)).astype(np.float32)
    runs = {
        "avatar": lambda: AvatarAnimator(Look(), w, h, FPS, seed=1).frames(VISEMES, frames, loud),
        "photo": lambda: PhotoAnimator(portrait, w, h, FPS, seed=1).frames(VISEMES, frames, loud),
    }
    return {name: _time(make, frames) for name, make in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--size", default="1920x1080")
    args = parser.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    print(f"{args.frames} frames at {w}x{h}, {FPS} fps")
    results = per_frame_ms(w, h, args.frames)
    for name, (setup_ms, per_frame) in results.items():
        print(f"{name:<7} {per_frame:6.2f} ms/frame   (set-up {setup_ms:6.0f} ms)")
    ratio = results["photo"][1] / results["avatar"][1]
    print(f"photo/avatar: {ratio:.2f}x")


if __name__ == "__main__":
    main()
