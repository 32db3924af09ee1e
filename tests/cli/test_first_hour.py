"""The first hour, as a newcomer meets it: each surprise fixed, or said where they look."""

from __future__ import annotations

import json
import re
from pathlib import Path

import av
import pytest
import yaml
from helpers import run_cli, write_project

from personaforge.core.specs import VideoSpec

REPO = Path(__file__).resolve().parents[2]


def _complete(words: str) -> list[str]:
    env = {"_PERSONAFORGE_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1))}  # fmt: skip
    proc = run_cli(env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_completion_offers_option_values() -> None:
    assert _complete("personaforge init x --format ") == ["youtube", "shorts", "square"]
    assert "lesson" in _complete("personaforge init x --recipe l")
    assert _complete("personaforge wizard --archetype teac") == ["teacher"]
    assert _complete("personaforge voices --backend ") == ["elevenlabs", "espeak", "piper"]


def test_errors_in_our_words(tmp_path: Path) -> None:
    # pydantic's "Input should be ..." becomes ours, with a did-you-mean.
    folder = write_project(tmp_path / "p", fmt="shorst")
    proc = run_cli("plan", str(folder))
    assert proc.returncode == 1
    line = proc.stderr.strip().splitlines()[-1]
    assert line.endswith("format: must be one of youtube, shorts, square; did you mean 'shorts'?")
    assert "Input should" not in proc.stderr
    # An unclosed quote is reported on the line it opens.
    (folder / "video.yaml").write_text('schema_version: 1\ntitle: "Tiny\nscript: script.md\n')
    proc = run_cli("plan", str(folder))
    assert "video.yaml:2: invalid YAML: a quote that is never closed" in proc.stderr
    # A misspelt archetype.
    proc = run_cli("wizard", str(tmp_path / "w"), "--name", "Ada", "--archetype", "teachr", "-y")
    assert proc.returncode == 1 and "did you mean 'teacher'?" in proc.stderr
    # An unknown voice backend names the option, not an internal field.
    proc = run_cli("voices", "--backend", "foo")
    assert proc.returncode == 2 and "--backend" in proc.stderr
    assert "backends.speak" not in proc.stderr


def test_init_speaks_the_wizards_persona_and_titles_from_the_heading(tmp_path: Path) -> None:
    folder = tmp_path / "v"
    assert (
        run_cli("wizard", str(folder), "--name", "Ada", "--archetype", "teacher", "-y").returncode
        == 0
    )
    assert run_cli("init", str(folder)).returncode == 0
    assert "Hi, I'm Ada." in (folder / "script.md").read_text()
    # No title in video.yaml: the heading is the title, so editing it retitles the video.
    assert "title" not in yaml.safe_load((folder / "video.yaml").read_text())
    script = folder / "script.md"
    script.write_text(script.read_text().replace("# Hello", "# Ada on tides"))
    proc = run_cli("plan", str(folder))
    assert proc.returncode == 0, proc.stderr
    plan = yaml.safe_load((folder / "build/plan.yaml").read_text())
    assert plan["title"] == "Ada on tides" and plan["slug"] == "ada-on-tides"


def test_init_recipe_names_the_persona_to_fit_the_offline_voice(tmp_path: Path) -> None:
    assert run_cli("init", str(tmp_path / "l"), "--recipe", "lesson").returncode == 0
    persona = yaml.safe_load((tmp_path / "l/persona.yaml").read_text())
    assert persona["name"] == "Max" and persona["voice"]["voice"] == "joe"


def test_readme_quick_start_works(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    init = next(line for line in block.splitlines() if " init " in line)
    args = init.split("#")[0].split()[1:]
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    # A --script that is not there says what to do.
    proc = run_cli("init", "x", "--script", "my-script.md", cwd=tmp_path)
    assert proc.returncode == 1 and "write your script there first" in proc.stderr


def test_a_stage_reads_the_upstream_json_on_stdin(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p")
    plan = run_cli("plan", str(folder), "--json")
    assert plan.returncode == 0, plan.stderr
    proc = run_cli("plan", "-", "--json", stdin=plan.stdout)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["manifest"].endswith("plan.yaml")
    bad = run_cli("plan", "-", stdin='{"stage": "plan"}\n')
    assert bad.returncode == 1 and '"manifest"' in bad.stderr


def test_doctor_lists_every_optional_sdk() -> None:
    proc = run_cli("doctor", "--json")
    names = {row["name"]: row for row in json.loads(proc.stdout)}
    for sdk in ("boto3", "elevenlabs", "anthropic", "replicate", "runpod", "rq", "redis"):
        assert sdk in names and names[sdk]["required"] is False, sdk
        assert re.search(r"personaforge\[\w+\]", names[sdk]["detail"])


def test_format_override_keeps_the_preview_size() -> None:
    video = VideoSpec(title="t", script="s.md", resolution="640x360")
    assert video.for_format("shorts").resolution == "360x640"
    assert video.for_format("square").resolution == "360x360"
    assert VideoSpec(title="t", script="s.md").for_format("shorts").resolution is None


@pytest.mark.slow
def test_make_video_format_shorts_renders_at_the_preview_size(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "p", "Hello there.\n")
    proc = run_cli("make-video", str(folder), "--format", "shorts", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    assert "--format shorts: at 180x320" in proc.stderr
    with av.open(proc.stdout.strip()) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (180, 320)
