"""Shot kinds chosen by Markdown in the script: b-roll, picture-in-picture, lower third, quote."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from helpers import run_cli, write_project
from mediacheck import frame_at
from PIL import Image, ImageDraw

from personaforge.backends.planner.offline import OfflinePlanner
from personaforge.core.specs import Persona
from personaforge.media.ffmpeg import ffmpeg_exe

SCRIPT = """# Shot kinds

<!-- lower-third: Ada Lovelace | Mathematician -->
Hello, I am Ada and I like numbers a lot.

<!-- text: Mornings in the city -->
![](broll/city.png)
The city wakes up early in the morning.

![pip](broll/clip.mp4)
Here I am in a corner of the frame.

> Simplicity is the ultimate sophistication.
> — Leonardo da Vinci
"""
ACCENT = (0xF5, 0xB7, 0x00)  # the default look's accent: the inset's border


def test_the_planner_reads_the_shot_syntax() -> None:
    shots = OfflinePlanner().plan(SCRIPT, Persona(name="Ava", archetype="host"))
    assert [s.kind for s in shots] == ["title", "lower_third", "broll", "pip", "quote"]
    assert (shots[1].name, shots[1].role) == ("Ada Lovelace", "Mathematician")
    assert shots[2].broll == "broll/city.png" and shots[3].broll == "broll/clip.mp4"
    assert shots[4].text == "Simplicity is the ultimate sophistication."
    assert shots[4].name == "Leonardo da Vinci"
    assert [s.on_screen_text for s in shots] == [None, None, "Mornings in the city", None, None]
    # Nothing of the syntax is spoken.
    assert not any(ch in s.text for s in shots for ch in "![]<>")


def test_a_bare_lower_third_names_the_persona_and_only_the_first_shot() -> None:
    script = "<!-- lower-third -->\nFirst sentence is here today. Second one follows it now.\n"
    shots = OfflinePlanner().plan(script, Persona(name="Ava", archetype="host"))
    assert [s.kind for s in shots] == ["lower_third", "talking"]
    assert (shots[0].name, shots[0].role) == ("Ava", "host")


def _media(folder: Path) -> None:
    (folder / "broll").mkdir()
    img = Image.new("RGB", (800, 500), (30, 120, 200))
    draw = ImageDraw.Draw(img)
    for x in range(0, 800, 40):
        draw.line([(x, 0), (x, 500)], fill=(250, 250, 250), width=3)
    img.save(folder / "broll" / "city.png")
    subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "testsrc2=s=400x300:r=25:d=1.5",
         "-pix_fmt", "yuv420p", str(folder / "broll" / "clip.mp4")],
        check=True,
    )  # fmt: skip


@pytest.fixture(scope="module")
def kinds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """The script rendered, and rendered again without burned captions."""
    base = tmp_path_factory.mktemp("kinds")
    folder = write_project(base / "p", SCRIPT)
    _media(folder)
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    bare = base / "bare"
    shutil.copytree(folder, bare)
    (bare / "video.yaml").write_text(
        (bare / "video.yaml").read_text() + "captions: {burn: false}\n"
    )
    again = run_cli("make-video", str(bare), "--no-publish", "--json", "--quiet")
    assert again.returncode == 0, again.stderr
    return folder, Path(json.loads(proc.stdout)["video"]), Path(json.loads(again.stdout)["video"])


def _shots(folder: Path) -> dict[str, tuple[float, float]]:
    """Each kind's (start, end) in seconds."""
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    out, t = {}, 0.0
    for shot in speech["shots"]:
        out[shot["kind"]] = (t, t + shot["frames"] / 30)
        t += shot["frames"] / 30
    return out


