"""One progress bar per stage over its whole work: shots done of total, never a bar per shot."""

from __future__ import annotations

from pathlib import Path

from helpers import write_project

from personaforge.commands.make_video import make_video
from personaforge.core.project import Project
from personaforge.progress import StageBar


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def start(self, task: str, total: float | None = None) -> None:
        self.events.append(("start", (task, total)))

    def advance(self, amount: float = 1.0) -> None:
        self.events.append(("advance", amount))

    def update(self, completed: float) -> None:
        self.events.append(("update", completed))

    def finish(self) -> None:
        self.events.append(("finish", None))

    def log(self, message: str) -> None:
        self.events.append(("log", message))


def test_work_inside_a_shot_moves_the_stage_bar_within_that_shot() -> None:
    rec = Recorder()
    bar = StageBar(rec, "lipsync", total=4)
    bar.start("encoding", total=10)  # an encode inside shot 1 reports its own progress
    bar.update(5)
    bar.finish()
    bar.shot_done()
    bar.start("encoding", total=10)
    bar.update(20)  # a report past its end never runs ahead of the shot
    bar.close()
    assert rec.events == [
        ("start", ("lipsync", 4)),
        ("update", 0.5),
        ("update", 1),
        ("update", 2.0),
        ("finish", None),
    ]


def test_lipsync_is_one_bar_over_all_its_shots(tmp_path: Path) -> None:
    script = "# Title\n\nOne sentence here, spoken.\nAnother sentence follows it.\nA third one.\n"
    folder = write_project(tmp_path / "p", script)
    rec = Recorder()
    make_video(Project.open(folder), do_publish=False, progress=rec)
    starts = [e[1] for e in rec.events if e[0] == "start"]
    lipsync_bars = [s for s in starts if isinstance(s, tuple) and s[0] == "lipsync"]
    assert len(lipsync_bars) == 1
    shots = lipsync_bars[0][1]
    assert isinstance(shots, int) and shots >= 3
    # Every start is a stage's bar (speak, lipsync, render): no bar of its own per shot.
    assert len(starts) <= 4, starts
    assert not any(e[0] == "log" and "shot" in str(e[1]) for e in rec.events)
    # The lipsync bar ends at its total and never goes past it.
    i = starts.index(lipsync_bars[0])
    after = rec.events[[k for k, e in enumerate(rec.events) if e[0] == "start"][i] :]
    updates = []
    for kind, value in after[1:]:
        if kind == "start":
            break
        if kind == "update":
            updates.append(float(value))  # type: ignore[arg-type]
    assert updates and max(updates) == shots and updates == sorted(updates)
