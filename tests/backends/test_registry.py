"""Every registered backend satisfies its stage's Protocol; lookups fail with the fix."""

from __future__ import annotations

import pytest

from personaforge.backends import registry
from personaforge.backends.base import Aligner, LipsyncBackend, Planner, Storage, TTSBackend
from personaforge.errors import MissingDependencyError, PersonaForgeError

PROTOCOLS = {
    "plan": Planner,
    "speak": TTSBackend,
    "lipsync": LipsyncBackend,
    "align": Aligner,
}


@pytest.mark.parametrize(
    ("kind", "name"), [(k, n) for k, entries in registry.REGISTRY.items() for n in entries]
)
def test_registered_backends_satisfy_their_protocol(kind: registry.Kind, name: str) -> None:
    backend = registry.resolve(kind, name)()
    assert isinstance(backend, PROTOCOLS[kind])
    assert backend.name == name and isinstance(backend.version, str) and backend.version


def test_storage_backends_satisfy_the_protocol(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from personaforge.backends.storage.local import LocalStorage

    assert isinstance(LocalStorage(tmp_path), Storage)


def test_unknown_backend_lists_the_available_ones() -> None:
    with pytest.raises(PersonaForgeError) as info:
        registry.resolve("lipsync", "wav2lip")
    assert info.value.field == "backends.lipsync" and "avatar" in info.value.message


def test_missing_package_gives_the_install_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = registry.Entry("personaforge_missing_pkg.module:Backend", "needs a package", "r2")
    monkeypatch.setitem(registry.REGISTRY["speak"], "cloudvoice", entry)
    with pytest.raises(MissingDependencyError) as info:
        registry.resolve("speak", "cloudvoice")
    assert info.value.hint == "pip install 'personaforge[r2]'"
    assert "personaforge_missing_pkg" in info.value.message


def test_an_sdk_imported_lazily_is_checked_when_the_backend_is_chosen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The backend's own module imports fine; the SDK it imports later is what is missing.
    entry = registry.Entry("personaforge.backends.tts.piper:PiperTTS", "a cloud voice", "cloudx")
    monkeypatch.setitem(registry.REGISTRY["speak"], "cloudvoice", entry)
    monkeypatch.setitem(registry.EXTRA_MODULES, "cloudx", ("personaforge_no_such_sdk",))
    with pytest.raises(MissingDependencyError) as info:
        registry.resolve("speak", "cloudvoice")
    assert info.value.hint == "pip install 'personaforge[cloudx]'"
    assert "personaforge_no_such_sdk" in info.value.message


def test_every_extra_a_backend_names_lists_its_modules() -> None:
    extras = {e.extra for entries in registry.REGISTRY.values() for e in entries.values()}
    assert extras - {None} <= set(registry.EXTRA_MODULES)
