"""What every voice backend promises, checked the same way for each (fsspec-style contract):
the offline voice directly, ElevenLabs through its real SDK against the local API server."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pytest
from elevenlabs_server import serving

from personaforge.backends.base import SpeechRequest, TTSBackend
from personaforge.fsutil import canonical_hash
from personaforge.text.markup import pieces
from personaforge.text.visemes import VISEMES

TEXT = "Of the two maps, mom paid $12.50 on 2026-11-27!"
RATE = 22050  # one rate for every voice
KEY = "sk_contract_test_key"


class TTSContract:
    """Subclasses provide a ``tts`` fixture."""

    def test_pcm_at_the_shared_rate_with_every_written_word_timed(self, tts: TTSBackend) -> None:
        speech = tts.synthesize(TEXT)
        assert speech.sample_rate == RATE
        assert len(speech.samples) % 2 == 0
        duration = len(speech.samples) / 2 / RATE
        assert [w.text for w in speech.words] == TEXT.split()
        starts = [w.start for w in speech.words]
        assert starts == sorted(starts)
        assert all(0.0 <= w.start <= w.end <= duration + 1e-3 for w in speech.words)
        assert "twelve dollars" in speech.spoken.lower()
        # The words are where the sound is: louder inside a word than in the lead-in silence.
        pcm = np.frombuffer(speech.samples, "<i2").astype(np.float64)
        lead = pcm[: max(1, int(speech.words[0].start * RATE) - 100)]
        word = pcm[int(speech.words[3].start * RATE) : int(speech.words[3].end * RATE)]
        assert np.sqrt((word**2).mean()) > 5 * np.sqrt((lead**2).mean()) + 1

    def test_visemes_are_sorted_known_and_close_in_silence(self, tts: TTSBackend) -> None:
        speech = tts.synthesize(TEXT)
        times = [t for t, _ in speech.visemes]
        assert times == sorted(times) and times[0] == 0.0
        assert {v for _, v in speech.visemes} <= set(VISEMES)
        assert speech.visemes[-1][1] == "sil"
        assert len({v for _, v in speech.visemes}) >= 6

    def test_prepared_tokens_keep_the_written_words(self, tts: TTSBackend) -> None:
        (piece,) = pieces("I *love* SQL.", {"SQL": "sequel"})
        speech = tts.synthesize(piece.text, SpeechRequest(tokens=piece.tokens,
                                                          emphasis=piece.emphasis))  # fmt: skip
        assert [w.text for w in speech.words] == ["I", "love", "SQL."]
        assert speech.spoken.lower() == "i love sequel."

    def test_settings_key_is_stable(
        self, tts: TTSBackend, make_tts: Callable[[float], TTSBackend]
    ) -> None:
        """The key is what a take is cached by: the same for a fresh backend with the same
        settings (nothing per instance or per run in it), different where the sound differs."""
        key = tts.settings_key()
        assert canonical_hash(make_tts(1.0).settings_key()) == canonical_hash(key)
        assert make_tts(1.15).settings_key() != key
        assert tts.max_concurrency >= 1


@pytest.fixture(scope="module")
def piper_tts() -> TTSBackend:
    from personaforge.backends.tts.piper import PiperTTS

    return PiperTTS()


@pytest.fixture(scope="module")
def elevenlabs_tts() -> Iterator[TTSBackend]:
    pytest.importorskip("elevenlabs")
    from personaforge.backends.tts.elevenlabs import ElevenLabsTTS

    with serving(KEY) as state:
        env = {"ELEVENLABS_API_KEY": KEY, "ELEVENLABS_BASE_URL": state.url,
               "NO_PROXY": "127.0.0.1", "PERSONAFORGE_RETRY_SCALE": "0.001"}  # fmt: skip
        yield ElevenLabsTTS(voice="George", env=env)


@pytest.fixture(scope="module")
def elevenlabs_env() -> dict[str, str]:
    return {"ELEVENLABS_API_KEY": KEY, "ELEVENLABS_BASE_URL": "http://127.0.0.1:9"}


class TestPiper(TTSContract):
    @pytest.fixture
    def tts(self, piper_tts: TTSBackend) -> TTSBackend:
        return piper_tts

    @pytest.fixture
    def make_tts(self) -> Callable[[float], TTSBackend]:
        from personaforge.backends.tts.piper import PiperTTS

        return lambda speed: PiperTTS(speed=speed)


class TestElevenLabs(TTSContract):
    @pytest.fixture
    def tts(self, elevenlabs_tts: TTSBackend) -> TTSBackend:
        return elevenlabs_tts

    @pytest.fixture
    def make_tts(self, elevenlabs_env: dict[str, str]) -> Callable[[float], TTSBackend]:
        from personaforge.backends.tts.elevenlabs import ElevenLabsTTS

        return lambda speed: ElevenLabsTTS(voice="George", speed=speed, env=elevenlabs_env)
