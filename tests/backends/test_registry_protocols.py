"""Every registered backend of every kind, publish stores and aligners included, declares its
kind's Protocol and builds itself from the setup; a store registered here is what publish
uses, and the shot cache refuses a store that cannot read back."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
import yaml
from helpers import run_cli

from personaforge.backends import registry
from personaforge.backends.base import (
    Aligner,
    AlignSetup,
    LipsyncBackend,
    Planner,
    SharedStore,
    Storage,
    StorageSetup,
    TTSBackend,
)
from personaforge.backends.storage.local import LocalStorage
from personaforge.errors import PersonaForgeError
from personaforge.runtime import shotcache

PROTOCOLS: dict[str, type] = {
    "plan": Planner,
    "speak": TTSBackend,
    "lipsync": LipsyncBackend,
    "align": Aligner,
    "storage": Storage,
}
# Kinds whose Protocol has no default from_setup: each backend must write its own.
OWN_FROM_SETUP = {"speak", "align", "storage"}

ENTRIES = [(k, n, e) for k, entries in registry.REGISTRY.items() for n, e in entries.items()] + [
    ("storage", n, e) for n, e in registry.STORAGE.items()
]


@pytest.mark.parametrize(("kind", "name", "entry"), ENTRIES, ids=lambda v: str(v)[:24])
def test_every_backend_subclasses_its_protocol(kind: str, name: str, entry: registry.Entry) -> None:
    cls = registry._load(kind, name, entry)
    protocol = PROTOCOLS[kind]
    assert protocol in cls.__mro__, f"{entry.target} does not subclass {protocol.__name__}"
    if kind in OWN_FROM_SETUP:
        assert "from_setup" in vars(cls), f"{entry.target} has no from_setup of its own"
    # What the stages call without getattr is there on the class itself.
    optional = {
        "plan": ("language", "billing", "settings_key", "from_setup"),
        "speak": ("check", "check_voice", "speaks", "release_memory", "uses_context"),
        "lipsync": ("from_setup",),
        "align": ("check", "version", "from_setup"),
        "storage": ("name", "from_setup"),
    }[kind]
    assert all(hasattr(cls, member) for member in optional)


@pytest.mark.parametrize("name", registry.names("align"))
def test_aligners_are_built_from_the_setup(name: str, tmp_path: Path) -> None:
    setup = AlignSetup("es", {"ELEVENLABS_API_KEY": "k"}, tmp_path)
    aligner = registry.resolve("align", name).from_setup(setup)
    assert isinstance(aligner, Aligner) and aligner.name == name
    assert aligner.language == "es"  # type: ignore[attr-defined]


def test_the_s3_and_r2_targets_build_a_store_the_shot_cache_can_read(tmp_path: Path) -> None:
    env = {"R2_ENDPOINT": "http://127.0.0.1:9", "R2_ACCESS_KEY": "a", "R2_SECRET_KEY": "s",
           "R2_BUCKET": "fromenv"}  # fmt: skip
    s3 = registry.storage(StorageSetup("s3://bucket/videos", tmp_path, env))
    r2 = registry.storage(StorageSetup("r2", tmp_path, env))
    assert isinstance(s3, SharedStore) and isinstance(r2, SharedStore)
    assert s3.url_for("a.mp4") == "s3://bucket/videos/a.mp4"
    assert r2.url_for("a.mp4") == "s3://fromenv/a.mp4"
    local = registry.storage(StorageSetup("local", tmp_path, {}))
    assert isinstance(local, Storage) and not isinstance(local, SharedStore)


def test_an_unknown_target_is_one_line_naming_the_stores(tmp_path: Path) -> None:
    with pytest.raises(PersonaForgeError) as info:
        registry.storage(StorageSetup("gs://bucket", tmp_path, {}))
    assert info.value.field == "target" and "local, r2, s3" in (info.value.hint or "")


def test_the_shot_cache_refuses_a_store_that_cannot_read_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(registry.STORAGE, "s3", registry.Entry(f"{__name__}:FolderStore", "x"))
    with pytest.raises(PersonaForgeError) as info:
        shotcache.open_cache("s3://bucket/cache", tmp_path, {})
    assert info.value.field == "cache" and "folder" in info.value.message


SETUPS: list[StorageSetup] = []


class FolderStore(LocalStorage):
    """A store publish has never heard of: a folder of its own, named by the target's bucket."""

    name = "folder"

    @classmethod
    def from_setup(cls, setup: StorageSetup) -> FolderStore:
        SETUPS.append(setup)
        bucket = setup.target.removeprefix("s3://").partition("/")[0]
        return cls(setup.root / "store" / bucket)


def test_publish_uses_the_store_the_registry_builds(
    rendered: tuple[Path, dict[str, object]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "proj"
    shutil.copytree(rendered[0], folder)
    shutil.rmtree(folder / "published")  # what make-video published locally
    video = folder / "video.yaml"
    video.write_text(video.read_text() + "publish:\n  target: s3://shelf/videos\n")
    monkeypatch.setitem(registry.STORAGE, "s3", registry.Entry(f"{__name__}:FolderStore", "x"))
    SETUPS.clear()
    proc = run_cli("publish", str(folder), "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert [s.target for s in SETUPS][:1] == ["s3://shelf/videos"]
    published = yaml.safe_load((folder / "build" / "publish.yaml").read_text())
    files = published["files"]
    assert len(files) >= 3
    shelf = (folder / "store" / "shelf").resolve()
    for f in files:
        assert f["url"].startswith(shelf.as_uri() + "/")
        stored = Path(unquote(urlparse(f["url"]).path))
        assert stored.is_file() and stored.stat().st_size > 0
    assert not (folder / "published").exists()  # not the local store
