"""The RunPod serverless worker PersonaForge ships (deploy/runpod): audio and a face in (by URL),
a lip-synced clip out (PUT to a presigned URL). It runs LatentSync when its code and weights are
on the worker, and otherwise the offline photo animator, and always says which one ran.

Run on RunPod as ``python -m personaforge.worker.runpod_handler``; locally, add
``--rp_serve_api --rp_api_port 8000`` for the runpod SDK's test API (``POST /runsync``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from personaforge.backends.cloud import download, upload
from personaforge.core.suffixes import IMAGE_SUFFIXES
from personaforge.errors import PersonaForgeError

# Where the worker image keeps LatentSync (its repository, with checkpoints/ inside).
LATENTSYNC_DIR_ENV = "LATENTSYNC_DIR"
DEFAULT_LATENTSYNC_DIR = "/opt/LatentSync"
_WEIGHTS = ("checkpoints/latentsync_unet.pt", "checkpoints/whisper/tiny.pt")


def latentsync_home(env: Mapping[str, str] | None = None) -> Path | None:
    """LatentSync's folder if its inference script and weights are all there, else None."""
    env = os.environ if env is None else env
    home = Path(env.get(LATENTSYNC_DIR_ENV) or DEFAULT_LATENTSYNC_DIR)
    needed = [home / "scripts" / "inference.py", *(home / w for w in _WEIGHTS)]
    return home if all(p.is_file() for p in needed) else None


def _report(job: Mapping[str, Any], message: str, fraction: float) -> None:
    # progress_update posts to RunPod's job webhook, which only exists on RunPod itself.
    if os.environ.get("RUNPOD_WEBHOOK_POST_OUTPUT"):
        import runpod

        runpod.serverless.progress_update(dict(job), {"message": message, "progress": fraction})
    print(f"[{job.get('id', '?')}] {message}", file=sys.stderr, flush=True)


def _public(url: str) -> str:
    """The URL without its query string: a presigned URL's signature is a credential."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _need(inp: Mapping[str, Any], name: str, kind: type) -> Any:
    value = inp.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) or value in ("", 0):
        raise PersonaForgeError(f"input {name!r} is missing or not a {kind.__name__}")
    return value


def _portrait_from(face: Path, work: Path) -> Path:
    """A still for the photo animator: the image itself, or a video's first frame."""
    if face.suffix.lower() in IMAGE_SUFFIXES:
        return face
    import av

    try:
        with av.open(str(face)) as container:
            first = next(container.decode(video=0))
    except (OSError, StopIteration, av.error.FFmpegError) as exc:  # type: ignore[attr-defined]
        raise PersonaForgeError(f"cannot read the face video: {exc}") from None
    still = work / "face.png"
    first.to_image().save(still)
    return still


def _photo_clip(face: Path, audio: Path, out: Path, *, fps: int, size: tuple[int, int],
                frames: int | None, work: Path, face_box: Any = None) -> float:  # fmt: skip
    from personaforge.media import ffmpeg, motion
    from personaforge.media.photo import (
        PhotoAnimator,
        decode_image,
        load_portrait,
        portrait_at,
        visemes_from_audio,
    )

    visemes, duration = visemes_from_audio(audio, fps)
    n = frames or max(1, round(duration * fps))
    still = _portrait_from(face, work)
    if face_box is not None:
        # The caller knows where the face is (it framed it): no detection to go wrong.
        if not (isinstance(face_box, list) and len(face_box) == 4):
            raise PersonaForgeError("input 'face_box' must be [x, y, width, height]")
        try:
            rgb = decode_image(still)
        except ValueError as exc:
            raise PersonaForgeError(str(exc)) from None
        portrait = portrait_at(rgb, tuple(int(v) for v in face_box))  # type: ignore[arg-type]
    else:
        # A face framed in a clip of the shot's size may be small in a preview: the animator
        # keeps its scale, so any face the cascade finds will do.
        portrait = load_portrait(still, min_face=24)
    animator = PhotoAnimator(portrait, *size, fps)
    mux = [
        "-i", str(audio), "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast",
        "-crf", "18", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-shortest",
        "-movflags", "+faststart",
    ]  # fmt: skip
    ffmpeg.encode_frames(
        animator.frames(visemes, n, motion.loudness(audio, fps, n)),
        width=size[0],
        height=size[1],
        fps=fps,
        out_args=mux,
        out=out,
        n_frames=n,
        what="encoding the clip failed",
    )
    return n / fps


