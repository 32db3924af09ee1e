"""The Claude director through the real anthropic SDK against a local /v1/messages server:
the shots always cover the script's sentences once, in order; faults are one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_anthropic import (
    FakeAnthropic,
    as_json,
    error,
    message,
    running,
    sent_key,
    text,
    thinking,
)
from helpers import run_cli, write_project

from personaforge.core.project import Project
from personaforge.errors import PersonaForgeError
from personaforge.runtime.common import Context
from personaforge.runtime.graph import run_stage

KEY = "sk-ant-test-5ecret-never-written"
SCRIPT = """# Tiny test

Hello there, this is a short test video. It has two sentences, both spoken aloud.

## Part two

Short one. And here is the last sentence of it all!
"""
SENTENCES = [
    "Hello there, this is a short test video.",
    "It has two sentences, both spoken aloud.",
    "Short one.",
    "And here is the last sentence of it all!",
]
GOOD = {
    "shots": [
        {"sentences": [1, 2], "kind": "talking", "emotion": "happy", "camera": "push_in",
         "on_screen_text": "Hello"},
        {"sentences": [3, 4], "kind": "talking", "emotion": "calm", "camera": "static"},
    ]
}  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with running() as server:
        yield server


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", SCRIPT, extra="backends: {plan: claude}\n")


def env_for(fake: FakeAnthropic, **extra: str) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PERSONAFORGE_CLAUDE_MAX_RETRIES": "2",
        **extra,
    }


def run_plan(folder: Path, fake: FakeAnthropic, **extra: str) -> Any:
    ctx = Context.load(Project(folder), env=env_for(fake, **extra))
    return run_stage("plan", ctx)


def planned(folder: Path) -> list[dict[str, Any]]:
    data = yaml.safe_load((folder / "build" / "plan.yaml").read_text(encoding="utf-8"))
    shots: list[dict[str, Any]] = data["shots"]
    return shots


def assert_no_key_anywhere(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path


def test_shots_group_the_scripts_own_sentences_as_directed(
    folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(message([thinking(), as_json(GOOD)]))
    result = run_plan(folder, fake)
    assert result.ran
    shots = planned(folder)
    assert [(s["kind"], s["text"]) for s in shots] == [
        ("title", "Tiny test"),
        ("talking", " ".join(SENTENCES[:2])),
        ("title", "Part two"),
        ("talking", " ".join(SENTENCES[2:])),
    ]
    assert (shots[1]["emotion"], shots[1]["camera"], shots[1]["on_screen_text"]) == (
        "happy",
        "push_in",
        "Hello",
    )
    assert "on_screen_text" not in shots[3]
    # The request: a forced tool call, numbered sentences, the recipe's prompt, the key as header.
    (request,) = fake.requests
    assert request["output_config"]["format"]["type"] == "json_schema"
    assert "tools" not in request and "tool_choice" not in request
    assert request["model"] == "claude-sonnet-5-5"
    user = request["messages"][0]["content"]
    for i, sentence in enumerate(SENTENCES, start=1):
        assert f"{i}. {sentence}" in user
    assert "Tess" in request["system"]
    assert "one idea per shot" in request["system"].lower()  # the explainer recipe's rule
    assert sent_key(fake.headers[0]) == KEY
    # Token usage is recorded with its cost, from the price table.
    data = yaml.safe_load((folder / "build" / "plan.yaml").read_text(encoding="utf-8"))
    units = {(b["provider"], b["unit"]): b for b in data["billing"]}
    assert units[("anthropic", "input_token")]["quantity"] == 1200
    assert units[("anthropic", "output_token")]["quantity"] == 150
    assert units[("anthropic", "input_token")]["usd"] == pytest.approx(1200 * 2e-6)
    assert_no_key_anywhere(folder)


def test_a_second_run_sends_no_request(folder: Path, fake: FakeAnthropic) -> None:
    fake.answer(message([as_json(GOOD)]))
    assert run_plan(folder, fake).ran
    fake.answer(message([as_json(GOOD)]))
    again = run_plan(folder, fake)
    assert not again.ran
    assert fake.requests == []


def test_the_persona_brain_prompt_and_recipe_are_part_of_the_key(
    folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(message([as_json(GOOD)]))
    run_plan(folder, fake)
    persona = folder / "persona.yaml"
    persona.write_text(
        persona.read_text() + "brain_prompt: You love puns and short words.\n", encoding="utf-8"
    )
    fake.answer(message([as_json(GOOD)]))
    result = run_plan(folder, fake)
    assert result.ran and result.reason == "changed: director"
    assert "You love puns" in fake.requests[0]["system"]
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "recipe: short\n", encoding="utf-8")
    fake.answer(message([as_json(GOOD)]))
    result = run_plan(folder, fake)
    assert result.ran and result.reason == "changed: director"
    assert "hook" in fake.requests[0]["system"]


def test_a_project_recipe_overrides_the_shipped_one(folder: Path, fake: FakeAnthropic) -> None:
    own = folder / "recipes" / "explainer"
    (own / "prompts").mkdir(parents=True)
    (own / "recipe.yaml").write_text(
        "schema_version: 1\ndescription: my own kind\ntarget_length: {min_s: 10, max_s: 20}\n",
        encoding="utf-8",
    )
    (own / "prompts" / "director.j2").write_text(
        "House style for {{ persona.name }}: {{ recipe.description }}.\n",
        encoding="utf-8",
    )
    fake.answer(message([as_json(GOOD)]))
    run_plan(folder, fake)
    assert fake.requests[0]["system"] == "House style for Tess: my own kind.\n"


def test_a_template_error_is_one_line_with_file_and_line(folder: Path, fake: FakeAnthropic) -> None:
    own = folder / "recipes" / "explainer"
    (own / "prompts").mkdir(parents=True)
    (own / "recipe.yaml").write_text(
        "schema_version: 1\ndescription: x\ntarget_length: {min_s: 10, max_s: 20}\n",
        encoding="utf-8",
    )
    (own / "prompts" / "director.j2").write_text("ok\n{{ persona.nmae }}\n", encoding="utf-8")
    with pytest.raises(PersonaForgeError) as info:
        run_plan(folder, fake)
    message_ = str(info.value)
    assert "director.j2:2: " in message_ and "nmae" in message_ and "\n" not in message_
    assert fake.requests == []


def first_answer_text(data: Any) -> str:
    return data if isinstance(data, str) else json.dumps(data)


BAD_ANSWERS = {
    "missing sentence": {"shots": [{**GOOD["shots"][0], "sentences": [1, 2, 4]}]},
    "sentence twice": {"shots": [GOOD["shots"][0], {**GOOD["shots"][1], "sentences": [2, 3, 4]}]},
    "out of order": {"shots": [{**GOOD["shots"][0], "sentences": [2, 1, 3, 4]}]},
    "too many": {"shots": [{**GOOD["shots"][0], "sentences": [1, 2, 3, 4, 5]}]},
    "wrong field": {"shots": [{**GOOD["shots"][0], "sentences": [1, 2, 3, 4], "mood": "x"}]},
    "unknown emotion": {
        "shots": [{**GOOD["shots"][0], "sentences": [1, 2, 3, 4], "emotion": "furious"}]
    },
    "no shots": {"shots": []},
    "not json": "{'shots': [1, 2",
}


@pytest.mark.parametrize("bad", sorted(BAD_ANSWERS))
def test_a_bad_answer_is_sent_back_once_with_the_problem(
    bad: str, folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(message([as_json(BAD_ANSWERS[bad])]), message([as_json(GOOD)]))
    assert run_plan(folder, fake).ran
    assert len(fake.requests) == 2
    first, second = fake.requests
    assert second["messages"][0] == first["messages"][0]
    assistant, reply = second["messages"][1:]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0]["text"] == first_answer_text(BAD_ANSWERS[bad])
    assert reply["role"] == "user" and "cannot be used" in reply["content"]
    # The plan is the good answer's, with the script's own words.
    assert [s["text"] for s in planned(folder) if s["kind"] == "talking"] == [
        " ".join(SENTENCES[:2]),
        " ".join(SENTENCES[2:]),
    ]


def test_the_coverage_problem_is_told_precisely(folder: Path, fake: FakeAnthropic) -> None:
    fake.answer(message([as_json(BAD_ANSWERS["missing sentence"])]), message([as_json(GOOD)]))
    run_plan(folder, fake)
    told = fake.requests[1]["messages"][2]["content"]
    assert "sentence 3 is missing" in told


@pytest.mark.parametrize(
    "answer",
    [
        message([], stop_reason="refusal"),
        message([text("I would rather not.")], stop_reason="refusal"),
        message([], stop_reason="end_turn"),
        message([text("Sure! Shot one is sentences 1 and 2.")], stop_reason="end_turn"),
        message([thinking()], stop_reason="end_turn"),
    ],
    ids=["refusal-empty", "refusal-text", "empty", "prose", "thinking-only"],
)
def test_refusals_and_answers_without_the_tool_are_asked_again(
    answer: Any, folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(answer, message([as_json(GOOD)]))
    assert run_plan(folder, fake).ran
    assert len(fake.requests) == 2
    last = fake.requests[1]["messages"][-1]
    assert last["role"] == "user" and "Answer again" in json.dumps(last["content"])
    # Both answers' tokens are billed.
    data = yaml.safe_load((folder / "build" / "plan.yaml").read_text(encoding="utf-8"))
    assert sum(b["quantity"] for b in data["billing"] if b["unit"] == "input_token") == 2400


def test_a_truncated_answer_is_asked_again_with_more_room(
    folder: Path, fake: FakeAnthropic
) -> None:
    cut = message([as_json('{"shots": [{"sentences": [1, 2], "ki')], stop_reason="max_tokens")
    fake.answer(cut, message([as_json(GOOD)]))
    assert run_plan(folder, fake).ran
    assert [r["max_tokens"] for r in fake.requests] == [16000, 32000]


@pytest.mark.parametrize(
    "answer",
    [
        message([as_json(BAD_ANSWERS["missing sentence"])]),
        message([], stop_reason="refusal"),
        message([as_json('{"shots": [')], stop_reason="max_tokens"),
        message([as_json(BAD_ANSWERS["not json"])]),
    ],
    ids=["coverage", "refusal", "truncated", "not-json"],
)
def test_a_second_bad_answer_is_one_line_and_no_plan(
    answer: Any, folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(answer)
    with pytest.raises(PersonaForgeError) as info:
        run_plan(folder, fake)
    assert len(fake.requests) == 2
    assert "not usable twice" in str(info.value) and "\n" not in str(info.value)
    assert not (folder / "build" / "plan.yaml").exists()


@pytest.mark.parametrize(
    ("reply", "calls", "words"),
    [
        (error(401, "authentication_error", "invalid x-api-key"), 1, "API key was rejected (401)"),
        (error(429, "rate_limit_error", "slow down"), 3, "rate limited (429) after 2 retries"),
        (error(529, "overloaded_error", "Overloaded"), 3, "overloaded (529) after 2 retries"),
        (error(400, "invalid_request_error", "bad tools"), 1, "HTTP 400"),
    ],
    ids=["401", "429", "529", "400"],
)
def test_http_faults_are_retried_by_the_sdk_then_one_line(
    reply: Any, calls: int, words: str, folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(reply)
    with pytest.raises(PersonaForgeError) as info:
        run_plan(folder, fake)
    assert len(fake.requests) == calls
    assert words in str(info.value) and KEY not in str(info.value)


def test_a_busy_server_then_an_answer_succeeds(folder: Path, fake: FakeAnthropic) -> None:
    fake.answer(
        error(529, "overloaded_error"), error(429, "rate_limit_error"), message([as_json(GOOD)])
    )
    assert run_plan(folder, fake).ran
    assert len(fake.requests) == 3


def test_cli_401_is_one_line_exit_1_and_the_key_stays_secret(
    folder: Path, fake: FakeAnthropic
) -> None:
    fake.answer(error(401, "authentication_error", f"invalid x-api-key {KEY}"))
    proc = run_cli("plan", str(folder), env=env_for(fake))
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: [plan]"), proc.stderr
    assert "401" in lines[0] and KEY not in proc.stderr + proc.stdout
    assert_no_key_anywhere(folder)


def test_cli_key_and_base_url_from_the_project_env_file(folder: Path, fake: FakeAnthropic) -> None:
    (folder / ".env").write_text(
        f"ANTHROPIC_API_KEY={KEY}\nANTHROPIC_BASE_URL={fake.url}\n", encoding="utf-8"
    )
    fake.answer(message([as_json(GOOD)]))
    proc = run_cli("plan", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["status"] == "ran"
    assert len(fake.requests) == 1
    proc = run_cli("plan", str(folder), "--json")
    assert json.loads(proc.stdout)["status"] == "skipped" and len(fake.requests) == 1
    # The director's tokens are part of the project's recorded cost.
    status = json.loads(run_cli("status", str(folder), "--json").stdout)
    assert status["cost"]["units"]["anthropic:input_token"] == 1200


def test_missing_key_is_a_clear_error_before_any_request(folder: Path, fake: FakeAnthropic) -> None:
    ctx = Context.load(Project(folder), env={"ANTHROPIC_BASE_URL": fake.url})
    with pytest.raises(PersonaForgeError) as info:
        run_stage("plan", ctx)
    assert "needs ANTHROPIC_API_KEY" in str(info.value)
    assert fake.requests == []
