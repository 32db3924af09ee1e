"""The brand kit: colours, font, logo and an intro/outro, used by every shot."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import av
import numpy as np
import pytest
import webvtt
import yaml
from fontTools.ttLib import TTFont
from helpers import run_cli, write_project
from mediacheck import frame_at
from PIL import Image

from personaforge.assets import font_path
from personaforge.media.ffmpeg import ffmpeg_exe

pytestmark = pytest.mark.slow

SCRIPT = "# Branded\n\nA sentence spoken under the brand's own logo.\n"
BACKGROUND = (0x0B, 0x3D, 0x2E)
LOGO = (255, 0, 255)
BRAND = """schema_version: 1
background: "#0b3d2e"
accent: "#ff3366"
text: "#ffffee"
font: fonts/BrandSans.ttf
logo: {file: logo.png, corner: top-right, size: 0.1}
intro: {card: Welcome to the show, duration_s: 1.0}
outro: {clip: outro.mp4}
"""


def _assets(folder: Path) -> None:
    (folder / "fonts").mkdir()
    font = TTFont(str(font_path()))
    for record in font["name"].names:
        if record.nameID in (1, 4, 6, 16):
            record.string = "BrandSans"
    font.save(str(folder / "fonts" / "BrandSans.ttf"))
    Image.new("RGBA", (100, 100), (*LOGO, 255)).save(folder / "logo.png")
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=300x300:r=25:d=1",
         "-pix_fmt", "yuv420p", str(folder / "outro.mp4")],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = write_project(tmp_path_factory.mktemp("brand") / "p", SCRIPT)
    _assets(folder)
    (folder / "brand.yaml").write_text(BRAND)
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return folder, Path(json.loads(proc.stdout)["video"])


def test_intro_and_outro_wrap_the_shots(branded: tuple[Path, Path]) -> None:
    folder, video = branded
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    spoken = sum(s["frames"] for s in speech["shots"])
    with av.open(str(video)) as container:
        frames = sum(1 for _ in container.decode(video=0))
    assert frames == 30 + spoken + 30  # a 1 s card, the shots, a 1 s clip
    intro = frame_at(video, 0.5).astype(int)
    h = intro.shape[0]
    assert np.abs(intro[: h // 4] - np.array(BACKGROUND)).sum(axis=2).mean() < 30
    outro = frame_at(video, (frames - 5) / 30).astype(int)
    assert outro.std() > 40  # testsrc2's colour bars, not a card
    # Captions and narration start after the intro.
    first = next(iter(webvtt.read(str(video.with_suffix(".vtt")))))
    assert first.start >= "00:00:01.000"


def test_the_logo_sits_in_its_corner_on_every_shot(branded: tuple[Path, Path]) -> None:
    folder, video = branded
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    t = 1.0
    for shot in speech["shots"]:
        frame = frame_at(video, t + shot["frames"] / 60).astype(int)
        h, w, _ = frame.shape
        magenta = np.abs(frame - np.array(LOGO)).sum(axis=2) < 80
        assert magenta[: h // 3, w * 2 // 3 :].sum() > 100, f"no logo on {shot['kind']}"
        assert magenta[h // 3 :, :].sum() < 20
        t += shot["frames"] / 30


def test_captions_and_cards_use_the_brand(branded: tuple[Path, Path]) -> None:
    folder, video = branded
    burned = [p.read_text() for p in (folder / "build/clips").glob("*.ass")]
    assert burned and all("Style: Default,BrandSans," in ass for ass in burned)
    assert all("&H00EEFFFF" in ass for ass in burned)  # the brand's text colour, as ASS writes it
    title = frame_at(video, 1.2).astype(int)  # the heading's card, after the intro
    h = title.shape[0]
    assert (
        np.abs(title[: h // 5, : title.shape[1] // 2] - np.array(BACKGROUND)).sum(axis=2).mean()
        < 30
    )


def test_a_brand_block_in_video_yaml_and_a_missing_logo(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", "Hello there.\n", extra="brand: {logo: {file: nope.png}}\n"
    )
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert "video.yaml" in last and "brand.logo.file" in last and "nope.png" in last
