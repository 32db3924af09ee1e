"""Cloud lip-sync through the real CLI: a photo persona made with SadTalker (Replicate) end to
end, its cost in --json and status, no secret anywhere, and one-line errors for missing keys."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cloudfakes import ReplicateFake, Server, serve
from helpers import one_error_line, run_cli, write_project
from lipsync_helpers import returned_clip, write_portrait

pytest.importorskip("replicate")

TOKEN = "r8_cli_secret_token_abcdef"


def _photo_project(folder: Path, lipsync: str) -> Path:
    write_project(folder, "Hello there, this is a short test.\n",
                  extra=f"backends: {{lipsync: {lipsync}}}\n")  # fmt: skip
    write_portrait(folder)
    (folder / "persona.yaml").write_text(
        "schema_version: 1\nname: Tess\narchetype: host\nlook:\n  photo: portrait.jpg\n"
    )
    return folder


@pytest.fixture
def replicate_server(tmp_path: Path) -> Iterator[tuple[ReplicateFake, Server]]:
    api = ReplicateFake(token=TOKEN, clip=returned_clip(tmp_path / "returned.mp4"))
    with serve(api) as server:
        api.base = server.url
        yield api, server


def _env(server: Server) -> dict[str, str]:
    return {"REPLICATE_API_TOKEN": TOKEN, "REPLICATE_BASE_URL": server.url,
            "PERSONAFORGE_RETRY_SCALE": "0.001"}  # fmt: skip


def test_sadtalker_video_end_to_end_with_cost_and_no_secret(
    tmp_path: Path, replicate_server: tuple[ReplicateFake, Server]
) -> None:
    api, server = replicate_server
    folder = _photo_project(tmp_path / "p", "sadtalker")
    env = _env(server)
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    talking = len(api.predictions)
    assert talking >= 1
    assert result["cost"]["units"] == {"replicate:gpu_second": pytest.approx(4.2 * talking)}
    assert result["cost"]["usd"] > 0 and result["cost"]["prices_as_of"]

    lipsync = yaml.safe_load((folder / "build" / "lipsync.yaml").read_text())
    assert lipsync["backend"] == "sadtalker"
    speech = yaml.safe_load((folder / "build" / "speech.yaml").read_text())
    for spoken, clip in zip(speech["shots"], lipsync["shots"], strict=True):
        assert clip["frames"] == spoken["frames"]
        if spoken["kind"] == "talking":
            assert clip["billing"][0]["request_id"] in api.predictions

    status = run_cli("status", str(folder), "--json", env=env)
    rows = json.loads(status.stdout)
    assert rows["lipsync"]["up_to_date"] and rows["lipsync"]["cost"]["usd"] > 0
    assert "billed $" in run_cli("status", str(folder), env=env).stdout

    # Nothing the run wrote or printed holds the token.
    assert TOKEN not in proc.stdout + proc.stderr + status.stdout + status.stderr
    for path in folder.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    # A second run reuses every clip: nothing is created or paid again.
    again = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert again.returncode == 0 and server.count("POST", "/v1/predictions") == talking

    # A caption change re-encodes the segments but never pays for the clips again, and the
    # estimate says so before the run.
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "captions: {style: boxed}\n")
    est = json.loads(run_cli("estimate", str(folder), "--json", env=env).stdout)
    assert est["stages"]["lipsync"]["would_run"] and est["stages"]["lipsync"]["requests"] == 0
    assert est["stages"]["lipsync"]["usd"] == 0
    restyled = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert restyled.returncode == 0, restyled.stderr
    assert json.loads(restyled.stdout)["stages"]["lipsync"]["status"] == "ran"
    assert server.count("POST", "/v1/predictions") == talking

    # Without the token, a restyle still runs (every clip is made), and an edit that needs a
    # new clip stops before any work, on one line naming the token.
    keyless = {k: v for k, v in env.items() if k != "REPLICATE_API_TOKEN"}
    video.write_text(video.read_text().replace("style: boxed", "style: clean"))
    restyled = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=keyless)
    assert restyled.returncode == 0, restyled.stderr
    stages = json.loads(restyled.stdout)["stages"]
    assert stages["lipsync"]["status"] == "ran" and stages["speak"]["status"] == "skipped"
    assert server.count("POST", "/v1/predictions") == talking
    plan = (folder / "build" / "plan.yaml").read_bytes()
    script = folder / "script.md"
    script.write_text(script.read_text().replace("short test", "brief test"))
    edited = run_cli("make-video", str(folder), "--no-publish", "--quiet", env=keyless)
    assert edited.returncode == 1
    line = one_error_line(edited.stderr)
    assert "[lipsync]" in line and "needs REPLICATE_API_TOKEN" in line
    assert (folder / "build" / "plan.yaml").read_bytes() == plan
    assert server.count("POST", "/v1/predictions") == talking


def test_a_missing_replicate_token_is_one_line_before_any_work(tmp_path: Path) -> None:
    folder = _photo_project(tmp_path / "p", "sadtalker")
    proc = run_cli("make-video", str(folder), "--no-publish")
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[lipsync]" in line and "needs REPLICATE_API_TOKEN" in line
    assert not (folder / "build").exists()
    # status needs no keys: it only says what would run.
    status = run_cli("status", str(folder), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["lipsync"]["reason"] == "no previous run"


def test_a_failed_prediction_is_one_line_with_the_service_message(
    tmp_path: Path, replicate_server: tuple[ReplicateFake, Server]
) -> None:
    api, server = replicate_server
    api.outcome = "failed"
    folder = _photo_project(tmp_path / "p", "sadtalker")
    # The token and base URL come from the project's .env this time.
    (folder / ".env").write_text(f"REPLICATE_API_TOKEN={TOKEN}\nREPLICATE_BASE_URL={server.url}\n")
    env = {"PERSONAFORGE_RETRY_SCALE": "0.001"}
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet", env=env)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[lipsync]" in line and "failed: CUDA out of memory" in line
    assert TOKEN not in proc.stderr
    assert server.count("POST", "/v1/predictions") == 1


def test_latentsync_video_end_to_end_through_our_worker(
    tmp_path: Path, moto_endpoint: str, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("runpod")
    from cloudfakes import RunPodFake

    from personaforge.worker import runpod_handler

    monkeypatch.setenv("LATENTSYNC_DIR", str(tmp_path / "none"))
    api = RunPodFake(api_key="rpa_cli_secret", endpoint="ep1", handler=runpod_handler.handler)
    folder = _photo_project(tmp_path / "p", "latentsync")
    with serve(api) as server:
        env = {"RUNPOD_API_KEY": "rpa_cli_secret", "RUNPOD_ENDPOINT_ID": "ep1",
               "RUNPOD_ENDPOINT_BASE_URL": server.url + "/v2", "R2_ENDPOINT": moto_endpoint,
               "R2_ACCESS_KEY": "moto-a", "R2_SECRET_KEY": "moto-secret-xyz",
               "R2_BUCKET": bucket, "PERSONAFORGE_RETRY_SCALE": "0.001"}  # fmt: skip
        proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["cost"]["units"] == {"runpod:gpu_second": pytest.approx(3.4 * len(api.jobs))}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert b"rpa_cli_secret" not in data and b"moto-secret-xyz" not in data, path
            assert b"Signature=" not in data, path  # no presigned URL is recorded


def test_latentsync_without_storage_is_one_line(tmp_path: Path) -> None:
    pytest.importorskip("runpod")
    folder = _photo_project(tmp_path / "p", "latentsync")
    env = {"RUNPOD_API_KEY": "rpa_x", "RUNPOD_ENDPOINT_ID": "ep1"}
    proc = run_cli("make-video", str(folder), "--no-publish", "--quiet", env=env)
    assert proc.returncode == 1
    line = one_error_line(proc.stderr)
    assert "[lipsync]" in line and "needs S3/R2 storage" in line and "rpa_x" not in line


def test_cloud_clips_are_made_several_at_a_time(
    tmp_path: Path, replicate_server: tuple[ReplicateFake, Server]
) -> None:
    api, server = replicate_server
    api.min_created = 3  # no prediction finishes until all three exist: sequential would stall
    folder = _photo_project(tmp_path / "p", "sadtalker")
    (folder / "script.md").write_text(
        "Hello there, this is the first sentence.\nHere comes the second one now.\n"
        "And this third sentence ends the test.\n"
    )
    env = {**_env(server), "PERSONAFORGE_CLOUD_CONCURRENCY": "3",
           "PERSONAFORGE_JOB_TIMEOUT_S": "60"}  # fmt: skip
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    stage = json.loads(proc.stdout)["stages"]["lipsync"]
    assert stage["status"] == "ran" and stage["reused_shots"] == 0
    assert len(api.predictions) == 3
    # One sentence edited: one clip paid for, the other shots' segments reused as they are.
    script = folder / "script.md"
    script.write_text(script.read_text().replace("second one", "second line"))
    proc = run_cli("make-video", str(folder), "--no-publish", "--json", "--quiet", env=env)
    assert proc.returncode == 0, proc.stderr
    stage = json.loads(proc.stdout)["stages"]["lipsync"]
    assert stage["status"] == "ran" and stage["reused_shots"] == 2
    assert len(api.predictions) == 4


def test_cache_gc_collects_paid_clips_no_segment_was_made_from(
    tmp_path: Path, replicate_server: tuple[ReplicateFake, Server]
) -> None:
    _, server = replicate_server
    folder = _photo_project(tmp_path / "p", "sadtalker")
    env = _env(server)
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet", env=env).returncode == 0
    sources = folder / "build" / "clips" / "source"
    first = {p.name for p in sources.iterdir()}
    script = folder / "script.md"
    script.write_text(script.read_text().replace("short test", "brief test"))
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet", env=env).returncode == 0
    paid = server.count("POST", "/v1/predictions")
    lipsync = yaml.safe_load((folder / "build" / "lipsync.yaml").read_text())
    recorded = {Path(c["source"]).name for c in lipsync["shots"] if c["kind"] == "talking"}
    assert recorded and all((sources / name).is_file() for name in recorded)
    wanted = {n for r in recorded for n in (r, r[:-4] + ".json")}
    old = {p.name for p in sources.iterdir()} - wanted
    assert old and old <= first  # the edited sentence's earlier clip and its record

    # A manifest from before segments named their clip: nothing paid is collected.
    manifest = folder / "build" / "lipsync.yaml"
    text = manifest.read_text()
    manifest.write_text("\n".join(ln for ln in text.splitlines() if "source:" not in ln) + "\n")
    dry = run_cli("cache", "gc", str(folder), "--dry-run")
    assert dry.returncode == 0 and "source" not in dry.stdout
    manifest.write_text(text)

    proc = run_cli("cache", "gc", str(folder), "--json")
    assert proc.returncode == 0, proc.stderr
    removed = {Path(p).name for p in json.loads(proc.stdout)[0]["removed"]}
    assert old <= removed and not recorded & removed
    assert {p.name for p in sources.iterdir()} == wanted
    # The clips kept are the ones a restyle needs: it pays for nothing.
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "captions: {style: boxed}\n")
    assert run_cli("make-video", str(folder), "--no-publish", "--quiet", env=env).returncode == 0
    assert server.count("POST", "/v1/predictions") == paid


def test_a_repeated_line_is_paid_for_once_even_when_forced(
    tmp_path: Path, replicate_server: tuple[ReplicateFake, Server]
) -> None:
    """A line said three times the same way is one clip, made once per run: several at a
    time, one at a time, and with --force (which pays again, but once, as estimated)."""
    api, server = replicate_server
    folder = _photo_project(tmp_path / "p", "sadtalker")
    (folder / "script.md").write_text(
        "Thanks for watching.\n\nHere is the middle part of it.\n\nThanks for watching.\n\n"
        "And one more line.\n\nThanks for watching.\n"
    )
    made = 0
    for concurrency, force in (("3", ()), ("3", ("--force",)), ("1", ("--force",))):
        env = {**_env(server), "PERSONAFORGE_CLOUD_CONCURRENCY": concurrency}
        dry = run_cli("make-video", str(folder), "--dry-run", "--json", *force, env=env)
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["stages"]["lipsync"]["requests"] == 3
        proc = run_cli("make-video", str(folder), "--no-publish", "--json", *force, env=env)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["stages"]["lipsync"]["shots"] == 5
        assert len(api.predictions) - made == 3, (concurrency, force)
        made = len(api.predictions)
