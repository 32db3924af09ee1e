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
from mediacheck import LipMeter
from PIL import Image
from portraits import FRAMINGS, astronaut

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


def _lips_follow_the_voice(project: Path, size: tuple[int, int]) -> None:
    """Read the longest talking clip back with the landmark model: the inner lips' gap follows
    the shot's loudness, and the skin between nose and upper lip stays as the photo has it."""
    from personaforge.media import landmarks as lm
    from personaforge.media import motion

    lipsync = yaml.safe_load((project / "build" / "lipsync.yaml").read_text())
    assert lipsync["backend"] == "photo"  # the default for a photo look
    speech = yaml.safe_load((project / "build" / "speech.yaml").read_text())
    talking = [
        (s, c) for s, c in zip(speech["shots"], lipsync["shots"], strict=True)
        if s["kind"] == "talking"
    ]  # fmt: skip
    assert talking
    spoken, clip = max(talking, key=lambda sc: sc[0]["frames"])
    anim = PhotoAnimator(load_portrait(project / "portrait.jpg"), *size, 30)
    with av.open(str(project / clip["clip"])) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == spoken["frames"]
    loud = motion.loudness(project / spoken["audio"], 30, len(frames))
    meter = LipMeter(anim.points, anim.mouth_center)

    # The skin from just under the nose to just above the upper lip (where the old lip-line
    # guess opened a dark slit): its darkest and its mean level, per frame.
    top, lip = anim.points[lm.SUBNASALE], anim.points[0]
    y0, y1 = round(top[1] + 0.25 * (lip[1] - top[1])), round(top[1] + 0.75 * (lip[1] - top[1]))
    x0, x1 = round(top[0] - 3), round(top[0] + 3)
    rest = anim.render(0.0, 0.0)[y0 : max(y1, y0 + 1), x0:x1].astype(np.float32)
    gaps, darkest, level = [], [], []
    for frame in frames[::2]:
        gaps.append(meter.gap(frame))
        skin = frame[y0 : max(y1, y0 + 1), x0:x1].astype(np.float32)
        darkest.append(float(skin.min()) / float(rest.min()))
        level.append(float(skin.mean()) / float(rest.mean()))
    r = float(np.corrcoef(gaps, loud[::2])[0, 1])
    assert r >= 0.5, r
    # (It may brighten a little: the head's sway brings the nose's highlight in and out.)
    assert min(darkest) > 0.85 and min(level) > 0.92, (darkest, level)


def test_the_photo_example_renders_and_the_lips_follow_the_voice(photo_project: Path) -> None:
    proc = run_cli("make-video", str(photo_project), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    info = probe(photo_project / result["video"])
    assert (info.width, info.height) == (320, 180) and info.audio_codec == "aac"
    _lips_follow_the_voice(photo_project, (320, 180))


@pytest.mark.parametrize("framing", ["tilted -15", "tilted +15", "4000 px, small face"])
def test_the_framings_render_with_init_defaults(tmp_path: Path, framing: str) -> None:
    """A new project with init's defaults and only look.photo set: the photo animator makes
    it, and the lips in the video follow the voice, in each framing a creator brings."""
    folder = tmp_path / "p"
    script = tmp_path / "script.md"
    script.write_text("# Hi\n\nHello there, I am a photograph, and I speak with my own lips.\n")
    proc = run_cli("init", str(folder), "--script", str(script))
    assert proc.returncode == 0, proc.stderr
    Image.fromarray(FRAMINGS[framing](astronaut())).save(folder / "portrait.jpg", quality=92)
    persona = yaml.safe_load((folder / "persona.yaml").read_text())
    persona["look"] = {"photo": "portrait.jpg"}
    (folder / "persona.yaml").write_text(yaml.safe_dump(persona))
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "resolution: 320x180\n")
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    _lips_follow_the_voice(folder, (320, 180))


def test_a_landscape_photo_in_the_shorts_format(photo_project: Path) -> None:
    from skimage import data

    im = np.asarray(data.astronaut())
    wide = np.pad(im, ((0, 0), (400, 100), (0, 0)), mode="edge")  # 1012x512, face off-centre
    Image.fromarray(wide).save(photo_project / "portrait.jpg", quality=92)
    video = photo_project / "video.yaml"
    video.write_text(
        video.read_text().replace("format: youtube", "format: shorts").replace("320x180", "180x320")
    )
    script = photo_project / "script.md"
    script.write_text("# Shorts\n\nHello there, I am a photo speaking in a tall frame.\n")
    proc = run_cli("make-video", str(photo_project), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    _lips_follow_the_voice(photo_project, (180, 320))


def test_init_writes_no_lipsync_backend(tmp_path: Path) -> None:
    proc = run_cli("init", str(tmp_path / "new"))
    assert proc.returncode == 0, proc.stderr
    assert "lipsync" not in (tmp_path / "new" / "video.yaml").read_text()


@pytest.mark.parametrize(
    ("backend", "photo", "expected"),
    [
        ("avatar", True, "'avatar' draws a cartoon, but the persona's look is a photograph"),
        (
            "latentsync",
            False,
            "'latentsync' animates a photograph, but the persona's look is drawn",
        ),
        ("sadtalker", False, "'sadtalker' animates a photograph"),
    ],
)
def test_a_backend_that_contradicts_the_look_is_one_line_naming_both_files(
    photo_project: Path, backend: str, photo: bool, expected: str
) -> None:
    video = photo_project / "video.yaml"
    video.write_text(video.read_text() + f"backends:\n  lipsync: {backend}\n")
    if not photo:
        persona = photo_project / "persona.yaml"
        persona.write_text(persona.read_text().replace("  photo: portrait.jpg\n", ""))
    proc = run_cli("make-video", str(photo_project), "--no-publish")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "video.yaml:" in line and "backends.lipsync:" in line and expected in line, line
    assert "persona.yaml" in line


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
