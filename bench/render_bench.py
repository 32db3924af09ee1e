"""Benchmark the render, side by side with a bare ffmpeg encode on the same machine.

For a video of ``--seconds`` (default 60) at ``--size`` (default 1920x1080) it prints:
- per quality (``--qualities``, default draft and master: video.yaml's ``quality:``), a full
  run (`make-video`, every stage, from scratch) against a bare encode of one still frame with
  the same narration, duration, burned captions and encoder settings: both times, their
  ratio and the sizes of both files;
- a one-sentence edit and re-run, as a percentage of the full run, and the share of the
  video's frames that edit had to encode again;
- with ``--repeat N`` (default 3) the full run, the bare encode and the edit are each run N
  times, in turn, and the best of each is compared;
- one run of ``--long`` seconds (default 600; 0 skips it) against the full runs' mean: the
  time ratio, and the peak memory of both (the Python process and its ffmpeg children).

Each measured job runs in a fresh process. `make bench` runs the defaults, which take a
while on a small machine; `--size 640x360 --seconds 20 --long 60` is a quick sanity check.
"""

from __future__ import annotations

import argparse
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
# Spoken at about 2.6 words a second by the packaged voice.
WORDS_PER_SECOND = 2.6
_SENTENCES = [
    "Every video starts with a script, and every script starts with an idea worth sharing.",
    "The planner splits the text into shots, one sentence or two at a time.",
    "A voice reads each shot aloud, and the words are timed as they are spoken.",
    "The avatar moves its lips with every sound, and blinks now and then.",
    "Captions follow the voice, one line or two, inside the safe area of the frame.",
    "Each shot is encoded once, and the finished video is joined without encoding it again.",
    "Change one sentence and only that shot is made again, which keeps edits quick.",
    "Music can play underneath, quietly, and it dips whenever someone speaks.",
]


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
        # Only this process's children are read (each thread's list of them), not every
        # process on the machine: the poll runs alongside what is measured, so it must cost
        # next to nothing.
        tasks = Path(f"/proc/{os.getpid()}/task")
        while not self._stop.wait(0.05):
            for children in tasks.glob("*/children"):
                try:
                    pids = children.read_text().split()
                except OSError:
                    continue
                for pid in pids:
                    try:
                        status = Path(f"/proc/{pid}/status").read_text()
                    except OSError:
                        continue
                    for line in status.splitlines():
                        if line.startswith("VmHWM:"):
                            self.peak_kb = max(self.peak_kb, int(line.split()[1]))

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
    if args[0] == "make-video":
        stages = json.loads(proc.stdout)["stages"]
        print(
            "  "
            + ", ".join(
                f"{name}: {v['status']}"
                + (f" ({v['reused_shots']}/{v['shots']} shots reused)" if v["shots"] else "")
                for name, v in stages.items()
            ),
            file=sys.stderr,
        )
    return result


_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def _number(n: int) -> str:
    """``n`` read digit by digit, always three of them ("zero one two").

    Every sentence is numbered so that none is a repeat the cache would reuse. The numbers
    are spelled the same way whatever the script's length: "Part 5" beside "Part one hundred
    and five" made the long script's sentences longer, and the voice's working memory grows
    with its longest sentence, so the long run measured longer sentences, not more of them.
    """
    return " ".join(_DIGITS[int(d)] for d in f"{n % 1000:03d}")


def script_for(seconds: float) -> str:
    """A Markdown script of about ``seconds`` of speech: a heading every ten sentences."""
    want = int(seconds * WORDS_PER_SECOND)
    lines, words, n = ["# Benchmark"], 0, 0
    while words < want:
        label = _number(n)
        sentence = _SENTENCES[n % len(_SENTENCES)].replace("idea", f"idea number {label}", 1)
        sentence = f"Part {label}: {sentence}"
        if n and n % 10 == 0:
            lines += ["", f"## Chapter {n // 10}", ""]
        lines.append(sentence)
        words += len(sentence.split())
        n += 1
    return "\n".join(lines) + "\n"


def _project(
    folder: Path, seconds: float, size: str, quality: str = "draft", *, photo: bool = False
) -> Path:
    folder.mkdir(parents=True)
    (folder / "script.md").write_text(script_for(seconds), encoding="utf-8")
    example = REPO / "examples" / ("photo" if photo else "hello")
    shutil.copy(example / "persona.yaml", folder / "persona.yaml")
    if photo:  # the photo persona: init's defaults pick the photo animator for its look
        shutil.copy(example / "portrait.jpg", folder / "portrait.jpg")
    (folder / "video.yaml").write_text(
        "schema_version: 1\ntitle: Benchmark\nscript: script.md\nformat: youtube\n"
        f"resolution: '{size}'\nquality: {quality}\npublish: {{target: local}}\n",
        encoding="utf-8",
    )
    return folder


