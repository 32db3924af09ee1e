"""examples/showcase renders offline with every shot kind, transition and caption style."""

from __future__ import annotations

import itertools
import json
import shutil
import typing
from pathlib import Path

import av
import pytest
import yaml
from helpers import REPO, run_cli
from mediacheck import loudness_and_true_peak, moov_before_mdat

from personaforge.captions.cues import CAPTION_STYLES
from personaforge.core.manifests import ShotKind

pytestmark = pytest.mark.slow


def test_the_showcase_uses_everything_and_renders(tmp_path: Path) -> None:
    folder = tmp_path / "showcase"
    shutil.copytree(
        REPO / "examples" / "showcase", folder, ignore=shutil.ignore_patterns("build", "published")
    )
    # Named relative to the working directory, as `make demo` names its example.
    proc = run_cli("make-video", "showcase", "--no-publish", "--json", "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    video = tmp_path / json.loads(proc.stdout)["video"]
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    lipsync = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    video_yaml = yaml.safe_load((folder / "video.yaml").read_text())
    shots = speech["shots"]
    assert {s["kind"] for s in shots} == set(typing.get_args(ShotKind))
    styles = {s.get("captions") or video_yaml["captions"]["style"] for s in shots}
    assert styles == set(CAPTION_STYLES)
    default = video_yaml["transitions"]["style"]
    used = {s.get("transition") or default for s in shots[1:]}
    assert used == {"cut", "crossfade", "dip"}
    assert [s["on_screen_text"] for s in shots if s.get("on_screen_text")] == ["Photos move too"]
    # Brand intro and outro, the shots and the transitions between them: every frame once.
    pieces = [s["frames"] for s in lipsync["segments"]]
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = [f.pts for f in container.decode(stream)]
        step = round(1 / (30 * stream.time_base))
    assert len(pts) == sum(pieces) > sum(s["frames"] for s in shots)
    assert {b - a for a, b in itertools.pairwise(pts)} == {step}
    assert moov_before_mdat(video)
    loudness, peak = loudness_and_true_peak(video)
    assert loudness == pytest.approx(-14.0, abs=1.0) and peak <= -1.0
    render = yaml.safe_load((folder / "build/render.yaml").read_text())
    # Its two headings (the first takes the 1 s intro card in) are two chapters, fewer than
    # YouTube's three, so there are none, and render says why.
    assert render.get("chapters") is None and "at least 3" in render["chapters_note"]
    assert (folder / render["thumbnail"]["path"]).is_file()
