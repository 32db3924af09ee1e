"""Benchmark: render examples/hello at 1080p against a bare ffmpeg encode of a still image with
the same audio, duration and burned captions, measured in the same run. Prints both times,
their ratio and the peak memory of each (Python process and its ffmpeg children)."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


class _ChildPeak:
    """Polls the peak resident size (VmHWM) of this process's child processes.

    getrusage(RUSAGE_CHILDREN) can't be used: Linux carries the parent's peak across fork and
    exec, so every ffmpeg would look as large as the Python process that started it.
    """

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.02):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    status = Path(f"/proc/{entry}/status").read_text()
                except OSError:
                    continue
                fields = dict(ln.split(":", 1) for ln in status.splitlines() if ":" in ln)
                if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                    self.peak_kb = max(self.peak_kb, int(fields["VmHWM"].split()[0]))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_kb / 1024


def _child(argv: list[str]) -> None:
    """Run one measured job in this fresh process and print its figures as JSON."""
    peak = _ChildPeak()
    t0 = time.perf_counter()
    if argv[0] == "make-video":
        from personaforge.cli.main import main

        try:
            main(["--quiet", "make-video", argv[1], "--no-publish", "--json"])
        except SystemExit as exc:
            if exc.code:
                raise
    else:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - t0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = peak.stop()
    print(json.dumps({"seconds": elapsed, "python_mb": own, "children_mb": kids}), file=sys.stderr)


def _measure(args: list[str]) -> dict[str, float]:
    proc = subprocess.run(
        [sys.executable, __file__, "_child", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"benchmark job failed: {args[:2]}\n{proc.stderr[-2000:]}")
    result: dict[str, float] = json.loads(proc.stderr.strip().splitlines()[-1])
    return result


def main() -> None:
    from PIL import Image

    from personaforge.assets import fonts_dir
    from personaforge.media.ffmpeg import ffmpeg_exe
    from personaforge.media.probe import probe

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp) / "hello"
        shutil.copytree(
            REPO / "examples" / "hello",
            project,
            ignore=shutil.ignore_patterns("build", "published"),
        )
        ours = _measure(["make-video", str(project)])
        render = json.loads(
            json.dumps(__import__("yaml").safe_load((project / "build/render.yaml").read_text()))
        )
        video = project / render["video"]["path"]
        info = probe(video)
        work = project / "build" / "render"
        Image.new("RGB", (info.width or 1920, info.height or 1080), (27, 31, 59)).save(
            work / "still.png"
        )
        still, narration, ass = work / "still.png", work / "narration.wav", work / "captions.ass"
        base = _measure([
            ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
            "-loop", "1", "-framerate", "30", "-i", str(still), "-i", str(narration),
            "-vf", f"subtitles=filename={ass}:fontsdir={fonts_dir()},format=yuv420p",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "aac", "-ar", "48000",
            "-t", f"{info.duration_s:.3f}", "-movflags", "+faststart", str(work / "baseline.mp4"),
        ])  # fmt: skip
        print(f"video: {info.width}x{info.height}, {info.duration_s:.2f}s")
        print(
            f"personaforge make-video (all stages): {ours['seconds']:.2f}s, "
            f"peak python {ours['python_mb']:.1f} MB, peak ffmpeg {ours['children_mb']:.1f} MB"
        )
        print(
            f"baseline still-image encode:         {base['seconds']:.2f}s, "
            f"peak ffmpeg {base['children_mb']:.0f} MB"
        )
        print(f"ratio (ours / baseline): {ours['seconds'] / base['seconds']:.1f}x")
        print(
            f"realtime factor (ours): {ours['seconds'] / info.duration_s:.2f}x the video's length"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
    else:
        main()
