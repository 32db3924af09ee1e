"""Backends are built through the registry by their own ``from_setup``: a voice or a store
registered here is used by the stage without the stage knowing its name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers import run_cli, write_project

from personaforge.backends import registry
from personaforge.backends.base import (
    Speech,
    SpeechRequest,
    StorageSetup,
    TTSBackend,
    VoiceSetup,
)
from personaforge.backends.storage.local import LocalStorage
from personaforge.backends.tts.piper import PiperTTS

SETUPS: list[VoiceSetup] = []


class RelayVoice(TTSBackend):
    """A voice the stages have never heard of: piper's, behind another name, keeping the setup
    it was built from."""

    name = "relay"
    version = "1"
    max_concurrency = 1

    def __init__(self, inner: PiperTTS) -> None:
        self.inner = inner

    @classmethod
    def from_setup(cls, setup: VoiceSetup) -> RelayVoice:
        SETUPS.append(setup)
        return cls(PiperTTS.from_setup(setup))

    def settings_key(self) -> dict[str, object]:
        return {"relay": self.inner.settings_key()}

    def synthesize(self, text: str, request: SpeechRequest | None = None) -> Speech:
        return self.inner.synthesize(text, request)


def test_a_registered_voice_is_built_by_its_own_from_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = registry.Entry(f"{__name__}:RelayVoice", "piper under another name")
    monkeypatch.setitem(registry.REGISTRY["speak"], "relay", entry)
    extra = "backends: {speak: relay}\n"
    folder = write_project(tmp_path / "p", "One sentence, said.\n", extra=extra)
    SETUPS.clear()
    assert run_cli("plan", str(folder), "--quiet").returncode == 0
    proc = run_cli("speak", str(folder), "--quiet")
    assert proc.returncode == 0, proc.stderr
    speech = yaml.safe_load((folder / "build" / "speech.yaml").read_text())
    assert speech["backend"] == "relay"
    (setup,) = {(s.persona.name, s.language, s.state_dir) for s in SETUPS}
    assert setup == ("Tess", "en", folder.resolve() / "build" / "speech")
    assert (folder / speech["shots"][0]["audio"]).stat().st_size > 1000


def test_the_publish_target_picks_its_store() -> None:
    local = registry.storage(StorageSetup("local", Path("/tmp/project"), {}))
    assert isinstance(local, LocalStorage) and local.root == Path("/tmp/project/published")
    assert registry.storage_name("s3://bucket/videos") == "s3"
    assert registry.storage_name("r2") == "r2"