def _latentsync_clip(home: Path, face: Path, audio: Path, out: Path, *, fps: int,
                     size: tuple[int, int], frames: int | None, work: Path,
                     face_box: Any = None) -> float:  # fmt: skip
    from personaforge.media.probe import probe

    video = face
    if face.suffix.lower() in IMAGE_SUFFIXES:
        # LatentSync re-renders the mouth of a video: a still becomes a clip first.
        _photo_clip(face, audio, work / "idle_with_audio.mp4", fps=fps, size=size,
                    frames=frames, work=work, face_box=face_box)  # fmt: skip
        video = work / "idle_with_audio.mp4"
    config = os.environ.get("LATENTSYNC_UNET_CONFIG", "configs/unet/stage2.yaml")
    cmd = [
        sys.executable, "-m", "scripts.inference",
        "--unet_config_path", config,
        "--inference_ckpt_path", str(home / _WEIGHTS[0]),
        "--inference_steps", os.environ.get("LATENTSYNC_STEPS", "20"),
        "--guidance_scale", os.environ.get("LATENTSYNC_GUIDANCE", "1.5"),
        "--video_path", str(video), "--audio_path", str(audio), "--video_out_path", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=home, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not out.is_file():
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PersonaForgeError(f"LatentSync failed: {tail[0]}")
    return probe(out).duration_s


def handler(job: dict[str, Any]) -> dict[str, Any]:
    """One RunPod job. Input: ``audio_url``, ``face_url`` (an image or a video), ``fps``,
    ``width``, ``height``, ``result_put_url``; optional ``frames``, ``face_box`` ([x, y, w, h]
    of the face in the face media's pixels: skips detection), ``engine`` ("auto",
    "latentsync" or "photo"). Output: ``output_url``, ``duration_s``, ``engine``, ``note``."""
    inp = job.get("input") or {}
    try:
        audio_url = _need(inp, "audio_url", str)
        face_url = _need(inp, "face_url", str)
        put_url = _need(inp, "result_put_url", str)
        fps = int(_need(inp, "fps", int))
        size = (int(_need(inp, "width", int)), int(_need(inp, "height", int)))
        frames = int(inp["frames"]) if inp.get("frames") else None
        wanted = str(inp.get("engine") or "auto")
        home = latentsync_home()
        if wanted == "latentsync" and home is None:
            raise PersonaForgeError(
                f"LatentSync was asked for, but its weights are not on this worker "
                f"(looked in {os.environ.get(LATENTSYNC_DIR_ENV) or DEFAULT_LATENTSYNC_DIR})"
            )
        engine = "latentsync" if home is not None and wanted != "photo" else "photo"
        with tempfile.TemporaryDirectory(prefix="pf-worker-") as tmp:
            work = Path(tmp)
            suffix = Path(urlsplit(face_url).path).suffix.lower() or ".bin"
            face, audio, out = work / f"face{suffix}", work / "audio.wav", work / "out.mp4"
            _report(job, "downloading the inputs", 0.05)
            download(face_url, face, what="downloading the face")
            download(audio_url, audio, what="downloading the audio")
            _report(job, f"lip-syncing with {engine}", 0.2)
            if engine == "latentsync":
                assert home is not None
                duration = _latentsync_clip(home, face, audio, out, fps=fps, size=size,
                                            frames=frames, work=work,
                                            face_box=inp.get("face_box"))  # fmt: skip
            else:
                duration = _photo_clip(face, audio, out, fps=fps, size=size, frames=frames,
                                       work=work, face_box=inp.get("face_box"))  # fmt: skip
            _report(job, "uploading the clip", 0.9)
            upload(put_url, out, content_type="video/mp4", what="uploading the clip")
    except PersonaForgeError as exc:
        # One line, as the job's error: the caller shows it as the service's message. Not
        # str(exc): file and field name the worker's own temporary files, not the user's.
        return {"error": exc.message + (f" ({exc.hint})" if exc.hint else "")}
    note = (
        "LatentSync"
        if engine == "latentsync"
        else "offline photo animator (no LatentSync weights on this worker)"
        if wanted != "photo"
        else "offline photo animator (asked for)"
    )
    return {
        "output_url": _public(put_url),
        "duration_s": round(duration, 3),
        "engine": engine,
        "note": note,
    }


if __name__ == "__main__":
    import runpod

    runpod.serverless.start({"handler": handler})
