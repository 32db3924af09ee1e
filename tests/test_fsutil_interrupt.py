"""A Ctrl-C at the worst moment of an atomic write leaves no temp file behind."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from personaforge.fsutil import atomic_write_text


def test_ctrl_c_right_after_the_temp_file_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach only the main thread")
    real = os.open

    def open_then_ctrl_c(path: Any, *args: Any, **kwargs: Any) -> int:
        fd = real(path, *args, **kwargs)
        if str(path).endswith(".tmp.ass"):
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C just now
        return fd

    monkeypatch.setattr(os, "open", open_then_ctrl_c)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic_write_text(tmp_path / "captions.ass", "[Script Info]\n")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert list(tmp_path.iterdir()) == []
