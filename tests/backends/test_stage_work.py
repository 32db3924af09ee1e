"""Each stage's plan of work (its ``work``, runtime.graph.works): what it would make or reuse
and why, said without doing it, and read alike by estimate, status and preflight."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cloudfakes import ReplicateFake, serve
from helpers import run_cli, write_project
from lipsync_helpers import returned_clip, write_portrait

from personaforge.commands import make_video
from personaforge.core.project import Project
from personaforge.runtime.common import Context
from personaforge.runtime.graph import works
from personaforge.runtime.work import will_call

SCRIPT = """# Work

The first sentence stays the same.
The second sentence is the one we edit.
The third sentence stays the same too.
"""


def _run(folder: Path, env: dict[str, str] | None = None) -> None:
    proc = run_cli("make-video", str(folder), "--json", "--quiet", "--no-publish", env=env)
    assert proc.returncode == 0, proc.stderr


def test_a_stage_work_says_what_it_makes_and_reuses_and_why(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", SCRIPT)
    _run(folder)
    script = folder / "script.md"
    script.write_text(script.read_text().replace("the one we edit", "the edited one"))
    found = works(Context.load(Project.open(str(folder))), ["plan", "speak", "lipsync"])
    speak, lipsync = found["speak"], found["lipsync"]
    assert speak.runs and speak.backend == "piper" and not speak.paid
    said = [(w.make, w.reason) for w in speak.shots]
    assert said == [(False, "take made already"), (False, "take made already"),
                    (True, "new take"), (False, "take made already")]  # fmt: skip
    drawn = [(w.make, w.reason) for w in lipsync.shots]
    assert drawn == [(False, "segment made already"), (False, "segment made already"),
                     (True, "new audio"), (False, "segment made already")]  # fmt: skip
    assert speak.seconds > 0 and lipsync.seconds > 0 and speak.calls == 0
    # status and estimate read the same works.
    rows = {r.stage: r for r in make_video.status(Project.open(str(folder)))}
    est = json.loads(run_cli("estimate", str(folder), "--json", "--no-publish").stdout)
    for stage in ("speak", "lipsync"):
        assert (rows[stage].to_make, rows[stage].reused) == (1, 3)
        assert est["stages"][stage]["shots_to_make"] == 1
        assert est["stages"][stage]["shots_reused"] == 3
    text = run_cli("status", str(folder)).stdout
    assert "speak    would run: upstream plan would re-run; shots: 1 to make, 3 reused" in text
    _run(folder)
    rows = {r.stage: r for r in make_video.status(Project.open(str(folder)))}
    assert rows["speak"].up_to_date and (rows["speak"].to_make, rows["speak"].reused) == (0, 4)
    assert "speak    up to date" in run_cli("status", str(folder)).stdout


TOKEN = "r8_work_token"


def test_preflight_needs_no_key_when_every_paid_clip_is_reused(tmp_path: Path) -> None:
    pytest.importorskip("replicate")
    api = ReplicateFake(token=TOKEN, clip=returned_clip(tmp_path / "returned.mp4"))
    folder = write_project(tmp_path / "p", "Hello there, this is a short test.\n",
                           extra="backends: {lipsync: sadtalker}\n")  # fmt: skip
    write_portrait(folder)
    (folder / "persona.yaml").write_text(
        "schema_version: 1\nname: Tess\narchetype: host\nlook:\n  photo: portrait.jpg\n"
    )
    fresh = works(Context.load(Project.open(str(folder)), env={}), ["plan", "speak", "lipsync"])
    assert fresh["lipsync"].paid and will_call(fresh, "lipsync")
    assert fresh["lipsync"].calls == sum(w.paid for w in fresh["lipsync"].shots) >= 1
    assert fresh["lipsync"].bills and fresh["lipsync"].bills[0].unit == "gpu_second"
    with serve(api) as server:
        api.base = server.url
        env = {"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": server.url,
               "PERSONAFORGE_RETRY_SCALE": "0.001"}  # fmt: skip
        _run(folder, env)
    # A restyle remakes every segment from the clips already paid for: no call, no key.
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "captions: {style: boxed}\n")
    ctx = Context.load(Project.open(str(folder)), env={})
    found = works(ctx, ["plan", "speak", "lipsync"])
    lipsync = found["lipsync"]
    assert lipsync.runs and lipsync.to_make and not any(w.paid for w in lipsync.shots)
    assert lipsync.calls == 0 and lipsync.bills == [] and not will_call(found, "lipsync")
    make_video.preflight(ctx, ["plan", "speak", "lipsync", "render"])  # no MissingKeyError
    # An edit needs a new clip: the work says it would pay, and the key is asked for.
    script = folder / "script.md"
    script.write_text(script.read_text().replace("short test", "brief test"))
    edited = works(Context.load(Project.open(str(folder)), env={}), ["plan", "speak", "lipsync"])
    assert edited["lipsync"].calls >= 1 and will_call(edited, "lipsync")
