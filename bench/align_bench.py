"""Bench: align a 10-minute take offline (the take made by the tests' method, espeak-ng word by
word, sentences repeated with uneven pauses) and print the time against the take's length and
the peak memory. Target: at most 10% of the take's duration on 2 cores.

    .venv/bin/python bench/align_bench.py [minutes]
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from narration_takes import make_take

from personaforge.backends.align.offline import OfflineAligner
from personaforge.media.ffmpeg import ffmpeg_exe

LINES = [
    "Welcome to the show about the deep ocean.",
    "Today we look at how whales talk across hundreds of miles.",
    "Their songs travel far because sound moves quickly in water.",
    "Scientists record them with microphones on the sea floor.",
    "Each song can last for twenty minutes or more.",
    "Nobody knows exactly what the songs mean.",
]


def main() -> None:
    minutes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    sentences: list[str] = []
    take = make_take(LINES, noise_after=None)
    per = take.duration_s
    reps = max(1, round(minutes * 60 / per))
    sentences = LINES * reps
    take = make_take(sentences, noise_after=None)
    with tempfile.TemporaryDirectory() as tmp:
        wav = take.write(Path(tmp) / "take.wav")
        small = Path(tmp) / "take16.wav"
        subprocess.run([ffmpeg_exe(), "-loglevel", "error", "-i", str(wav), "-ac", "1",
                        "-ar", "16000", str(small)], check=True)  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        aligner = OfflineAligner()
        aligner.voice.synthesize("Ready.")  # the voice loads once per process, not per take
        t0, c0 = time.perf_counter(), time.process_time()
        aligned = aligner.align(small, sentences)
        took, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    firsts = [abs(s.words[0].start - take.onsets[k][0]) for k, s in enumerate(aligned.sentences)]
    print(f"take {take.duration_s / 60:.1f} min, {len(sentences)} sentences")
    print(f"aligned in {took:.1f} s = {100 * took / take.duration_s:.1f}% of its duration "
          f"(CPU {cpu:.1f} s: {100 * cpu / take.duration_s:.1f}%; on a busy machine the wall "
          "time counts others' work)")  # fmt: skip
    print(f"peak memory {peak / 1024:.0f} MB (before aligning {before / 1024:.0f} MB)")
    print(f"first words: max error {max(firsts) * 1000:.0f} ms, "
          f"within 100 ms: {sum(f <= 0.1 for f in firsts)}/{len(firsts)}")  # fmt: skip
    worst = sorted(range(len(firsts)), key=lambda k: -firsts[k])[:5]
    print("worst:", ", ".join(f"#{k} {firsts[k] * 1000:.0f} ms" for k in worst))


if __name__ == "__main__":
    main()
