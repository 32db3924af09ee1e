"""SIGTERM and SIGHUP handled like Ctrl-C: raised as an interrupt in the main thread, so the
same cleanup runs (ffmpeg stopped, temp files removed, the project lock released).

What stops a run in production is rarely Ctrl-C: `timeout`, `docker stop`, systemd and a job
queue's timeout send SIGTERM; a closed terminal sends SIGHUP. Python's default for both is
to die at once, skipping every ``finally``."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

# Stopped like Ctrl-C. A signal the parent set to be ignored (``nohup`` ignores SIGHUP) stays
# ignored.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGHUP)
DEFERRED_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, *STOP_SIGNALS)


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by a signal other than Ctrl-C. A KeyboardInterrupt, so
    every cleanup written for Ctrl-C runs for it too."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class Received:
    """Which stop signal arrived in the block, if any: Click and Typer turn an interrupt
    into an exit code of 130 and drop the exception, so the entry point asks here."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def __call__(self, signum: int, _frame: object) -> None:
        self.signum = signum
        raise Terminated(signum)

    @property
    def stop(self) -> Terminated | None:
        return Terminated(self.signum) if self.signum is not None else None


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[Received]:
    """Within the block, SIGTERM and SIGHUP raise ``Terminated`` in the main thread."""
    received = Received()
    if threading.current_thread() is not threading.main_thread():
        yield received
        return
    previous: dict[signal.Signals, object] = {}
    for sig in STOP_SIGNALS:
        current = signal.getsignal(sig)
        if current is signal.SIG_IGN or current is None:
            continue
        previous[sig] = signal.signal(sig, received)
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back until the block is done, then deliver them as
    usual (for a block that must not be cut in half, such as starting a child process).
    Only the main thread gets signals, and only it can set a handler."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []
    previous: dict[signal.Signals, object] = {}
    for sig in DEFERRED_SIGNALS:
        current = signal.getsignal(sig)
        if current is None or current is signal.SIG_IGN or current is signal.SIG_DFL:
            # Not a handler set from Python (or ignored, or fatal): nothing to defer to.
            continue
        previous[sig] = signal.signal(sig, lambda signum, _frame: held.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)  # to the handler it was meant for
