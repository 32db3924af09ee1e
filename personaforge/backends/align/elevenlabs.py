"""ElevenLabs forced alignment: the service finds the script's words in the take
(``client.forced_alignment.create``), with the voice backend's retries, billing and errors."""

from __future__ import annotations

import os
import threading
import wave
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from personaforge.backends.base import (
    AlignedSentence,
    Aligner,
    Alignment,
    AlignSetup,
    NotInTake,
    TimedWord,
)
from personaforge.backends.cloud import RetryPolicy, base_url, call_with_retries, require_key
from personaforge.backends.rates import PaidShot, Rates
from personaforge.backends.tts.elevenlabs import (
    KEY_VAR,
    URL_VAR,
    Malformed,
    classify,
    visemes_from_alignment,
)
from personaforge.backends.tts.piper import token_times
from personaforge.costs import Billing, bill
from personaforge.text.normalize import spoken_text, tokenize

# A word the service places with a loss above this was not found in the take.
MAX_WORD_LOSS = 3.0


def client_for(env: Mapping[str, str], what: str) -> Any:
    from elevenlabs import ElevenLabs

    key = require_key(env, KEY_VAR, what=what)
    return ElevenLabs(api_key=key, base_url=base_url(env, URL_VAR))


def audio_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


class ElevenLabsAligner(Aligner):
    name = "elevenlabs"
    version = "1"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        state_dir: Path | None = None,
        language: str = "en",
        **_: object,
    ) -> None:
        import elevenlabs  # noqa: F401  (the registry turns a missing SDK into an install hint)

        self.env = os.environ if env is None else env
        self.language = language
        self._client: Any = None
        self._lock = threading.Lock()

    @classmethod
    def from_setup(cls, setup: AlignSetup) -> ElevenLabsAligner:
        return cls(env=setup.env, state_dir=setup.state_dir, language=setup.language)

    def check(self) -> None:
        require_key(self.env, KEY_VAR, what="ElevenLabs alignment")

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = client_for(self.env, "ElevenLabs alignment")
            return self._client

    def settings_key(self) -> dict[str, object]:
        return {"aligner": self.name, "version": self.version}

    def align(self, audio: Path, sentences: Sequence[str]) -> Alignment:
        tokens = [tokenize(s, self.language) for s in sentences]
        spoken = [spoken_text(t) for t in tokens]
        counts = [len(s.split()) for s in spoken]
        text = "\n".join(spoken)
        client = self.client()
        data = audio.read_bytes()

        def call() -> Any:
            answer = client.forced_alignment.create(
                file=(audio.name, data, "audio/wav"),
                text=text,
                request_options={"max_retries": 0, "timeout_in_seconds": 300},
            )
            words = getattr(answer, "words", None)
            chars = getattr(answer, "characters", None)
            if not isinstance(words, list) or not isinstance(chars, list):
                raise Malformed("no words or characters in the alignment")
            if len([w for w in words if str(w.text).strip()]) != sum(counts):
                raise Malformed(f"{len(words)} words aligned, {sum(counts)} sent")
            return answer

        secret = self.env.get(KEY_VAR, "").strip()
        answer = call_with_retries(
            call,
            lambda exc: classify(exc, secret=secret),
            what="elevenlabs forced alignment",
            policy=RetryPolicy.from_env(self.env),
        )
        words = [w for w in answer.words if str(w.text).strip()]
        out: list[AlignedSentence] = []
        k = 0
        for index, (toks, n) in enumerate(zip(tokens, counts, strict=True)):
            mine = words[k : k + n]
            k += n
            if mine and min(float(w.loss) for w in mine) > MAX_WORD_LOSS:
                raise NotInTake("the take does not say this sentence", index=index)
            spans = [(float(w.start), float(w.end)) for w in mine]
            timed: list[TimedWord] = token_times(toks, spans) if spans else []
            chars: list[str] = []
            starts: list[float] = []
            ends: list[float] = []
            for w in mine:
                span = max(1, len(str(w.text)))
                step = (float(w.end) - float(w.start)) / span
                for i, c in enumerate(str(w.text)):
                    chars.append(c)
                    starts.append(float(w.start) + i * step)
                    ends.append(float(w.start) + (i + 1) * step)
                chars.append(" ")
                starts.append(float(w.end))
                ends.append(float(w.end))
            out.append(
                AlignedSentence(words=timed, visemes=visemes_from_alignment(chars, starts, ends))
            )
        seconds = round(audio_seconds(audio), 3)
        return Alignment(
            sentences=out,
            billing=[bill("elevenlabs", "audio_second", seconds, estimated=True)],
        )


def _units(
    shots: Sequence[PaidShot], extra: Mapping[str, float], model: str | None
) -> list[Billing]:
    """Forced alignment bills the seconds of audio sent: the takes' length."""
    seconds = round(extra.get("audio_seconds", 0.0), 1)
    return [bill("elevenlabs", "audio_second", seconds, estimated=True)]


RATES = Rates(per_call_s=0.5, per_audio_s=0.05, units=_units)
