"""estimate reads the stages' own plans of work: the shots it says a run would make are the
shots the run then makes, after a fresh start, a no-op and a one-sentence edit."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import run_cli, write_project

SCRIPT = """# Counts

The first sentence stays the same.
The second sentence is the one we edit.
The third sentence stays the same too.
"""


def _predicted(folder: Path) -> dict[str, tuple[bool, int]]:
    proc = run_cli("estimate", str(folder), "--json", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    return {s: (v["would_run"], v["shots_to_make"]) for s, v in stages.items() if s != "plan"}


def _made(folder: Path) -> dict[str, tuple[bool, int]]:
    proc = run_cli("make-video", str(folder), "--json", "--quiet", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    stages = json.loads(proc.stdout)["stages"]
    out = {}
    for stage in ("speak", "lipsync"):
        r = stages[stage]
        ran = r["status"] == "ran"
        out[stage] = (ran, r["shots"] - r["reused_shots"] if ran else 0)
    out["render"] = (stages["render"]["status"] == "ran", 0)
    return out


def test_estimate_counts_the_shots_each_run_makes(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", SCRIPT)
    seen = []
    for step in ("fresh", "no-op", "edit"):
        if step == "edit":
            script = folder / "script.md"
            script.write_text(script.read_text().replace("the one we edit", "the edited one"))
        predicted, made = _predicted(folder), _made(folder)
        assert predicted == made, step
        seen.append(made["lipsync"])
    # The title card and three sentences, then nothing, then the edited sentence alone.
    assert seen == [(True, 4), (False, 0), (True, 1)]
