"""The real command line, one subprocess per call: init, status, wizard, schema, doctor, --help."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from helpers import CLI, REPO, one_error_line, run_cli, run_cli_process

from personaforge import __version__
from personaforge.core.archetypes import ARCHETYPES

STAGE_NAMES = ["plan", "speak", "lipsync", "render", "publish"]
SECRET = "supersecret"


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), path
    return data


# ---------------------------------------------------------------- init and status


def test_init_scaffolds_default_project_that_status_sees_as_never_run(tmp_path: Path) -> None:
    folder = tmp_path / "fresh"
    proc = run_cli("init", str(folder))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(folder)
    video = _load(folder / "video.yaml")
    assert video["format"] == "youtube"
    assert video["script"] == "script.md"
    # No title: it is the script's first heading, so editing the heading renames the video.
    assert "title" not in video
    persona = _load(folder / "persona.yaml")
    assert persona["name"] == "Max" and persona["archetype"] == "narrator"
    script = (folder / "script.md").read_text(encoding="utf-8")
    assert script.startswith("# Hello") and "Max" in script

    status = run_cli("status", str(folder), "--json")
    assert status.returncode == 0, status.stderr
    rows = json.loads(status.stdout)
    assert list(rows) == STAGE_NAMES
    for stage, row in rows.items():
        assert row == {"up_to_date": False, "reason": "no previous run"}, stage
    assert not (folder / "build").exists()  # status runs nothing


def test_init_with_script_title_and_format(tmp_path: Path) -> None:
    source = tmp_path / "talk.md"
    text = "# Ignored heading\n\nA script of my own, with one sentence.\n"
    source.write_text(text, encoding="utf-8")
    folder = tmp_path / "proj"
    proc = run_cli(
        "init", str(folder), "--script", str(source), "--title", "My Talk", "--format", "shorts"
    )
    assert proc.returncode == 0, proc.stderr
    assert (folder / "script.md").read_text(encoding="utf-8") == text
    video = _load(folder / "video.yaml")
    assert video["format"] == "shorts"
    assert video["title"] == "My Talk"
    assert video["script"] == "script.md"
    assert source.read_text(encoding="utf-8") == text  # the original is left alone


def test_init_twice_without_force_fails_naming_video_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    assert run_cli("init", str(folder), "--format", "square").returncode == 0
    before = (folder / "video.yaml").read_bytes()
    proc = run_cli("init", str(folder), "--format", "shorts")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "video.yaml" in line and "--force" in line
    assert (folder / "video.yaml").read_bytes() == before
    assert proc.stdout == ""


def test_init_force_replaces_video_yaml(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    assert run_cli("init", str(folder)).returncode == 0
    proc = run_cli("init", str(folder), "--format", "square", "--force")
    assert proc.returncode == 0, proc.stderr
    assert _load(folder / "video.yaml")["format"] == "square"


def test_init_missing_script_file_names_it(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    missing = tmp_path / "no-such-script.md"
    proc = run_cli("init", str(folder), "--script", str(missing))
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert str(missing) in line and "not found" in line
    assert not (folder / "video.yaml").exists()
    assert not (folder / "persona.yaml").exists()


def test_init_bad_format_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("init", str(tmp_path / "proj"), "--format", "tiktok")
    assert proc.returncode == 2
    assert "--format" in proc.stderr and "shorts" in proc.stderr
    assert not (tmp_path / "proj").exists()


def test_init_keeps_a_script_md_the_user_already_wrote(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    mine = "# My own words\n\nI wrote this before running init.\n"
    (folder / "script.md").write_text(mine, encoding="utf-8")
    proc = run_cli("init", str(folder))
    # Either keep it (and use it) or refuse; silently replacing it loses the user's work.
    assert (folder / "script.md").read_text(encoding="utf-8") == mine, proc.stderr


def test_init_force_keeps_the_persona(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    assert run_cli("init", str(folder)).returncode == 0
    wiz = run_cli(
        "wizard", str(folder), "--name", "Zed", "--archetype", "coach", "--yes", "--force"
    )
    assert wiz.returncode == 0, wiz.stderr
    proc = run_cli("init", str(folder), "--format", "square", "--force")
    assert proc.returncode == 0, proc.stderr
    # --force is documented as "Replace an existing video.yaml", nothing more.
    assert _load(folder / "persona.yaml")["name"] == "Zed"


def test_init_files_follow_the_umask(tmp_path: Path) -> None:
    umask = os.umask(0)
    os.umask(umask)
    folder = tmp_path / "proj"
    assert run_cli("init", str(folder)).returncode == 0
    for name in ("persona.yaml", "video.yaml", "script.md"):
        mode = (folder / name).stat().st_mode & 0o777
        assert mode == 0o666 & ~umask, f"{name}: {oct(mode)}"


# ---------------------------------------------------------------- wizard, scripted


def test_wizard_yes_writes_persona_with_archetype_preset(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    proc = run_cli(
        "wizard", str(folder), "--name", "Ada", "--archetype", "teacher", "--voice", "joe",
        "--look", "shirt=#ff0000", "--yes",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(folder / "persona.yaml")
    persona = _load(folder / "persona.yaml")
    preset, speed = ARCHETYPES["teacher"].look, ARCHETYPES["teacher"].speed
    assert persona["name"] == "Ada"
    assert persona["archetype"] == "teacher"
    assert persona["voice"]["voice"] == "joe"
    assert persona["voice"]["speed"] == pytest.approx(speed)
    expected_look = {**preset.model_dump(), "shirt": "#ff0000"}
    assert persona["look"] == expected_look
    # The teacher preset, not the default look, fills in everything else.
    assert persona["look"]["glasses"] is True and persona["look"]["hair_style"] == "short"


def test_wizard_bad_colour_names_the_field(tmp_path: Path) -> None:
    proc = run_cli("wizard", str(tmp_path), "--name", "Ada", "--look", "shirt=red", "--yes")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "look.shirt" in line and "red" in line
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_unknown_look_key_is_refused(tmp_path: Path) -> None:
    proc = run_cli("wizard", str(tmp_path), "--name", "Ada", "--look", "hat=#ffffff", "--yes")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "look.hat" in line
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_unknown_archetype_names_it(tmp_path: Path) -> None:
    proc = run_cli("wizard", str(tmp_path), "--name", "Ada", "--archetype", "pirate", "--yes")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "'pirate'" in line and "teacher" in line
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_look_without_equals_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("wizard", str(tmp_path), "--name", "Ada", "--look", "nokey", "--yes")
    assert proc.returncode == 2
    assert "--look" in proc.stderr and "nokey" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_yes_without_name_is_a_usage_error(tmp_path: Path) -> None:
    proc = run_cli("wizard", str(tmp_path), "--yes")
    assert proc.returncode == 2
    assert "--name" in proc.stderr
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_without_yes_and_no_terminal_fails_clearly(tmp_path: Path) -> None:
    start = time.monotonic()
    proc = run_cli("wizard", str(tmp_path), "--name", "Ada", stdin="")
    assert time.monotonic() - start < 60  # it must not sit waiting for answers
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "terminal" in line and "--yes" in line
    assert not (tmp_path / "persona.yaml").exists()


def test_wizard_refuses_to_replace_persona_without_force(tmp_path: Path) -> None:
    first = run_cli("wizard", str(tmp_path), "--name", "Ada", "--yes")
    assert first.returncode == 0, first.stderr
    before = (tmp_path / "persona.yaml").read_bytes()
    proc = run_cli("wizard", str(tmp_path), "--name", "Bob", "--yes")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "persona.yaml" in line and "--force" in line
    assert (tmp_path / "persona.yaml").read_bytes() == before
    forced = run_cli("wizard", str(tmp_path), "--name", "Bob", "--yes", "--force")
    assert forced.returncode == 0, forced.stderr
    assert _load(tmp_path / "persona.yaml")["name"] == "Bob"


# ---------------------------------------------------------------- wizard on a terminal

PTY_DEADLINE_S = 20.0


class _Terminal:
    """The CLI on a real pseudo-terminal (stdin, stdout and stderr), read with a deadline."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        import pty

        master, slave = pty.openpty()
        self.fd = master
        self.buf = b""
        self.pos = 0
        self.deadline = time.monotonic() + PTY_DEADLINE_S
        try:
            self.proc = subprocess.Popen(
                [*CLI, *args], stdin=slave, stdout=slave, stderr=slave, env=env,
                close_fds=True, start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(slave)

    def _read(self, wait_s: float) -> bool:
        """Read what is there; False once the other side is closed."""
        ready, _, _ = select.select([self.fd], [], [], wait_s)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 4096)
        except OSError:  # EIO: every copy of the slave side is closed
            return False
        self.buf += data
        return bool(data)

    def expect(self, text: str) -> None:
        want = text.encode()
        while want not in self.buf[self.pos :]:
            left = self.deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.5)):
                raise AssertionError(f"never saw {text!r}; terminal showed:\n{self.text}")
        self.pos = self.buf.index(want, self.pos) + len(want)

    def answer(self, prompt: str, reply: str) -> None:
        self.expect(prompt)
        os.write(self.fd, reply.encode() + b"\r")

    def finish(self) -> int:
        while time.monotonic() < self.deadline and self._read(0.5):
            if self.proc.poll() is not None and not select.select([self.fd], [], [], 0)[0]:
                break
        try:
            return self.proc.wait(timeout=max(0.1, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.close()
            raise AssertionError(f"wizard did not finish; terminal showed:\n{self.text}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)

    @property
    def text(self) -> str:
        return self.buf.decode("utf-8", errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_wizard_on_a_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "proj"
    env = {**os.environ, "TERM": "dumb", "NO_COLOR": "1", "COLUMNS": "200"}
    term = _Terminal(["wizard", str(folder)], env)
    try:
        term.answer("Name", "Grace")
        for key, arch in ARCHETYPES.items():
            term.expect(f"{key}: {arch.description}")
        term.answer("Archetype", "pirate")  # not a choice: asked again
        term.answer("Archetype", "scientist")
        term.answer("Voice", "")  # keep the default, joe
        term.answer("Shirt colour", "#00ff00")
        term.answer("Background colour", "")  # keep the archetype's
        code = term.finish()
    finally:
        term.close()
    assert code == 0, term.text
    assert "pirate" in term.text and "Traceback" not in term.text
    persona = _load(folder / "persona.yaml")
    preset, speed = ARCHETYPES["scientist"].look, ARCHETYPES["scientist"].speed
    assert persona["name"] == "Grace"
    assert persona["archetype"] == "scientist"
    assert persona["voice"] == {"backend": "piper", "voice": "joe", "speed": speed}
    assert persona["look"]["shirt"] == "#00ff00"
    assert persona["look"]["background"] == preset.background
    assert persona["look"]["glasses"] is preset.glasses
    assert str(folder / "persona.yaml") in term.text


# ---------------------------------------------------------------- schema


def test_schema_prints_every_file_schema() -> None:
    proc = run_cli("schema")
    assert proc.returncode == 0, proc.stderr
    docs = json.loads(proc.stdout)
    assert {"persona.yaml", "video.yaml", "brand.yaml"} <= set(docs)
    assert {"name", "look"} <= set(docs["persona.yaml"]["properties"])
    assert {"logo", "font", "intro", "outro"} <= set(docs["brand.yaml"]["properties"])
    assert {"title", "format"} <= set(docs["video.yaml"]["properties"])
    assert "name" in docs["persona.yaml"]["required"]
    # The title defaults to the script's first heading, so video.yaml need not set it.
    assert "title" not in docs["video.yaml"].get("required", [])


def test_schema_out_writes_files_that_validate_video_yaml(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "schemas"
    proc = run_cli("schema", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    written = {Path(line).name for line in proc.stdout.split()}
    assert {"persona.schema.json", "video.schema.json", "publish.schema.json"} <= written
    assert {p.name for p in out.iterdir()} == written
    video_schema = json.loads((out / "video.schema.json").read_text(encoding="utf-8"))
    persona_schema = json.loads((out / "persona.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(video_schema)

    good = yaml.safe_load(
        "schema_version: 1\ntitle: Hi\nscript: script.md\nformat: shorts\n"
        "resolution: '640x360'\ncaptions: {burn: true, max_lines: 2}\n"
        "publish: {target: 's3://bucket/videos'}\n"
    )
    jsonschema.validate(good, video_schema)
    with pytest.raises(jsonschema.ValidationError, match="fromat"):
        jsonschema.validate({**good, "fromat": "shorts"}, video_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "format": "tiktok"}, video_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**good, "captions": {"burn": True, "size": 3}}, video_schema)

    jsonschema.validate({"name": "Ada", "look": {"shirt": "#ff0000"}}, persona_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"name": "Ada", "look": {"hat": "#ff0000"}}, persona_schema)


def test_scaffolded_video_yaml_matches_the_schema(tmp_path: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    docs = json.loads(run_cli("schema").stdout)
    assert run_cli("init", str(tmp_path / "p"), "--format", "square").returncode == 0
    jsonschema.validate(_load(tmp_path / "p" / "video.yaml"), docs["video.yaml"])
    jsonschema.validate(_load(tmp_path / "p" / "persona.yaml"), docs["persona.yaml"])


# ---------------------------------------------------------------- doctor


def _checks(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    rows = json.loads(proc.stdout)
    return {row["name"]: row for row in rows}


def test_doctor_json_reports_tools_and_unset_keys() -> None:
    proc = run_cli("doctor", "--json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = _checks(proc)
    for name in ("ffmpeg", "voice", "font"):
        assert checks[name]["ok"] is True, checks[name]
        assert checks[name]["required"] is True
    assert Path(checks["font"]["detail"]).is_file()
    for key in ("R2_ENDPOINT", "R2_ACCESS_KEY", "R2_SECRET_KEY", "ELEVENLABS_API_KEY"):
        assert checks[key]["ok"] is False
        assert checks[key]["required"] is False
        assert checks[key]["detail"].startswith("not set")
    assert __version__ in checks["personaforge"]["detail"]


@pytest.mark.parametrize("as_json", [True, False], ids=["json", "text"])
def test_doctor_shows_a_key_is_set_but_never_its_value(as_json: bool) -> None:
    args = ["doctor", "--json"] if as_json else ["doctor"]
    proc = run_cli(*args, env={"R2_ACCESS_KEY": SECRET, "R2_SECRET_KEY": SECRET + "2"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert SECRET not in proc.stdout and SECRET not in proc.stderr
    if as_json:
        checks = _checks(proc)
        assert checks["R2_ACCESS_KEY"]["ok"] is True
        assert checks["R2_ACCESS_KEY"]["detail"].startswith("set")
        assert checks["R2_SECRET_KEY"]["detail"].startswith("set")
        assert checks["R2_ENDPOINT"]["detail"].startswith("not set")
    else:
        line = next(ln for ln in proc.stdout.splitlines() if "R2_ACCESS_KEY" in ln)
        assert line.startswith("ok") and " set " in f" {line} "


# ---------------------------------------------------------------- version and help


def test_version() -> None:
    # A real process: the console entry point itself (most tests run the CLI in-process).
    proc = run_cli_process("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"personaforge {__version__}"


def test_make_video_help_lists_its_options() -> None:
    proc = run_cli("make-video", "--help")
    assert proc.returncode == 0, proc.stderr
    for option in ("--format", "--force", "--json", "--no-publish"):
        assert option in proc.stdout, option


def test_unknown_command_is_a_usage_error() -> None:
    proc = run_cli("make-vidoe")
    assert proc.returncode == 2
    assert "make-vidoe" in proc.stderr


def test_readme_documents_every_command() -> None:
    import typer

    from personaforge.cli.main import app

    readme = (REPO / "README.md").read_text()
    names = [c.name for c in typer.main.get_command(app).commands.values()]  # type: ignore[attr-defined]
    assert len(names) >= 11  # other modules add their own commands
    for name in names:
        assert f"`{name}" in readme, f"README does not document `{name}`"
