"""How close `estimate` comes to the run it predicts, on the bench's 60 s 1080p project.

Three runs: from scratch, a no-op, and a one-sentence edit. Before each, `estimate --json`
says how long the run will take and how many shots each stage will make; then `make-video
--json` runs and says what it did. Printed per run: the predicted and the measured seconds
(their ratio; the goal is within +-30%), and the shots to make and to reuse per stage,
predicted and done (the goal is exact).

    python bench/estimate_bench.py [--seconds 60] [--size 1920x1080]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import render_bench


def _cli(*args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-m", "personaforge", *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.exit(f"{args[0]} failed:\n{proc.stderr[-2000:]}")
    result: dict[str, object] = json.loads(proc.stdout)
    return result


def _made(stages: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Shots each stage made (not reused) in a run, as make-video --json reports it."""
    out = {}
    for name, v in stages.items():
        shots, reused = int(v.get("shots") or 0), int(v.get("reused_shots") or 0)
        out[name] = 0 if v.get("status") == "skipped" else shots - reused
    return out


def _reused(stages: dict[str, dict[str, Any]]) -> dict[str, int]:
    """Shots each stage reused in a run (all of them when it was skipped as up to date)."""
    out = {}
    for name, v in stages.items():
        shots, reused = int(v.get("shots") or 0), int(v.get("reused_shots") or 0)
        out[name] = shots if v.get("status") == "skipped" else reused
    return out


def _case(label: str, project: Path) -> tuple[float, bool]:
    est = _cli("estimate", str(project), "--json")
    stages = est["stages"]
    assert isinstance(stages, dict)
    predicted = {
        name: int(v["shots_to_make"]) if v["would_run"] else 0 for name, v in stages.items()
    }
    t0 = time.perf_counter()
    run = _cli("make-video", str(project), "--json", "--quiet")
    took = time.perf_counter() - t0
    done = _made(run["stages"])  # type: ignore[arg-type]
    said = float(est["seconds"])  # type: ignore[arg-type]
    ratio = said / took
    reused = {name: int(v.get("shots_reused") or 0) for name, v in stages.items()}
    kept = _reused(run["stages"])  # type: ignore[arg-type]
    paid = ("plan", "speak", "lipsync")
    exact = all(predicted[s] == done.get(s, 0) for s in paid) and all(
        reused[s] == kept.get(s, 0) for s in ("speak", "lipsync")
    )
    shots = ", ".join(f"{s} {predicted[s]}/{done.get(s, 0)}" for s in paid)
    shots += "; reused: " + ", ".join(
        f"{s} {reused[s]}/{kept.get(s, 0)}" for s in ("speak", "lipsync")
    )
    print(
        f"{label:<18} estimate {said:6.1f} s, run {took:6.1f} s, ratio {ratio:4.2f}  "
        f"shots to make (estimated/made): {shots}{'' if exact else '  MISMATCH'}"
    )
    return ratio, exact


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--size", default="1920x1080")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        project = render_bench._project(Path(tmp) / "p", args.seconds, args.size)
        print(f"estimate vs run, {args.seconds:g} s at {args.size} (goal: ratio 0.70-1.30)")
        results = [_case("from scratch", project), _case("no-op", project)]
        render_bench._edit_one_sentence(project)
        results.append(_case("one-sentence edit", project))
    within = all(0.7 <= r <= 1.3 for r, _ in results) and all(e for _, e in results)
    print("within the goal" if within else "NOT within the goal")


if __name__ == "__main__":
    main()
