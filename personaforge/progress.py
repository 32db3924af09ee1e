"""Progress reporting as a callback object; the core calls it, the CLI draws it."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, task: str, total: float | None = None) -> None: ...
    def advance(self, amount: float = 1.0) -> None: ...
    def update(self, completed: float) -> None: ...
    def finish(self) -> None: ...
    def log(self, message: str) -> None: ...


class NullProgress:
    """The default: reports nothing."""

    def start(self, task: str, total: float | None = None) -> None:
        pass

    def advance(self, amount: float = 1.0) -> None:
        pass

    def update(self, completed: float) -> None:
        pass

    def finish(self) -> None:
        pass

    def log(self, message: str) -> None:
        pass


class StageBar:
    """One bar over a whole stage, counted in shots. The work inside a shot (an ffmpeg encode
    that reports its own start/update) moves this bar within that shot's step instead of
    starting a bar of its own, so a stage shows one bar with shots done of total and an ETA."""

    def __init__(self, parent: Progress, task: str, total: int) -> None:
        self._parent = parent
        self._done = 0
        self._total = max(total, 1)
        self._shown = 0.0  # never moves back, though a step's work may restart
        self._step_total: float | None = None
        self._step = 0.0
        parent.start(task, total=self._total)

    # What the work inside one shot calls.
    def start(self, task: str, total: float | None = None) -> None:
        self._step_total, self._step = total, 0.0

    def advance(self, amount: float = 1.0) -> None:
        self.update(self._step + amount)

    def update(self, completed: float) -> None:
        self._step = completed
        if self._step_total:
            share = min(1.0, max(0.0, completed / self._step_total))
            self._show(self._done + share)

    def finish(self) -> None:
        pass  # one shot's encode ended; the shot is counted by shot_done()

    def log(self, message: str) -> None:
        self._parent.log(message)

    # What the stage calls.
    def shot_done(self) -> None:
        self._done = min(self._total, self._done + 1)
        self._step_total, self._step = None, 0.0
        self._show(self._done)

    def close(self) -> None:
        self._parent.finish()

    def _show(self, completed: float) -> None:
        completed = min(float(self._total), completed)
        if completed > self._shown:
            self._shown = completed
            self._parent.update(completed)
