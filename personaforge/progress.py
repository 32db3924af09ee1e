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