@pytest.mark.slow
def test_every_kind_carries_its_captions(kinds: tuple[Path, Path, Path]) -> None:
    folder, video, bare = kinds
    for kind, (start, end) in _shots(folder).items():
        t = start + (end - start) * 0.6
        diff = np.abs(frame_at(video, t).astype(int) - frame_at(bare, t).astype(int)).sum(axis=2)
        lower = diff[int(diff.shape[0] * 0.6) :]
        if kind in ("title", "quote"):
            # A card's words are on it: captioned in the .vtt/.srt, not burned under it too.
            assert (lower > 120).sum() == 0, f"the {kind} card is captioned twice"
        else:
            assert (lower > 120).sum() > 50, f"no captions in the {kind} shot"


@pytest.mark.slow
def test_broll_shows_the_image_moving(kinds: tuple[Path, Path, Path]) -> None:
    folder, _, bare = kinds
    start, end = _shots(folder)["broll"]
    first = frame_at(bare, start + 0.02).astype(int)
    last = frame_at(bare, end - 0.05).astype(int)
    # The image's blue and white stripes fill the frame.
    r, _, b = first.reshape(-1, 3).mean(axis=0)
    assert b > 150 and b > r + 40
    # A slow Ken Burns move: the stripes have moved between the first and last frame.
    assert np.abs(first - last).sum(axis=2).mean() > 10


@pytest.mark.slow
def test_pip_insets_the_persona_over_the_video(kinds: tuple[Path, Path, Path]) -> None:
    folder, _, bare = kinds
    start, end = _shots(folder)["pip"]
    frame = frame_at(bare, (start + end) / 2).astype(int)
    h, w, _ = frame.shape
    # The inset's accent border, top right inside the safe area.
    near_accent = np.abs(frame - np.array(ACCENT)).sum(axis=2) < 90
    top_right = near_accent[: h // 2, w // 2 :]
    assert top_right.sum() > 40
    # The rest is the video b-roll: testsrc2's saturated colours, not the avatar's backdrop.
    assert frame[: h // 2, : w // 3].std() > 40


@pytest.mark.slow
def test_lower_third_strap_appears_over_the_talking_head(kinds: tuple[Path, Path, Path]) -> None:
    folder, _, bare = kinds
    start, end = _shots(folder)["lower_third"]
    before = frame_at(bare, start + 0.02).astype(int)  # the strap fades in after a moment
    during = frame_at(bare, start + min(2.0, (end - start) * 0.6)).astype(int)
    h, w, _ = during.shape
    strap = (slice(int(h * 0.5), int(h * 0.85)), slice(int(w * 0.05), int(w * 0.35)))
    white = lambda img: (img[strap].min(axis=2) > 200).sum()  # noqa: E731
    assert white(during) > white(before) + 20


@pytest.mark.slow
def test_on_screen_text_appears_at_the_top_of_its_shot(kinds: tuple[Path, Path, Path]) -> None:
    folder, _, bare = kinds
    start, end = _shots(folder)["broll"]
    before = frame_at(bare, start + 0.02).astype(int)  # it fades in after a moment
    during = frame_at(bare, (start + end) / 2).astype(int)
    h, w, _ = during.shape
    top = (slice(int(h * 0.05), int(h * 0.3)), slice(int(w * 0.2), int(w * 0.8)))
    # Its dark box over the blue and white b-roll, which has no dark pixels of its own.
    dark = lambda img: (img[top].max(axis=2) < 60).sum()  # noqa: E731
    assert dark(before) < 20 and dark(during) > 200


@pytest.mark.slow
def test_quote_card_draws_the_quote(kinds: tuple[Path, Path, Path]) -> None:
    folder, _, bare = kinds
    start, end = _shots(folder)["quote"]
    frame = frame_at(bare, (start + end) / 2)
    h = frame.shape[0]
    assert (frame[int(h * 0.2) : int(h * 0.8)].min(axis=2) > 200).sum() > 200


def test_a_missing_broll_file_is_named_before_any_work(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p", "![](broll/nope.jpg)\nA sentence over a missing photo.\n"
    )
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("error: [lipsync]") and "broll/nope.jpg" in last
    assert not list((folder / "build").glob("clips/*.mp4"))
