"""A photo persona end to end through the CLI: examples/photo renders offline with a mouth
that follows the speech, bad portraits are one-line errors, and the portrait is keyed by content."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from helpers import one_error_line, run_cli
from PIL import Image

from personaforge.media.photo import PhotoAnimator, load_portrait
from personaforge.media.probe import probe

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "photo"


@pytest.fixture
def photo_project(tmp_path: Path) -> Path:
    folder = tmp_path / "photo"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("build", "published"))
    video = folder / "video.yaml"
    video.write_text(video.read_text().replace("640x360", "320x180"))
    return folder


def test_the_photo_example_renders_and_the_mouth_follows_the_speech(photo_project: Path) -> None:
    proc = run_cli("make-video", str(photo_project), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    info = probe(photo_project / result["video"])
    assert (info.width, info.height) == (320, 180) and info.audio_codec == "aac"

    lipsync = yaml.safe_load((photo_project / "build" / "lipsync.yaml").read_text())
    assert lipsync["backend"] == "photo"  # the default for a photo look
    speech = yaml.safe_load((photo_project / "build" / "speech.yaml").read_text())
    talking = [
        (s, c) for s, c in zip(speech["shots"], lipsync["shots"], strict=True)
        if s["kind"] == "talking"
    ]  # fmt: skip
    assert talking
    spoken, clip = max(talking, key=lambda sc: sc[0]["frames"])
    visemes = [(v["t"], v["v"]) for v in spoken["visemes"]]
    anim = PhotoAnimator(load_portrait(photo_project / "portrait.jpg"), 320, 180, 30)
    x0, y0, x1, y1 = anim.mouth_box
    with av.open(str(photo_project / clip["clip"])) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == spoken["frames"]
    mouths = [f[y0:y1, x0:x1].astype(np.float32) for f in frames]
    rest = min(range(len(frames)), key=lambda i: anim.openness(visemes, i / 30))
    change = np.array([np.abs(m - mouths[rest]).mean() for m in mouths])
    openness = np.array([anim.openness(visemes, i / 30) for i in range(len(frames))])
    assert float(np.corrcoef(change, openness)[0, 1]) > 0.6


def test_a_portrait_without_a_face_is_one_line_naming_look_photo(photo_project: Path) -> None:
    Image.new("RGB", (640, 360), (90, 100, 120)).save(photo_project / "portrait.jpg")
    proc = run_cli("make-video", str(photo_project), "--no-publish")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "persona.yaml:" in line and "look.photo: no face found in 'portrait.jpg'" in line
    assert not (photo_project / "build" / "plan.yaml").exists()  # refused before any work


def test_an_unsupported_portrait_format_is_a_schema_error(photo_project: Path) -> None:
    persona = photo_project / "persona.yaml"
    persona.write_text(persona.read_text().replace("portrait.jpg", "portrait.gif"))
    proc = run_cli("plan", str(photo_project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "persona.yaml:" in line and "not a JPEG, PNG or WebP file" in line


def test_a_new_portrait_redoes_the_clips(photo_project: Path) -> None:
    from personaforge.media.synthface import draw_portrait

    assert run_cli("lipsync", str(photo_project), "--quiet").returncode == 1  # nothing spoken yet
    for stage in ("plan", "speak", "lipsync"):
        assert run_cli(stage, str(photo_project), "--quiet").returncode == 0
    status = json.loads(run_cli("status", str(photo_project), "--json").stdout)
    assert status["lipsync"]["up_to_date"]
    draw_portrait(1600, 900, face_width=240, center=(800, 400)).save(photo_project / "portrait.jpg")
    status = json.loads(run_cli("status", str(photo_project), "--json").stdout)
    assert status["lipsync"] == {"up_to_date": False, "reason": "changed: look"}
