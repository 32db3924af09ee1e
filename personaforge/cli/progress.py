"""Progress adapters for the terminal: Rich bars on a TTY, plain lines otherwise, or nothing."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class PlainProgress:
    """One line per task on stderr; for logs and CI."""

    def __init__(self) -> None:
        self._task: str | None = None
        self._t0 = 0.0

    def start(self, task: str, total: float | None = None) -> None:
        self._task, self._t0 = task, time.monotonic()

    def advance(self, amount: float = 1.0) -> None:
        pass

    def update(self, completed: float) -> None:
        pass

    def finish(self) -> None:
        if self._task:
            print(f"{self._task}: done in {time.monotonic() - self._t0:.1f}s", file=sys.stderr)
        self._task = None

    def log(self, message: str) -> None:
        print(message, file=sys.stderr)


class RichProgress:
    """Rich bars on stderr, one per task."""

    def __init__(self, console: Console) -> None:
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._console = console
        self._task: Any = None
        self._bars.start()

    def start(self, task: str, total: float | None = None) -> None:
        if self._task is not None:
            self._bars.remove_task(self._task)
        self._task = self._bars.add_task(task, total=total)

    def advance(self, amount: float = 1.0) -> None:
        if self._task is not None:
            self._bars.advance(self._task, amount)

    def update(self, completed: float) -> None:
        if self._task is not None:
            self._bars.update(self._task, completed=completed)

    def finish(self) -> None:
        if self._task is not None:
            self._bars.remove_task(self._task)
            self._task = None

    def log(self, message: str) -> None:
        self._console.print(message, style="dim", highlight=False)

    def close(self) -> None:
        self._bars.stop()