def _bare_encode(project: Path, quality: str = "draft") -> tuple[dict[str, float], float]:
    """A bare encode of one still frame with the project's narration, duration, captions and
    encoder settings (``quality``'s, as the segments use them)."""
    import yaml
    from PIL import Image

    from personaforge.assets import fonts_dir
    from personaforge.captions.ass import to_ass
    from personaforge.captions.cues import Cue
    from personaforge.media.encoding import final_audio, final_video_args
    from personaforge.media.ffmpeg import ffmpeg_exe

    render = yaml.safe_load((project / "build/render.yaml").read_text())
    width, height, duration = render["width"], render["height"], render["duration_s"]
    work = project / "build" / "bench"
    work.mkdir(exist_ok=True)
    Image.new("RGB", (width, height), (27, 31, 59)).save(work / "still.png")
    cues = []
    for block in (project / render["captions_vtt"]["path"]).read_text().split("\n\n")[1:]:
        lines = block.strip().splitlines()
        start, _, end = lines[1].partition(" --> ")
        cues.append(Cue(_seconds(start), _seconds(end), tuple(lines[2:]), ()))
    ass = work / "captions.ass"
    ass.write_text(to_ass(cues, width=width, height=height), encoding="utf-8")
    narration = project / "build" / "render" / "narration.wav"
    video_args = final_video_args(quality, width, height, 30)  # type: ignore[arg-type]
    audio_rate = str(final_audio(quality)["b:a"])  # type: ignore[arg-type]
    figures = _measure([
        ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-loglevel", "error",
        "-loop", "1", "-framerate", "30", "-i", str(work / "still.png"), "-i", str(narration),
        "-vf", f"subtitles=filename={ass}:fontsdir={fonts_dir()},format=yuv420p",
        *video_args, "-c:a", "aac", "-b:a", audio_rate, "-ar", "48000", "-ac", "2",
        "-t", f"{duration:.3f}", "-movflags", "+faststart", str(work / "baseline.mp4"),
    ])  # fmt: skip
    figures["mb"] = (work / "baseline.mp4").stat().st_size / 1e6
    return figures, duration


def _video_mb(project: Path) -> float:
    return sum(p.stat().st_size for p in (project / "build").glob("*.mp4")) / 1e6


