"""The one place PersonaForge runs ffmpeg: argument lists, `-progress` parsing, typed errors."""

from __future__ import annotations

import contextlib
import errno
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from personaforge import interrupts
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import os_problem
from personaforge.progress import NullProgress, Progress

_NOISE = ("frame=", "size=", "Press [q]", "  built with", "  configuration:", "  lib")


class FFmpegError(PersonaForgeError):
    """ffmpeg failed; carries the command line and the useful lines of its stderr."""

    def __init__(self, message: str, *, cmd: Sequence[str], stderr: str) -> None:
        self.cmd = list(cmd)
        self.stderr = stderr
        useful = [
            ln.strip() for ln in stderr.splitlines() if ln.strip() and not ln.startswith(_NOISE)
        ]
        # ffmpeg names the cause first; later lines are the consequences ("Terminating...").
        cause = useful[0] if useful else "no output"
        super().__init__(f"{message}: {cause}", hint="rerun with --verbose for the full ffmpeg log")

    def details(self) -> str:
        return "$ " + shlex.join(self.cmd) + "\n" + self.stderr


def ffmpeg_exe() -> str:
    """ffmpeg from $PERSONAFORGE_FFMPEG, else the binary bundled with imageio-ffmpeg."""
    return _ffmpeg_exe(os.environ.get("PERSONAFORGE_FFMPEG") or "")


# Keyed on the override, so a process that runs the CLI more than once (the tests, a worker)
# follows a changed $PERSONAFORGE_FFMPEG.
@lru_cache(maxsize=4)
def _ffmpeg_exe(override: str) -> str:
    if override:
        if not Path(override).is_file():
            raise PersonaForgeError(
                f"PERSONAFORGE_FFMPEG points at {override}, which does not exist",
                hint="unset it to use the bundled ffmpeg",
            )
        return override
    try:
        import imageio_ffmpeg
    except ImportError:  # pragma: no cover - a core dependency
        raise PersonaForgeError(
            "ffmpeg not found", hint="pip install imageio-ffmpeg or set PERSONAFORGE_FFMPEG"
        ) from None
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def ffmpeg_version() -> str:
    out = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-version"], capture_output=True, text=True, check=False
    ).stdout
    return out.splitlines()[0] if out else "unknown"


def _base_args(*, stdin: bool = False, loglevel: str = "error") -> list[str]:
    # -nostdin stops ffmpeg from eating the terminal's keys; frame piping needs stdin.
    return [
        ffmpeg_exe(),
        "-hide_banner",
        *([] if stdin else ["-nostdin"]),
        "-y",
        "-loglevel",
        loglevel,
    ]


