"""write, wizard --describe, estimate, make-video --dry-run / --max-cost / budget: the real CLI,
Claude through the real SDK against a local /v1/messages server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fake_anthropic import FakeAnthropic, as_json, error, message, running
from helpers import run_cli, write_project

from personaforge.costs import price

KEY = "sk-ant-test-brain-5ecret"


@pytest.fixture
def fake() -> Iterator[FakeAnthropic]:
    with running() as server:
        yield server


def env_for(fake: FakeAnthropic) -> dict[str, str]:
    return {
        "ANTHROPIC_API_KEY": KEY,
        "ANTHROPIC_BASE_URL": fake.url,
        "PERSONAFORGE_CLAUDE_MAX_RETRIES": "1",
    }


def one_error_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), stderr
    return lines[0]


def no_key_in(folder: Path, *texts: str) -> None:
    for text in texts:
        assert KEY not in text
    for path in folder.rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text(encoding="utf-8", errors="replace"), path


# ---------------------------------------------------------------- write


def test_write_offline_with_a_recipe_writes_its_skeleton_and_never_overwrites(
    tmp_path: Path,
) -> None:
    folder = write_project(tmp_path / "p", "old words\n")
    (folder / "script.md").unlink()
    proc = run_cli("write", str(folder), "--recipe", "short")
    assert proc.returncode == 0, proc.stderr
    text = (folder / "script.md").read_text(encoding="utf-8")
    assert text.startswith("# Tiny test") and "one thing nobody tells you" in text
    (folder / "script.md").write_text("mine\n", encoding="utf-8")
    proc = run_cli("write", str(folder), "--recipe", "lesson")
    assert proc.returncode == 1
    assert "--force" in one_error_line(proc.stderr)
    assert (folder / "script.md").read_text(encoding="utf-8") == "mine\n"
    assert run_cli("write", str(folder), "--recipe", "lesson", "--force").returncode == 0
    assert "## Recap" in (folder / "script.md").read_text(encoding="utf-8")


def test_write_drafts_the_script_in_the_personas_voice(tmp_path: Path, fake: FakeAnthropic) -> None:
    folder = write_project(tmp_path / "p")
    (folder / "script.md").unlink()
    persona = folder / "persona.yaml"
    persona.write_text(persona.read_text() + "brain_prompt: You explain with kitchen analogies.\n")
    script = "# Black holes\n\nA black hole is a kitchen sink for light. Nothing drains back out.\n"
    fake.answer(message([as_json({"script": script})], input_tokens=900, output_tokens=80))
    proc = run_cli(
        "write", str(folder), "--topic", "black holes", "--recipe", "short", "--length", "45s",
        env=env_for(fake),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (folder / "script.md").read_text(encoding="utf-8") == script
    assert proc.stdout.strip() == str(folder / "script.md")
    (request,) = fake.requests
    assert "kitchen analogies" in request["system"] and "Tess" in request["system"]
    assert "about 112 words" in request["system"] and "hook" in request["system"]
    assert request["messages"][0]["content"] == "Topic: black holes"
    assert request["output_config"]["format"]["schema"]["required"] == ["script"]
    assert "900 input tokens" in proc.stderr
    no_key_in(folder, proc.stderr, proc.stdout)


def test_write_asks_again_when_the_script_has_no_words(tmp_path: Path, fake: FakeAnthropic) -> None:
    folder = write_project(tmp_path / "p")
    (folder / "script.md").unlink()
    fake.answer(
        message([as_json({"script": "... !!! ???"})]),
        message([as_json({"script": "Words to say, at last."})]),
    )
    proc = run_cli("write", str(folder), "--topic", "anything", env=env_for(fake))
    assert proc.returncode == 0, proc.stderr
    assert len(fake.requests) == 2
    assert "no words to speak" in fake.requests[1]["messages"][-1]["content"]


def test_write_refuses_before_asking_when_a_script_exists(
    tmp_path: Path, fake: FakeAnthropic
) -> None:
    folder = write_project(tmp_path / "p")
    proc = run_cli("-q", "write", str(folder), "--topic", "x", env=env_for(fake))
    assert proc.returncode == 1 and "already exists" in one_error_line(proc.stderr)
    assert fake.requests == []


def test_write_with_a_rejected_key_is_one_line(tmp_path: Path, fake: FakeAnthropic) -> None:
    folder = write_project(tmp_path / "p")
    (folder / "script.md").unlink()
    fake.answer(error(401, "authentication_error", "invalid x-api-key"))
    proc = run_cli("-q", "write", str(folder), "--topic", "x", env=env_for(fake))
    assert proc.returncode == 1
    assert "API key was rejected (401)" in one_error_line(proc.stderr)
    assert not (folder / "script.md").exists()
    no_key_in(folder, proc.stderr)


# ---------------------------------------------------------------- wizard --describe

PERSONA = {
    "name": "Nova",
    "archetype": "teacher",
    "voice": "joe",
    "look": {"skin": "#c68642", "hair": "#222222", "eyes": "#334455", "shirt": "#1e3a8a",
             "background": "#0b1020", "accent": "#fbbf24", "hair_style": "bun", "glasses": True},
    "brain_prompt": "You are a calm science teacher who loves space. You use small examples.",
}  # fmt: skip


def test_wizard_describe_proposes_shows_and_writes(tmp_path: Path, fake: FakeAnthropic) -> None:
    folder = tmp_path / "p"
    fake.answer(message([as_json(PERSONA)]))
    proc = run_cli(
        "wizard", str(folder), "--describe", "a calm science teacher who loves space", "--yes",
        env=env_for(fake),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    written = yaml.safe_load((folder / "persona.yaml").read_text(encoding="utf-8"))
    assert written["name"] == "Nova" and written["archetype"] == "teacher"
    assert written["look"]["shirt"] == "#1e3a8a" and written["brain_prompt"].startswith("You are")
    assert "name: Nova" in proc.stderr  # shown before it is written
    (request,) = fake.requests
    assert request["messages"][0]["content"] == "a calm science teacher who loves space"
    assert (
        "teacher" in request["output_config"]["format"]["schema"]["properties"]["archetype"]["enum"]
    )
    no_key_in(folder, proc.stderr, proc.stdout)


def test_wizard_describe_asks_again_for_an_invalid_persona(
    tmp_path: Path, fake: FakeAnthropic
) -> None:
    bad = {**PERSONA, "look": {**PERSONA["look"], "shirt": "navy"}}  # type: ignore[dict-item]
    fake.answer(message([as_json(bad)]), message([as_json(PERSONA)]))
    proc = run_cli("wizard", str(tmp_path / "p"), "--describe", "x", "--yes", env=env_for(fake))
    assert proc.returncode == 0, proc.stderr
    assert "navy" in fake.requests[1]["messages"][-1]["content"]


def test_wizard_describe_without_a_terminal_needs_yes(tmp_path: Path, fake: FakeAnthropic) -> None:
    proc = run_cli("wizard", str(tmp_path / "p"), "--describe", "x", env=env_for(fake))
    assert proc.returncode == 1 and "--yes" in one_error_line(proc.stderr)
    assert fake.requests == []
    assert not (tmp_path / "p" / "persona.yaml").exists()


# ---------------------------------------------------------------- estimate, budget

PAID = "backends: {plan: claude, speak: elevenlabs, lipsync: sadtalker}\n"


def _with_photo(folder: Path) -> Path:
    """SadTalker animates a photograph: the persona's look is one (a drawn look is refused)."""
    from backends.lipsync_helpers import write_portrait

    write_portrait(folder)
    persona = folder / "persona.yaml"
    persona.write_text(persona.read_text() + "look:\n  photo: portrait.jpg\n")
    return folder


