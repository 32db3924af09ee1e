"""The offline photo lip-sync backend: animates the persona's portrait per viseme on the CPU."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from personaforge.backends.base import AnimationRequest, LipsyncBackend, LipsyncSetup
from personaforge.backends.lipsync.frames import encode_clip
from personaforge.errors import PersonaForgeError
from personaforge.media import motion, overlay
from personaforge.media.photo import PhotoAnimator, Portrait, load_portrait
from personaforge.progress import Progress

FACES_DIR = "faces"  # build/faces/<portrait sha256>.json: the landmarks found in a portrait


class PhotoLipsync(LipsyncBackend):
    name = "photo"
    version = "2"  # 2: face landmarks, a warped mouth whose opening follows the loudness

    def __init__(self, setup: LipsyncSetup | None = None) -> None:
        self.setup = setup

    @classmethod
    def from_setup(cls, setup: LipsyncSetup) -> PhotoLipsync:
        backend = cls(setup)
        backend.portrait()  # a bad portrait fails when the backend is chosen, before any work
        return backend

    def portrait(self, request: AnimationRequest | None = None) -> Portrait:
        setup = self.setup
        photo = setup.photo if setup else None
        if photo is None and request is not None and request.look.photo:
            photo = Path(request.look.photo)
        if photo is None:
            raise PersonaForgeError(
                "the photo lip-sync needs a portrait",
                file=setup.persona_file if setup else None,
                field="look.photo",
                hint="add look: {photo: portrait.jpg} to persona.yaml",
            )
        return load_portrait(
            photo,
            persona=setup.persona_file if setup else None,
            line=setup.photo_line if setup else None,
            # Beside the job journal in build/: the landmarks are found once per portrait.
            cache_dir=setup.jobs.parent / FACES_DIR if setup else None,
        )

    def animator(self, request: AnimationRequest) -> PhotoAnimator:
        return PhotoAnimator(
            self.portrait(request),
            request.width,
            request.height,
            request.fps,
            emotion=request.emotion,
            emotion_curve=request.emotion_curve,
            seed=request.seed,
        )

    def frames(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        level = motion.loudness(audio, request.fps, request.frames) if audio.is_file() else None
        anim = self.animator(request)
        frames = anim.frames(request.visemes, request.frames, level)
        debug = overlay.DebugInfo.of(request.extra)
        if debug is None:
            return frames
        w, h, fps = request.width, request.height, request.fps
        return overlay.overlaid(frames, w, h, fps, debug, anim.last, anim.points)

    def frames_yuv420p(self, request: AnimationRequest, audio: Path) -> Iterator[bytes]:
        if overlay.DebugInfo.of(request.extra) is not None:
            return overlay.to_yuv420p(self.frames(request, audio), request.width, request.height)
        level = motion.loudness(audio, request.fps, request.frames) if audio.is_file() else None
        return self.animator(request).frames_yuv420p(request.visemes, request.frames, level)

    def render(self, request: AnimationRequest, audio: Path, out: Path, progress: Progress) -> None:
        encode_clip(self, request, audio, out, progress)
