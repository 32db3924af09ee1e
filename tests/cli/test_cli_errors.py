"""Bad input: one line naming the file and field, exit 1, no traceback, nothing half-written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import one_error_line, run_cli

from personaforge.core.yamlio import SEAL_PREFIX, seal_text


def test_malformed_yaml_names_file_and_line(project: Path) -> None:
    (project / "video.yaml").write_text("schema_version: 1\ntitle: [unclosed\nscript: script.md\n")
    proc = run_cli("plan", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert f"{project / 'video.yaml'}:" in line and "invalid YAML" in line
    assert not (project / "build" / "plan.yaml").exists()


def test_unknown_key_suggests_the_right_one(project: Path) -> None:
    (project / "video.yaml").write_text(
        "schema_version: 1\ntitle: T\nscript: script.md\nfromat: shorts\n"
    )
    proc = run_cli("make-video", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "video.yaml:4: fromat: unknown key; did you mean 'format'?" in line
    assert "[plan]" not in line or "video.yaml" in line


def test_bad_nested_value_names_field_and_line(project: Path) -> None:
    (project / "persona.yaml").write_text("name: Tess\nlook:\n  shirt: red\n")
    proc = run_cli("speak", str(project))
    line = one_error_line(proc.stderr)
    assert proc.returncode == 1
    assert "persona.yaml:3: look.shirt:" in line and "colour" in line


def test_missing_script_file(project: Path) -> None:
    (project / "script.md").unlink()
    proc = run_cli("make-video", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[plan]" in line and "video.yaml" in line and "script" in line and "not found" in line


def test_missing_project_folder(tmp_path: Path) -> None:
    proc = run_cli("make-video", str(tmp_path / "nope"))
    assert proc.returncode == 1
    assert "does not exist" in one_error_line(proc.stderr)


def test_downstream_stage_before_upstream_says_what_to_run(project: Path) -> None:
    proc = run_cli("render", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[render]" in line and "personaforge lipsync" in line


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folder(project: Path) -> None:  # pragma: no cover - CI runs as root
    os.chmod(project, 0o555)
    try:
        proc = run_cli("plan", str(project))
    finally:
        os.chmod(project, 0o755)
    assert proc.returncode == 1
    assert "not writable" in one_error_line(proc.stderr) or "cannot create" in proc.stderr


def test_unwritable_build_folder_even_as_root(project: Path) -> None:
    """A file where build/ should be: the same error path root meets on a read-only disk."""
    (project / "build").write_text("not a folder")
    proc = run_cli("plan", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "build" in line
    assert (project / "build").read_text() == "not a folder"


def test_usage_error_exit_code_2(project: Path) -> None:
    proc = run_cli("make-video", str(project), "--format", "cinema")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_stdin_dash_needs_the_upstream_manifest(project: Path) -> None:
    proc = run_cli("speak", "-", stdin="\n")
    assert proc.returncode == 1
    assert "stdin" in one_error_line(proc.stderr)


def test_every_command_has_help() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    for cmd in ("init", "wizard", "plan", "speak", "lipsync", "render", "publish", "make-video",
                "status", "doctor", "schema"):  # fmt: skip
        assert cmd in proc.stdout
        sub = run_cli(cmd, "--help")
        assert sub.returncode == 0 and "Usage" in sub.stdout


def test_crash_writes_a_log_and_exits_3(tmp_path: Path) -> None:
    """An unexpected exception: short message, crash log path, exit 3, no secret in the log."""
    import subprocess
    import sys

    code = (
        "from personaforge.cli.main import app, main\n"
        "@app.command()\n"
        "def boom() -> None:\n"
        "    secret = 'sk-should-not-leak'\n"
        "    raise RuntimeError('kaboom')\n"
        "main(['boom'])\n"
    )
    env = {**os.environ, "PERSONAFORGE_LOG_DIR": str(tmp_path / "logs")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 3
    assert "Traceback" not in proc.stderr
    assert "kaboom" in proc.stderr
    logs = list((tmp_path / "logs").glob("crash-*.log"))
    assert len(logs) == 1 and str(logs[0]) in proc.stderr
    text = logs[0].read_text()
    assert "RuntimeError: kaboom" in text and "sk-should-not-leak" not in text


def test_doctor_reports_a_missing_ffmpeg(tmp_path: Path) -> None:
    proc = run_cli("doctor", "--json", env={"PERSONAFORGE_FFMPEG": str(tmp_path / "no-ffmpeg")})
    assert proc.returncode == 1
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert checks["ffmpeg"]["ok"] is False and "PERSONAFORGE_FFMPEG" in checks["ffmpeg"]["detail"]
    assert checks["voice"]["ok"] is True and checks["font"]["ok"] is True
    assert checks["ANTHROPIC_API_KEY"]["detail"].startswith("not set")


def _resealed(text: str) -> str:
    return seal_text(text.partition(SEAL_PREFIX)[0])


def test_tampered_manifest_path_cannot_escape_the_project(project: Path) -> None:
    assert run_cli("plan", str(project)).returncode == 0
    assert run_cli("speak", str(project)).returncode == 0
    speech = project / "build" / "speech.yaml"
    text = speech.read_text()
    first_audio = next(ln for ln in text.splitlines() if ln.strip().startswith("audio:"))
    # Sealed again, as a tool that knew the seal could: the path check still holds.
    speech.write_text(_resealed(text.replace(first_audio, "  audio: ../../etc/passwd", 1)))
    line_no = speech.read_text().splitlines().index("  audio: ../../etc/passwd") + 1
    proc = run_cli("lipsync", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert f"speech.yaml:{line_no}: shots[0].audio:" in line and "[lipsync]" in line
    assert not (project / "build" / "lipsync.yaml").exists()


def test_unknown_key_in_a_recorded_manifest(project: Path) -> None:
    assert run_cli("plan", str(project)).returncode == 0
    plan = project / "build" / "plan.yaml"
    lines = plan.read_text().splitlines()
    lines.insert(1, "extra_key: 1")
    plan.write_text(_resealed("\n".join(lines) + "\n"))
    proc = run_cli("speak", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "plan.yaml:2: extra_key: unknown key" in line and "[speak]" in line


@pytest.mark.parametrize(
    ("script", "fragment"),
    [("!!! ... ??? --- ;;;\n", "no words to speak"), ("🎉 👍\n", "no words to speak")],
)
def test_script_with_nothing_to_say(project: Path, script: str, fragment: str) -> None:
    (project / "script.md").write_text(script)
    line = one_error_line(run_cli("make-video", str(project)).stderr)
    assert "[plan]" in line and "video.yaml" in line and fragment in line
    assert not (project / "build" / "speech.yaml").exists()


def test_unknown_backend_fails_before_any_work_with_file_and_line(project: Path) -> None:
    video = project / "video.yaml"
    video.write_text(video.read_text() + "backends:\n  lipsync: wav2lip\n")
    proc = run_cli("make-video", str(project))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[lipsync]" in line and "video.yaml:7: backends.lipsync:" in line
    assert "wav2lip" in line and "avatar" in line
    assert not (project / "build").exists()


def test_unknown_voice_names_the_persona_file(project: Path) -> None:
    persona = project / "persona.yaml"
    persona.write_text(persona.read_text() + "voice:\n  voice: amy\n")
    line = one_error_line(run_cli("make-video", str(project)).stderr)
    assert "[speak]" in line and "persona.yaml:5: voice.voice:" in line and "amy" in line


def test_bom_and_crlf_script(project: Path) -> None:
    (project / "script.md").write_bytes(
        "\ufeff# Big Heading\r\n\r\nHello there, friend.\r\n".encode()
    )
    assert run_cli("plan", str(project)).returncode == 0
    import yaml

    shots = yaml.safe_load((project / "build" / "plan.yaml").read_text())["shots"]
    assert [(s["kind"], s["text"]) for s in shots] == [
        ("title", "Big Heading"),
        ("talking", "Hello there, friend."),
    ]


@pytest.mark.parametrize("res", ["10x10", "00x00", "9000x9000"])
def test_unusable_resolution(project: Path, res: str) -> None:
    video = project / "video.yaml"
    video.write_text(video.read_text().replace("'320x180'", f"'{res}'"))
    line = one_error_line(run_cli("make-video", str(project)).stderr)
    assert "video.yaml:5: resolution:" in line


def test_init_with_a_file_in_the_way_and_a_long_heading(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    line = one_error_line(run_cli("init", str(tmp_path / "afile")).stderr)
    assert "expected a folder" in line
    long = tmp_path / "long.md"
    long.write_text("# " + "word " * 80 + "\n\nSome text here to say.\n")
    proc = run_cli("init", str(tmp_path / "p"), "--script", str(long))
    assert proc.returncode == 0, proc.stderr
    too_long = run_cli("init", str(tmp_path / "q"), "--title", "x" * 250)
    assert "title:" in one_error_line(too_long.stderr)
    assert not (tmp_path / "q").exists()


def test_symlinked_build_folder(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "scratch"
    elsewhere.mkdir()
    (project / "build").symlink_to(elsewhere)
    proc = run_cli("plan", str(project))
    assert proc.returncode == 0, proc.stderr
    assert (elsewhere / "plan.yaml").is_file()


def test_stdin_dash_refuses_the_wrong_stage_manifest(project: Path) -> None:
    assert run_cli("plan", str(project)).returncode == 0
    plan = str(project / "build" / "plan.yaml")
    line = one_error_line(run_cli("lipsync", "-", stdin=plan + "\n").stderr)
    assert line.startswith("error: [lipsync]") and "expected the speak manifest" in line
    proc = run_cli("speak", "-", stdin=plan + "\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(project / "build" / "speech.yaml")


def test_the_outcome_file_holds_the_error_as_fields(project: Path, tmp_path: Path) -> None:
    """What batch reads of a child run: the exit code and the error's parts, not stderr."""
    (project / "video.yaml").write_text(
        "schema_version: 1\ntitle: T\nscript: script.md\nfromat: shorts\n"
    )
    outcome = tmp_path / "outcome.json"
    proc = run_cli("make-video", str(project), env={"PERSONAFORGE_OUTCOME_FILE": str(outcome)})
    data = json.loads(outcome.read_text())
    assert data["exit_code"] == proc.returncode == 1
    error = data["error"]
    assert error["file"] == str(project / "video.yaml") and error["line"] == 4
    assert error["field"] == "fromat" and "did you mean 'format'" in error["message"]
    assert one_error_line(proc.stderr) == f"error: {error['text']}"
    ok = run_cli("--version", env={"PERSONAFORGE_OUTCOME_FILE": str(outcome)})
    assert ok.returncode == 0
    assert json.loads(outcome.read_text()) == {"exit_code": 0, "error": None}