def test_estimate_lists_every_billable_unit_and_sends_nothing(
    tmp_path: Path, fake: FakeAnthropic
) -> None:
    folder = _with_photo(write_project(tmp_path / "p", extra=PAID))
    proc = run_cli("estimate", str(folder), "--json", env=env_for(fake))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    stages = data["stages"]
    assert set(stages["plan"]["units"]) == {"anthropic:input_token", "anthropic:output_token"}
    assert set(stages["speak"]["units"]) == {"elevenlabs:character"}
    assert set(stages["lipsync"]["units"]) == {"replicate:gpu_second"}
    chars = stages["speak"]["units"]["elevenlabs:character"]
    assert chars >= len("Hello there, this is a short test video.")
    assert stages["speak"]["usd"] == pytest.approx(
        chars * price("elevenlabs", "character").usd_per_unit
    )
    assert data["usd"] == pytest.approx(sum(s["usd"] for s in stages.values()))
    assert data["usd"] > 0 and all(s["would_run"] for s in stages.values())
    assert (stages["plan"]["requests"], stages["speak"]["requests"]) == (1, 3)  # title spoken too
    assert stages["lipsync"]["requests"] == 2  # the title card is drawn here, not paid for
    assert fake.requests == [] and not (folder / "build").exists()
    # --dry-run is the same estimate.
    dry = run_cli("make-video", str(folder), "--dry-run", "--json", env=env_for(fake))
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout) == data
    text = run_cli("estimate", str(folder), env=env_for(fake))
    assert "elevenlabs characters" in text.stdout and "total" in text.stdout


