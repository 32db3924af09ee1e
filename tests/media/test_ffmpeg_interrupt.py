"""A Ctrl-C while ffmpeg is being started must not leave it running behind the caller's back."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from personaforge.media import ffmpeg
from personaforge.progress import NullProgress


@pytest.fixture(autouse=True)
def _ctrl_c_raises() -> Iterator[None]:
    """Python's own SIGINT handler, as in a terminal: a suite started in the background
    (`make test &`) inherits SIGINT ignored, and no Ctrl-C would reach these tests."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _children_running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and marker.encode() in cmdline:
            found.append(int(entry.name))
    return found


def _start(marker: str) -> None:
    with ffmpeg._supervised(
        ["sh", "-c", "sleep 30", marker], what="x", progress=NullProgress(), task="x", total=None
    ):
        pytest.fail("the interrupt must come before the caller gets the process")


def test_an_interrupt_while_the_child_starts_kills_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """subprocess starts the child, then reads whether exec worked; a Ctrl-C in that read used
    to leave the child running with no handle to stop it."""
    marker = f"pf-{uuid.uuid4().hex}"
    real_read = os.read
    state = {"armed": True}

    def interrupted_read(fd: int, n: int) -> bytes:
        if state["armed"] and n == 50000:  # subprocess's read of its exec-status pipe
            state["armed"] = False
            signal.raise_signal(signal.SIGINT)
        return real_read(fd, n)

    monkeypatch.setattr(subprocess.os, "read", interrupted_read)
    with pytest.raises(KeyboardInterrupt):
        _start(marker)
    monkeypatch.undo()
    assert not state["armed"]  # the interrupt came where it should
    assert _children_running(marker) == []


def test_a_ctrl_c_during_the_fork_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Ctrl-C that lands while subprocess forks is raised as soon as the fork returns, before
    the child's pid is stored anywhere: nothing could kill that child. A run is started so that
    the interrupt waits until the child has its handle, and then stops it."""
    marker = f"pf-{uuid.uuid4().hex}"
    real_fork_exec = subprocess._fork_exec  # type: ignore[attr-defined]

    def fork_then_ctrl_c(*args: object) -> int:
        pid: int = real_fork_exec(*args)
        signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl-C during the fork
        return pid

    monkeypatch.setattr(subprocess, "_fork_exec", fork_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _start(marker)
    monkeypatch.undo()
    assert _children_running(marker) == []
