"""A full disk, a read-only one, an over-long name: one line naming the folder and the file
(and for a full disk the space left and needed), exit 1, nothing half-written. The full and
read-only disks are real: a tiny tmpfs, mounted for the test (skipped where that needs rights
the test does not have)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import run_cli, write_project

from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_path, atomic_write_bytes


@contextlib.contextmanager
def _tmpfs(where: Path, size: str, *options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    opts = ",".join((f"size={size}", *options))
    try:
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)],
            capture_output=True,
            check=False,
        )
    except OSError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".tmp" in p.name]


def test_a_full_disk_names_the_folder_the_file_and_the_space(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disk", "256k") as disk:
        with pytest.raises(PersonaForgeError) as info:
            atomic_write_bytes(disk / "out.bin", b"x" * 1_000_000)
        line = str(info.value)
        assert line.startswith(f"{disk}: no space left on the device while writing out.bin")
        assert "free" in line and "it needs about 1.0 MB" in line, line
        assert list(disk.iterdir()) == []  # no temp file, no half file

        # Whatever writes inside atomic_path (wave, PIL, a copy): the same one line.
        with (
            pytest.raises(PersonaForgeError) as info,
            atomic_path(disk / "b.wav") as tmp,
            open(tmp, "wb") as fh,
        ):
            fh.write(b"\0" * 1_000_000)
        assert "no space left on the device while writing b.wav" in str(info.value)
        assert list(disk.iterdir()) == []


def test_a_run_that_fills_the_disk_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "disk", "600k") as disk:
        script = "\n".join(
            f"Sentence {n} is spoken aloud until the disk is full." for n in range(12)
        )
        folder = write_project(disk / "p", script)
        proc = run_cli("make-video", str(folder), "--no-publish")
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "unexpected error" not in proc.stderr
        line = proc.stderr.strip().splitlines()[-1]
        assert line.startswith("error: [") and "no space left on the device" in line, line
        assert "free" in line
        assert _leftovers(folder) == []
        assert not (folder / ".personaforge.lock").exists()


def test_a_read_only_disk_is_one_line(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "64k", "ro") as disk:
        with pytest.raises(PersonaForgeError) as info:
            atomic_write_bytes(disk / "out.txt", b"hello")
        assert "read-only filesystem" in str(info.value) or "not writable" in str(info.value)
        assert str(disk) in str(info.value)


def test_an_over_long_file_name_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(PersonaForgeError) as info:
        atomic_write_bytes(tmp_path / ("n" * 300 + ".txt"), b"hello")
    assert "file name too long" in str(info.value)
    assert os.listdir(tmp_path) == []