@contextlib.contextmanager
def _supervised(
    cmd: list[str],
    *,
    what: str,
    progress: Progress,
    task: str,
    total: float | None,
    log: list[str] | None = None,
    **popen: Any,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ffmpeg; on exit wait for it, kill it if the caller failed or was interrupted, and
    turn a non-zero exit into an FFmpegError carrying its stderr (appended to ``log`` on
    success, for callers that read a filter's report)."""
    with tempfile.TemporaryFile() as err:
        progress.start(task, total=total)
        proc: subprocess.Popen[bytes] | None = None
        try:
            # Python raises an interrupt as soon as a call returns, before its result is
            # stored, and subprocess starts the child before it hears that exec worked: an
            # interrupt then left ffmpeg running with no handle to stop it.
            with interrupts.deferred():
                proc = subprocess.Popen(cmd, stderr=err, **popen)
            yield proc
            rc = proc.wait()
        except BaseException:
            if proc is not None:
                proc.kill()
                proc.wait()
            raise
        finally:
            progress.finish()
        if rc != 0:
            err.seek(0)
            text = err.read().decode("utf-8", "replace")
            if "No space left on device" in text or "File too large" in text:
                # A full disk is the user's to fix, not ffmpeg's failure: the usual one line.
                code = errno.ENOSPC if "No space" in text else errno.EFBIG
                raise os_problem(OSError(code, os.strerror(code)), _output_of(cmd)) from None
            raise FFmpegError(what, cmd=cmd, stderr=text)
        if log is not None:
            err.seek(0)
            log.append(err.read().decode("utf-8", "replace"))


# Inputs and outputs that are not files: ffmpeg's pipes, stdin/stdout, and what a format reads
# from its own description (lavfi's "color=...", anullsrc).
_NOT_FILES = ("pipe:", "-")
_DESCRIBED = {"lavfi"}


def _file_arg(arg: str, cwd: Path | None) -> str:
    if arg in _NOT_FILES or arg.startswith(_NOT_FILES[0]) or arg.startswith("file:"):
        return arg
    # Absolute: a name such as "-x/clip.mp4" is no longer read as an option, nor "a:b/x.mp4"
    # as a protocol (ffmpeg only looks for one in a leading run of letters before a colon).
    return os.path.abspath(os.path.join(cwd, arg) if cwd is not None else arg)


def safe_paths(args: Sequence[str], cwd: Path | None = None) -> list[str]:
    """``args`` with every file ffmpeg reads (``-i X``) or writes (the last argument) made
    absolute, whatever the project's folder is called: this module's one rule for paths."""
    out = list(args)
    fmt: str | None = None  # the -f before the next -i
    for i, arg in enumerate(out[:-1]):
        if arg == "-f":
            fmt = out[i + 1]
        elif arg == "-i":
            if fmt not in _DESCRIBED:
                out[i + 1] = _file_arg(out[i + 1], cwd)
            fmt = None
    if out:
        # ffmpeg's last argument is always the output (a trailing option is an error).
        out[-1] = _file_arg(out[-1], cwd)
    return out


def _output_of(cmd: Sequence[str]) -> str:
    """The file an ffmpeg command writes: its last argument, by how this module builds them."""
    last = cmd[-1] if cmd else "."
    return last.removeprefix("file:")


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    duration_s: float | None = None,
    progress: Progress | None = None,
    task: str = "ffmpeg",
    what: str = "ffmpeg failed",
    report: bool = False,
) -> str:
    """Run ffmpeg with ``args`` (after the global options); report progress by output time.

    With ``report`` ffmpeg logs at info level and its stderr is returned (a measuring filter
    such as loudnorm prints its findings there); otherwise "" is returned.
    """
    cmd = [*_base_args(loglevel="info" if report else "error"), "-progress", "pipe:1", "-nostats",
           *safe_paths(args, cwd)]  # fmt: skip
    progress = progress or NullProgress()
    log: list[str] = []
    with _supervised(
        cmd, what=what, progress=progress, task=task, total=duration_s, log=log,
        cwd=cwd, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        assert proc.stdout is not None
        for raw in proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and value.isdigit() and duration_s:
                progress.update(min(duration_s, int(value) / 1e6))
    return "".join(log) if report else ""


def encode_frames(
    frames: Iterable[bytes],
    *,
    width: int,
    height: int,
    fps: int,
    out_args: Sequence[str],
    out: Path,
    n_frames: int | None = None,
    progress: Progress | None = None,
    task: str = "encoding frames",
    what: str = "encoding frames failed",
) -> None:
    """Stream raw rgb24 frames into ffmpeg's stdin; never holds more than one frame."""
    args = [
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", str(fps),
        "-i", "pipe:0", *out_args, str(out),
    ]  # fmt: skip
    pipe_frames(frames, args, n_frames=n_frames, progress=progress, task=task, what=what)


def as_yuv420p(frames: Iterable[bytes], width: int, height: int) -> Iterator[bytes]:
    """rgb24 frames as yuv420p (BT.601, limited range: what ffmpeg's own conversion gives),
    converted with OpenCV: several times faster than swscale's rgb24 path, and half the bytes
    through the pipe. Needs an even width and height."""
    import cv2
    import numpy as np

    if width % 2 or height % 2:
        raise ValueError(f"yuv420p needs an even frame size, not {width}x{height}")
    out = np.empty((height * 3 // 2, width), np.uint8)
    for frame in frames:
        rgb = np.frombuffer(frame, np.uint8).reshape(height, width, 3)
        cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420, dst=out)
        yield out.tobytes()


def pipe_frames(
    frames: Iterable[bytes],
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    n_frames: int | None = None,
    progress: Progress | None = None,
    task: str = "encoding frames",
    what: str = "encoding frames failed",
) -> None:
    """Run ffmpeg with ``args`` (whose input is ``pipe:0``) and stream ``frames`` into it,
    one at a time, so memory stays flat however long the shot."""
    cmd = [*_base_args(stdin=True), *safe_paths(args, cwd)]
    progress = progress or NullProgress()
    with _supervised(
        cmd, what=what, progress=progress, task=task, total=n_frames,
        cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
    ) as proc:  # fmt: skip
        assert proc.stdin is not None
        try:
            for frame in frames:
                proc.stdin.write(frame)
                progress.advance(1)
        except BrokenPipeError:
            pass  # ffmpeg stopped reading: its exit status and stderr say why
        with contextlib.suppress(BrokenPipeError):
            proc.stdin.close()
