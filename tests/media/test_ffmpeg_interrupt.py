"""A Ctrl-C while ffmpeg is being started must not leave it running behind the caller's back."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from personaforge.media import ffmpeg


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


def test_an_interrupt_while_the_child_starts_kills_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """subprocess starts the child, then reads whether exec worked; a KeyboardInterrupt in that
    read used to leave the child running with no handle to stop it."""
    marker = f"pf-{uuid.uuid4().hex}"
    real_read = os.read
    state = {"armed": True}

    def interrupted_read(fd: int, n: int) -> bytes:
        if state["armed"] and n == 50000:  # subprocess's read of its exec-status pipe
            state["armed"] = False
            raise KeyboardInterrupt
        return real_read(fd, n)

    monkeypatch.setattr(subprocess.os, "read", interrupted_read)
    with pytest.raises(KeyboardInterrupt):
        ffmpeg._Popen(["sh", "-c", "sleep 30", marker])
    monkeypatch.undo()
    assert not state["armed"]  # the interrupt came where it should
    assert _children_running(marker) == []