@pytest.mark.parametrize("how", ["--max-cost", "budget"])
def test_a_run_over_budget_is_refused_before_anything_is_paid(
    how: str, tmp_path: Path, fake: FakeAnthropic
) -> None:
    extra = "backends: {plan: claude}\n" + ("budget: 0.0001\n" if how == "budget" else "")
    folder = write_project(tmp_path / "p", extra=extra)
    args = ["--max-cost", "0.0001"] if how == "--max-cost" else []
    proc = run_cli("make-video", str(folder), *args, env=env_for(fake))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "estimated cost $0.0" in line and "exceeds the budget of $0.00" in line
    assert ("--max-cost" if how == "--max-cost" else "budget in video.yaml") in line
    assert fake.requests == [] and not (folder / "build" / "plan.yaml").exists()


def test_estimate_knows_what_is_cached_shot_by_shot(tmp_path: Path) -> None:
    script = "First sentence is spoken here.\n\nSecond sentence is spoken too.\n"
    folder = write_project(tmp_path / "p", script, resolution="128x72")
    assert run_cli("plan", str(folder)).returncode == 0
    assert run_cli("speak", str(folder)).returncode == 0
    data = json.loads(run_cli("estimate", str(folder), "--json").stdout)
    assert not data["stages"]["plan"]["would_run"] and not data["stages"]["speak"]["would_run"]
    lipsync = data["stages"]["lipsync"]
    assert lipsync["would_run"] and lipsync["shots_to_make"] == 2
    assert run_cli("lipsync", str(folder)).returncode == 0
    (folder / "script.md").write_text(script.replace("Second", "Another"), encoding="utf-8")
    data = json.loads(run_cli("estimate", str(folder), "--json").stdout)
    speak = data["stages"]["speak"]  # only the edited shot is to be voiced again
    assert speak["would_run"] and (speak["shots_to_make"], speak["shots"]) == (1, 2)
    lipsync = data["stages"]["lipsync"]  # at least that one; never fewer than must be made
    assert lipsync["would_run"] and 1 <= lipsync["shots_to_make"] <= 2


def test_estimate_refuses_a_backend_name_make_video_would_refuse(tmp_path: Path) -> None:
    """A typo in a backend's name is an error where it is written, not an estimate of $0."""
    typo = "backends: {lipsync: sadtalkr}\n"
    folder = write_project(tmp_path / "p", "One sentence.\n", extra=typo)
    for command in (("estimate", str(folder)), ("make-video", str(folder), "--dry-run")):
        proc = run_cli(*command)
        assert proc.returncode == 1, proc.stdout
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and "Traceback" not in proc.stderr
        assert "[lipsync]" in lines[0] and "video.yaml:" in lines[0]
        assert "unknown lipsync backend 'sadtalkr'" in lines[0] and "sadtalker" in lines[0]
    assert not (folder / "build").exists()


def test_a_repeated_line_is_estimated_once(tmp_path: Path) -> None:
    """A line said twice the same way is voiced and lip-synced (and paid for) once: the
    estimate of a script with a repeat is that of the script without it."""
    paid = "backends: {speak: elevenlabs, lipsync: sadtalker}\n"
    once = "Thanks for watching.\n\nHere is the middle part.\n"
    twice = once + "\nThanks for watching.\n"
    stages = []
    for name, script in (("once", once), ("twice", twice)):
        folder = _with_photo(write_project(tmp_path / name, script, extra=paid))
        proc = run_cli("estimate", str(folder), "--json")
        assert proc.returncode == 0, proc.stderr
        stages.append(json.loads(proc.stdout)["stages"])
    for stage in ("speak", "lipsync"):
        assert stages[1][stage]["shots"] == stages[0][stage]["shots"] + 1
        assert stages[1][stage]["requests"] == stages[0][stage]["requests"] == 2
        assert stages[1][stage]["units"] == stages[0][stage]["units"] != {}
