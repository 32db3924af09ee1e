"""The contract every lip-sync backend keeps, one shared test class run against each backend
with its own fixture (the cloud ones against their local API servers): through the stage's
``render_clip``, a talking shot becomes exactly the shot's frames, size and rate, silent, and
what it cost comes back as a list of billing records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import pytest
from cloudfakes import ReplicateFake, RunPodFake, serve
from lipsync_helpers import make_request, make_setup, returned_clip, write_audio

from personaforge.backends.base import LipsyncBackend
from personaforge.costs import Billing
from personaforge.media.probe import probe
from personaforge.progress import NullProgress
from personaforge.stages.parts.faces import render_clip

SIZE = (480, 270)
FRAMES = 24


class LipsyncContract:
    """Subclasses give a ``backend`` fixture: (backend, project folder)."""

    def test_a_shot_becomes_exactly_its_frames_silent(
        self, backend: tuple[LipsyncBackend, Path]
    ) -> None:
        animator, root = backend
        audio = write_audio(root / "speech.wav", seconds=FRAMES / 30)
        out = root / "clip.mp4"
        billing = render_clip(
            animator, make_request(frames=FRAMES, size=SIZE), audio, out, NullProgress()
        )
        info = probe(out)
        assert (info.width, info.height, info.fps) == (*SIZE, 30.0)
        assert info.audio_codec is None
        with av.open(str(out)) as container:
            assert sum(1 for _ in container.decode(video=0)) == FRAMES
        assert isinstance(billing, list) and all(isinstance(b, Billing) for b in billing)

    def test_name_and_version_key_the_cache(self, backend: tuple[LipsyncBackend, Path]) -> None:
        animator, _ = backend
        assert animator.name and animator.version and "@" not in animator.name


class TestAvatar(LipsyncContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> tuple[LipsyncBackend, Path]:
        from personaforge.backends.lipsync.avatar import AvatarLipsync

        return AvatarLipsync(), tmp_path


class TestPhoto(LipsyncContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> tuple[LipsyncBackend, Path]:
        from personaforge.backends.lipsync.photo import PhotoLipsync

        return PhotoLipsync.from_setup(make_setup(tmp_path, {})), tmp_path


class TestSadTalker(LipsyncContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[tuple[LipsyncBackend, Path]]:
        pytest.importorskip("replicate")
        from personaforge.backends.lipsync.sadtalker import SadTalkerLipsync

        api = ReplicateFake(token="r8_contract", clip=returned_clip(tmp_path / "r.mp4"))
        with serve(api) as server:
            api.base = server.url
            env = {"REPLICATE_API_TOKEN": "r8_contract", "REPLICATE_BASE_URL": server.url,
                   "PERSONAFORGE_RETRY_SCALE": "0.001"}  # fmt: skip
            yield SadTalkerLipsync.from_setup(make_setup(tmp_path, env)), tmp_path


class TestLatentSync(LipsyncContract):
    @pytest.fixture
    def backend(
        self, tmp_path: Path, moto_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[tuple[LipsyncBackend, Path]]:
        pytest.importorskip("runpod")
        from personaforge.backends.lipsync.latentsync import LatentSyncLipsync
        from personaforge.worker import runpod_handler

        monkeypatch.setenv("LATENTSYNC_DIR", str(tmp_path / "none"))
        api = RunPodFake(api_key="rpa_contract", endpoint="ep", handler=runpod_handler.handler)
        with serve(api) as server:
            env: dict[str, Any] = {
                "RUNPOD_API_KEY": "rpa_contract", "RUNPOD_ENDPOINT_ID": "ep",
                "RUNPOD_ENDPOINT_BASE_URL": server.url + "/v2", "R2_ENDPOINT": moto_endpoint,
                "R2_ACCESS_KEY": "a", "R2_SECRET_KEY": "b", "R2_BUCKET": bucket,
                "PERSONAFORGE_RETRY_SCALE": "0.001",
            }  # fmt: skip
            yield LatentSyncLipsync.from_setup(make_setup(tmp_path, env)), tmp_path
