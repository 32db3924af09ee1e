"""Transitions between shots: each its own segment spanning the cut, frames exact."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest
import yaml
from helpers import run_cli, write_project
from mediacheck import frame_at

from personaforge.backends.planner.offline import OfflinePlanner
from personaforge.core.specs import Persona

pytestmark = pytest.mark.slow

SCRIPT = """# Transitions

The first sentence is spoken right here.

The second sentence follows with a crossfade.

<!-- transition: dip -->
The third one dips through green to arrive.
"""


def test_the_script_names_a_transition_for_the_next_shot() -> None:
    shots = OfflinePlanner().plan(SCRIPT, Persona(name="Ava"))
    assert [s.transition for s in shots] == [None, None, None, "dip"]


def test_transitions_are_segments_spanning_the_cut(tmp_path: Path) -> None:
    folder = write_project(
        tmp_path / "p",
        SCRIPT,
        extra="transitions: {style: crossfade, duration_s: 0.4, colour: '#00ff00'}\n",
    )
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    video = Path(json.loads(proc.stdout)["video"])
    speech = yaml.safe_load((folder / "build/speech.yaml").read_text())
    lipsync = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    frames = [s["frames"] for s in speech["shots"]]
    # Shot, transition, shot, ...: 6 frames (0.4 s) taken across each of the three cuts.
    pieces = [s["frames"] for s in lipsync["segments"]]
    assert len(pieces) == 2 * len(frames) - 1 and pieces[1::2] == [12, 12, 12]
    assert sum(pieces) == sum(frames)
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        pts = [f.pts for f in container.decode(stream)]
        step = round(1 / (30 * stream.time_base))
    assert len(pts) == sum(frames)
    assert {b - a for a, b in itertools.pairwise(pts)} == {step}
    cuts = list(itertools.accumulate(f / 30 for f in frames))
    # The dip passes through green at the last cut.
    at_dip = frame_at(video, cuts[2] - 0.01).astype(int)
    r, g, b = at_dip[: at_dip.shape[0] // 2].reshape(-1, 3).mean(axis=0)
    assert g > 180 and r < 80 and b < 80
    # The crossfade mixes both shots at the cut: unlike the frames a little before and after.
    before, mid, after = (frame_at(video, cuts[1] + d).astype(int) for d in (-0.3, 0.0, 0.3))
    assert np.abs(mid - before).mean() > 2 and np.abs(mid - after).mean() > 2
    # Editing the middle sentence redoes its shot and the two transitions touching it only.
    made = {p.name for p in (folder / "build/clips").glob("*.mp4")}
    script = folder / "script.md"
    script.write_text(script.read_text().replace("follows with", "arrives with"))
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lipsync = yaml.safe_load((folder / "build/lipsync.yaml").read_text())
    new = [Path(s["path"]).name for s in lipsync["segments"] if Path(s["path"]).name not in made]
    assert len(new) == 3