def _seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def _edit_one_sentence(project: Path) -> None:
    """Reword the sentence in the middle of the script."""
    script = project / "script.md"
    lines = script.read_text(encoding="utf-8").splitlines()
    spoken = [i for i, line in enumerate(lines) if line.startswith("Part ")]
    middle = spoken[len(spoken) // 2]
    lines[middle] = lines[middle].replace(":", ", edited for the benchmark:", 1)
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _segments(project: Path) -> dict[str, int]:
    """The video's segments as the lipsync stage recorded them: frames by key."""
    import yaml

    recorded = yaml.safe_load((project / "build" / "lipsync.yaml").read_text(encoding="utf-8"))
    return {segment["key"]: segment["frames"] for segment in recorded["segments"]}


def _all(runs: list[dict[str, float]]) -> str:
    times = ", ".join(f"{run['seconds']:.2f}" for run in runs)
    return f"  (runs: {times})" if len(runs) > 1 else ""


def _mem(figures: dict[str, float]) -> str:
    return f"peak python {figures['python_mb']:.0f} MB, peak ffmpeg {figures['children_mb']:.0f} MB"


def _print_quality(
    quality: str, fulls: list[dict[str, float]], bares: list[dict[str, float]]
) -> None:
    full = min(fulls, key=lambda r: r["seconds"])
    bare = min(bares, key=lambda r: r["seconds"])
    print(f"quality: {quality}")
    print(f"  full run (make-video, all stages): {full['seconds']:7.2f} s  {full['mb']:7.1f} MB  "
          f"{_mem(full)}{_all(fulls)}")  # fmt: skip
    print(f"  bare encode (still + captions):    {bare['seconds']:7.2f} s  {bare['mb']:7.1f} MB  "
          f"{_mem(bare)}{_all(bares)}")  # fmt: skip
    print(f"  ratio full / bare:                 {full['seconds'] / bare['seconds']:7.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--long", type=float, default=600.0, help="0 skips the long run")
    parser.add_argument(
        "--qualities", default="draft,master",
        help="video.yaml qualities to time (the edit and the long run use the first)",
    )  # fmt: skip
    parser.add_argument(
        "--repeat", type=int, default=3,
        help="runs of the full run, the bare encode and the edit, taken in turn; the best of "
        "each is compared (a shared machine's speed drifts by 10-20%% within minutes)",
    )  # fmt: skip
    parser.add_argument(
        "--photo", action=argparse.BooleanOptionalAction, default=True,
        help="also a photo persona (examples/photo's portrait) from scratch",
    )  # fmt: skip
    opts = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    repeat = max(1, opts.repeat)
    qualities = opts.qualities.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        fulls, bares, edits = [], [], []
        for k in range(repeat):
            # Each full run starts from scratch, in a project of its own.
            project = _project(Path(tmp) / f"short{k}", opts.seconds, opts.size, qualities[0])
            fulls.append({**_measure(["make-video", str(project)]), "mb": _video_mb(project)})
            bare, duration = _bare_encode(project, qualities[0])
            bares.append(bare)
            before = _segments(project)
            _edit_one_sentence(project)
            edits.append(_measure(["make-video", str(project)]))
            after = _segments(project)
            # The frames the edit had to encode again: its share of the video bounds how
            # small a share of a full run the edit can be.
            redone = sum(frames for key, frames in after.items() if key not in before)
            total = sum(after.values())
        full, bare, edit = (min(runs, key=lambda r: r["seconds"]) for runs in (fulls, bares, edits))
        best = f"best of {repeat}" if repeat > 1 else "one run"
        print(f"machine: {cores} cores; video: {opts.size}, {duration:.1f} s; {best}")
        _print_quality(qualities[0], fulls, bares)
        for quality in qualities[1:]:
            q_fulls, q_bares = [], []
            for k in range(repeat):
                q_project = _project(Path(tmp) / f"{quality}{k}", opts.seconds, opts.size, quality)
                run = _measure(["make-video", str(q_project)])
                q_fulls.append({**run, "mb": _video_mb(q_project)})
                q_bares.append(_bare_encode(q_project, quality)[0])
            _print_quality(quality, q_fulls, q_bares)
        print(
            f"one-sentence edit:                 {edit['seconds']:7.2f} s  "
            f"= {100 * edit['seconds'] / full['seconds']:.1f}% of the full run{_all(edits)}"
        )
        print(f"frames the edit encoded again:     {redone:7d} of {total} "
              f"= {100 * redone / total:.1f}% of the video's frames")  # fmt: skip
        if opts.photo:
            # The photo persona from scratch, against the same bare encode (same narration).
            folders = [Path(tmp) / f"photo{k}" for k in range(repeat)]
            photos = [
                _measure(
                    [
                        "make-video",
                        str(_project(f, opts.seconds, opts.size, qualities[0], photo=True)),
                    ]
                )
                for f in folders
            ]
            photo = min(photos, key=lambda r: r["seconds"])
            print(f"photo persona full run:            {photo['seconds']:7.2f} s  {_mem(photo)}"
                  f"{_all(photos)}")  # fmt: skip
            print(f"ratio photo / bare:                {photo['seconds'] / bare['seconds']:7.2f}x")
            from photo_bench import per_frame_ms

            w, h = (int(v) for v in opts.size.split("x"))
            ms = {name: per_frame for name, (_, per_frame) in per_frame_ms(w, h, 150).items()}
            print(f"animators at {opts.size}:           photo {ms['photo']:.2f} ms/frame, "
                  f"avatar {ms['avatar']:.2f} ms/frame (frames only, no encoding)")  # fmt: skip
        if opts.long > 0:
            long_project = _project(Path(tmp) / "long", opts.long, opts.size, qualities[0])
            long = _measure(["make-video", str(long_project)])
            print(
                f"long run ({opts.long:.0f} s of script):      {long['seconds']:7.2f} s  "
                f"{_mem(long)}"
            )
            # One long run against the short runs' mean: against their best, the one long
            # run would be compared with the luckiest short one.
            mean = sum(run["seconds"] for run in fulls) / len(fulls)
            # Against the smallest peak of the short runs: the growth is not understated.
            growth = ", ".join(
                f"{name} {long[key] - min(run[key] for run in fulls):+.0f} MB"
                for name, key in (("python", "python_mb"), ("ffmpeg", "children_mb"))
            )
            print(f"peak memory, long - short:         {growth} (against the short runs' least)")
            print(
                f"time ratio long / short:           {long['seconds'] / mean:7.2f}x "
                f"for {opts.long / opts.seconds:.1f}x the script (against the full runs' mean, "
                f"{mean:.2f} s)"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        _child(sys.argv[2:])
    else:
        main()
