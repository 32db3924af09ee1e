"""A clip-returning lip-sync backend (a cloud one): its clip is decoded into the shot's one
final encode, and cached apart, so a caption change never pays the backend again."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
import yaml
from helpers import run_cli, write_project

from personaforge.backends.base import AnimationRequest
from personaforge.core.project import Project
from personaforge.media.ffmpeg import ffmpeg_exe
from personaforge.progress import Progress
from personaforge.runtime.common import Context
from personaforge.runtime.graph import run_stage
from personaforge.stages import lipsync

pytestmark = pytest.mark.slow


class ClipBackend:
    """Returns whatever a model might: another size and rate, with sound, a frame short."""

    name = "fake-cloud"
    version = "1"

    def __init__(self) -> None:
        self.calls = 0

    def render(self, request: AnimationRequest, audio: Path, out: Path, progress: Progress) -> None:
        self.calls += 1
        seconds = (request.frames - 1) / request.fps
        subprocess.run(
            [ffmpeg_exe(), "-v", "error", "-y",
             "-f", "lavfi", "-i", f"testsrc2=s=200x150:r=25:d={seconds:.3f}",
             "-f", "lavfi", "-i", f"sine=d={seconds:.3f}",
             "-pix_fmt", "yuv420p", "-f", "mp4", str(out)],
            check=True,
        )  # fmt: skip


def _lipsync(folder: Path, fake: ClipBackend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lipsync, "backend", lambda ctx, **_: fake)
    run_stage("lipsync", Context.load(Project.open(folder)))


def test_a_clip_backend_feeds_the_segment_and_is_paid_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_project(tmp_path / "p", "A sentence for the cloud model to animate.\n")
    assert run_cli("plan", str(folder), "--quiet").returncode == 0
    assert run_cli("speak", str(folder), "--quiet").returncode == 0
    fake = ClipBackend()
    _lipsync(folder, fake, monkeypatch)
    manifest = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    (shot,) = manifest["shots"]
    with av.open(str(folder / shot["clip"])) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (320, 180)
        assert not container.streams.audio
        assert sum(1 for _ in container.decode(stream)) == shot["frames"]
    assert fake.calls == 1
    # A new caption style: the segment is encoded again, the backend is not asked again.
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "captions: {style: boxed}\n")
    _lipsync(folder, fake, monkeypatch)
    again = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    assert again["shots"][0]["clip"] != shot["clip"]
    assert fake.calls == 1
