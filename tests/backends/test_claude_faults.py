"""Every fault, for each of the three things that ask Claude (director, writer, wizard):
the real SDK against a local /v1/messages server; each ends in one line, nothing written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_anthropic import FakeAnthropic, Reply, as_json, error, message, running
from helpers import write_project

from personaforge.commands.write import propose_persona, write_script
from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.runtime.common import Context
from personaforge.runtime.graph import run_stage

KEY = "sk-ant-test-faults-5ecret"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with running() as server:
        yield server


def _env(fake: FakeAnthropic) -> dict[str, str]:
    return {"ANTHROPIC_API_KEY": KEY, "ANTHROPIC_BASE_URL": fake.url,
            "PERSONAFORGE_CLAUDE_MAX_RETRIES": "2"}  # fmt: skip


def _director(folder: Path, fake: FakeAnthropic) -> Path:
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "backends: {plan: claude}\n", encoding="utf-8")
    run_stage("plan", Context.load(Project(folder), env=_env(fake)))
    return folder / "build" / "plan.yaml"


def _writer(folder: Path, fake: FakeAnthropic) -> Path:
    (folder / "script.md").unlink()
    write_script(folder, topic="tides", env=_env(fake))
    return folder / "script.md"


def _wizard(folder: Path, fake: FakeAnthropic) -> Path:
    propose_persona("a calm teacher", folder=folder, env=_env(fake))
    return folder / "nothing-written"


ASKERS: dict[str, Callable[[Path, FakeAnthropic], Path]] = {
    "director": _director,
    "writer": _writer,
    "wizard": _wizard,
}

FAULTS: dict[str, tuple[Reply, int, str]] = {
    "401": (error(401, "authentication_error", f"bad key {KEY}"), 1, "rejected (401)"),
    "429": (error(429, "rate_limit_error"), 3, "rate limited (429) after 2 retries"),
    "529": (error(529, "overloaded_error", "Overloaded"), 3, "overloaded (529) after 2 retries"),
    "refusal": (message([], stop_reason="refusal"), 2, "declined to answer"),
    "empty": (message([]), 2, "the answer was empty"),
    "truncated": (message([as_json('{"scr')], stop_reason="max_tokens"), 2, "cut off"),
    "invalid json": (message([as_json("{'not': json")]), 2, "not usable twice"),
    "wrong fields": (message([as_json({"unexpected": 1})]), 2, "not usable twice"),
    # A proxy, or the wrong service, answering 200 with something that is not a Message.
    "not a message": ((200, {"hello": "world"}, {}), 1, "not a Claude message"),
    "null content": (
        (200, {"type": "message", "role": "assistant", "content": None}, {}),
        1,
        "not a Claude message",
    ),
    "odd blocks": ((200, {"type": "message", "content": [1, "x"]}, {}), 1, "not a Claude message"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("asker", sorted(ASKERS))
def test_each_fault_is_one_line_and_writes_nothing(
    asker: str, fault: str, tmp_path: Path, fake: FakeAnthropic
) -> None:
    reply, calls, words = FAULTS[fault]
    folder = write_project(tmp_path / "p")
    fake.answer(reply)
    with pytest.raises(PersonaForgeError) as info:
        ASKERS[asker](folder, fake)
    text = str(info.value)
    assert words in text and "\n" not in text and KEY not in text
    assert len(fake.requests) == calls
    assert not (folder / "build").exists()
    if asker == "writer":
        assert not (folder / "script.md").exists()


def test_the_base_url_comes_from_the_environment_given(fake: FakeAnthropic, tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p")
    answer: dict[str, Any] = {"script": "Tides rise and fall twice a day."}
    fake.answer(message([as_json(answer)]))
    assert _writer(folder, fake).read_text() == "Tides rise and fall twice a day.\n"
    assert len(fake.requests) == 1
