"""Bounded concurrency for remote jobs: at most the limit at a time, results in order, and the
first failure stops new jobs from starting."""

from __future__ import annotations

import threading

import pytest

from personaforge.backends.cloud import concurrency, run_bounded
from personaforge.errors import PersonaForgeError


def test_at_most_the_limit_run_at_once_and_results_keep_their_order() -> None:
    active = 0
    peak = 0
    lock = threading.Lock()
    pair = threading.Barrier(2, timeout=30)  # two must meet: a limit of 1 would time out

    def task(i: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        if i < 2:
            pair.wait()
        with lock:
            active -= 1
        return i * i

    assert run_bounded([lambda i=i: task(i) for i in range(6)], 2) == [0, 1, 4, 9, 16, 25]
    assert peak == 2


def test_the_first_failure_is_raised_and_no_new_task_starts() -> None:
    started: list[int] = []

    def task(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ValueError("boom")
        return i

    with pytest.raises(ValueError, match="boom"):
        run_bounded([lambda i=i: task(i) for i in range(50)], 1)
    assert started == [0]

    started.clear()
    hold = threading.Event()

    def slow(i: int) -> int:
        started.append(i)
        if i == 0:
            raise ValueError("boom")
        hold.wait(0.5)  # the others are still running when the failure is seen
        return i

    with pytest.raises(ValueError, match="boom"):
        run_bounded([lambda i=i: slow(i) for i in range(50)], 2)
    assert 0 in started and len(started) <= 4  # the queued ones were cancelled


def test_concurrency_comes_from_the_environment() -> None:
    assert concurrency({}) == 4
    assert concurrency({"PERSONAFORGE_CLOUD_CONCURRENCY": "0"}) == 1
    with pytest.raises(PersonaForgeError, match="whole number"):
        concurrency({"PERSONAFORGE_CLOUD_CONCURRENCY": "many"})
