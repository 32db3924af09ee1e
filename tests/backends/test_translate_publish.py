"""make-video --with-translations renders and publishes every language `translate` made: to the
local target and to S3 (a real moto_server), each language's mp4 and .vtt under its own keys."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import run_cli, write_project

from personaforge.commands.translate import siblings
from personaforge.media.probe import probe

pytestmark = pytest.mark.slow

# One sentence each, no heading: three tiny renders. Same title in video.yaml (translate does
# not touch it), so all three share the slug: only the content hash keeps their keys apart.
SCRIPTS = {
    "en": "Hello there, this is a short test.\n",
    "es": "Hola, esto es una prueba corta.\n",
    "de": "Hallo, das ist ein kurzer Test.\n",
}
MOTO_REGION = "eu-west-1"


def _render(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "build/render.yaml").read_text())
    return data


def _retarget(folder: Path, target: str) -> None:
    video = yaml.safe_load((folder / "video.yaml").read_text(encoding="utf-8"))
    video["publish"] = {"target": target}
    (folder / "video.yaml").write_text(yaml.safe_dump(video, allow_unicode=True), "utf-8")


@pytest.fixture(scope="module")
def translated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("translations")
    folder = write_project(base / "talk", SCRIPTS["en"])
    for code in ("es", "de"):
        hand = base / f"{code}.md"
        hand.write_text(SCRIPTS[code], encoding="utf-8")
        proc = run_cli("translate", str(folder), "--to", code, "--from", str(hand))
        assert proc.returncode == 0, proc.stderr
    # A folder named like a translation that translate did not make is not one.
    write_project(base / "talk-fr", "Bonjour, ceci est un test.\n", extra="language: fr\n")
    return folder


def test_translate_records_its_siblings_and_only_those(translated: Path) -> None:
    record = json.loads((translated / "build/translations/siblings.json").read_text())
    assert {k: v["folder"] for k, v in record["siblings"].items()} == {
        "de": "../talk-de",
        "es": "../talk-es",
    }
    assert all(v["model"] is None for v in record["siblings"].values())  # written by hand
    base = translated.parent
    assert siblings(translated) == [(base / "talk-es").resolve(), (base / "talk-de").resolve()]


def test_make_video_without_the_flag_makes_one_video(translated: Path) -> None:
    proc = run_cli("make-video", str(translated), "--json", "--no-publish")
    assert proc.returncode == 0, proc.stderr
    assert "translations" not in json.loads(proc.stdout)
    assert not (translated.parent / "talk-es/build/render.yaml").exists()


def test_every_language_published_locally_and_to_s3(
    translated: Path, moto_endpoint: str, s3_client: Any, tmp_path: Path
) -> None:
    base = translated.parent
    folders = {"en": translated, "es": base / "talk-es", "de": base / "talk-de"}
    proc = run_cli("make-video", str(translated), "--with-translations", "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    made = [result, *result["translations"]]
    assert [m["language"] for m in made] == ["en", "es", "de"]
    assert not (base / "talk-fr/build").exists()
    slugs = set()
    for m, (code, folder) in zip(made, folders.items(), strict=True):
        assert Path(m["project"]) == folder.resolve()
        video = Path(m["video"])
        assert video.parent == (folder / "build").resolve() and probe(video).duration_s > 1
        render = _render(folder)
        slugs.add(render["slug"])
        sha = render["video"]["sha256"][:16]
        # The local target: published/<slug>/<content-hash>/ inside each language's project.
        here = folder / "published" / render["slug"] / sha
        for name in (video.name, Path(m["captions"]).name):
            assert (here / name).read_bytes() == (folder / "build" / name).read_bytes(), code
        assert len(m["published"]) == 4
        if code == "es":
            assert "prueba" in Path(m["captions"]).read_text(encoding="utf-8")
    assert slugs == {"tiny-test"}

    bucket = f"pf-lang-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": MOTO_REGION}
    )
    for folder in folders.values():
        _retarget(folder, f"s3://{bucket}/videos")
    env = {
        "HOME": str(tmp_path),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
        "R2_ENDPOINT": moto_endpoint,
        "R2_ACCESS_KEY": "pf-lang-access",
        "R2_SECRET_KEY": "pf-lang-secret",
        "R2_BUCKET": "",
        "R2_PUBLIC_BASE_URL": "",
    }
    proc = run_cli("make-video", str(translated), "--with-translations", "--json", env=env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    expected: dict[str, bytes] = {}
    for m, folder in zip([result, *result["translations"]], folders.values(), strict=True):
        assert m["stages"]["render"]["status"] == "skipped"  # a new target: only publish runs
        assert m["stages"]["publish"]["status"] == "ran"
        render = _render(folder)
        for out in ("video", "captions_vtt"):
            local = folder / render[out]["path"]
            key = f"videos/{render['slug']}/{render['video']['sha256'][:16]}/{local.name}"
            assert key not in expected  # never two languages on one key
            expected[key] = local.read_bytes()
    listed = s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    assert len(listed) == 3 * 4  # mp4, vtt, srt, jpg per language
    for key, body in expected.items():
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == body, key


def test_a_language_no_voice_speaks_is_refused_before_any_video(tmp_path: Path) -> None:
    folder = write_project(tmp_path / "talk", SCRIPTS["en"])
    hand = tmp_path / "ja.md"
    hand.write_text("こんにちは、これは短いテストです。\n", encoding="utf-8")
    assert run_cli("translate", str(folder), "--to", "ja", "--from", str(hand)).returncode == 0
    proc = run_cli("make-video", str(folder), "--with-translations", "--no-publish")
    assert proc.returncode == 1
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Japanese" in proc.stderr and "talk-ja" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (folder / "build/plan.yaml").exists()  # the source was not started either
