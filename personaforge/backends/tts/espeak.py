"""The draft offline voice for every language but English: espeak-ng (formant synthesis, the
library and data the espeakng-loader wheel ships), timed by its own word and phoneme events.

It sounds robotic; `voices` and `doctor` call it a draft voice. English keeps piper's neural
voice; this one speaks each language with that language's phonemes, never English ones.
"""

from __future__ import annotations

from personaforge.backends.base import Speech, SpeechRequest, TimedWord, TTSBackend, VoiceSetup
from personaforge.backends.rates import Rates
from personaforge.backends.tts.piper import TAIL_PAUSE_S, token_times, unsayable
from personaforge.errors import PersonaForgeError
from personaforge.text import espeak, languages
from personaforge.text.normalize import spoken_text, tokenize
from personaforge.text.visemes import viseme_of

_BASE_WPM = 165  # espeak-ng's default rate (175) a touch slower: clearer for a draft voice


def speaks(code: str) -> bool:
    lang = languages.LANGUAGES.get(languages.primary(code))
    return lang is not None and lang.espeak is not None


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"espeakng-loader={version('espeakng-loader')}"
    except PackageNotFoundError:
        return "espeakng-loader=missing"


class EspeakTTS(TTSBackend):
    name = "espeak"
    max_concurrency = 1  # one library state: shots are voiced one after another
    draft = True

    @classmethod
    def from_setup(cls, setup: VoiceSetup) -> EspeakTTS:
        return cls(speed=setup.persona.voice.speed, language=setup.language)

    def __init__(
        self, voice: str = "", speed: float = 1.0, *, language: str = "es", **_: object
    ) -> None:
        self.lang = languages.get(language)
        if self.lang.espeak is None:
            raise PersonaForgeError(
                f"no offline voice speaks {self.lang.name}",
                hint="use the elevenlabs voice (voice: {backend: elevenlabs} in persona.yaml)",
            )
        self.voice = self.lang.espeak
        self.speed = speed
        self.version = _version()

    def settings_key(self) -> dict[str, object]:
        return {"voice": self.voice, "speed": self.speed, "version": self.version}

    def voices(self) -> list[dict[str, str]]:
        return list_voices()

    def synthesize(self, text: str, request: SpeechRequest | None = None) -> Speech:
        request = request or SpeechRequest()
        tokens = (
            list(request.tokens) if request.tokens is not None else tokenize(text, self.lang.code)
        )
        unsayable(tokens, self.lang, self.name, request.label)
        say = spoken_text(tokens, self.lang.code)
        length = float(request.delivery.get("length_scale", 1.0 / self.speed))
        rate = 22050
        samples = b""
        spans: list[tuple[float, float]] = []
        visemes: list[tuple[float, str]] = [(0.0, "sil")]
        if say.strip():
            out = espeak.speak(say, self.voice, rate_wpm=round(_BASE_WPM / max(0.4, length)))
            rate = out.sample_rate
            samples = out.samples
            spans = _spans(say, out, len(samples) // 2)
            for ph in out.phonemes:
                vis = viseme_of(ph.ipa)
                t = round(ph.sample / rate, 3)
                if vis is not None and visemes[-1][1] != vis:
                    visemes.append((t, vis) if t > visemes[-1][0] else (visemes[-1][0], vis))
                    if len(visemes) > 1 and visemes[-2][0] == visemes[-1][0]:
                        visemes.pop(-2)
            end = round(spans[-1][1], 3) if spans else 0.0
            if visemes[-1][1] != "sil":
                visemes.append((max(end, visemes[-1][0] + 0.001), "sil"))
        samples += b"\0\0" * int(TAIL_PAUSE_S * rate)
        words: list[TimedWord] = token_times(tokens, spans)
        return Speech(samples=samples, sample_rate=rate, words=words, visemes=visemes, spoken=say)


def _spans(say: str, out: espeak.Spoken, total: int) -> list[tuple[float, float]]:
    """(start, end) of each space-separated word of ``say``, from espeak's word events (it
    may split a word in two, or read a run of Chinese as several)."""
    offsets: list[int] = []
    pos = 0
    for word in say.split(" "):
        offsets.append(pos)
        pos += len(word) + 1
    starts: list[int | None] = [None] * len(offsets)
    for text_pos, _, sample in out.words:
        k = max(i for i, o in enumerate(offsets) if o <= max(0, text_pos)) if offsets else 0
        if starts[k] is None:
            starts[k] = sample
    # A word espeak gave no event inherits the time where the previous one ends.
    filled: list[int] = []
    for s in starts:
        filled.append(s if s is not None else (filled[-1] if filled else 0))
    last_sound = max([ph.sample for ph in out.phonemes] + [0])
    end_all = min(total, max(last_sound + 2205, filled[-1] if filled else 0))
    rate = out.sample_rate
    spans = []
    for i, s in enumerate(filled):
        e = filled[i + 1] if i + 1 < len(filled) else end_all
        spans.append((s / rate, max(s, e) / rate))
    return spans


def list_voices() -> list[dict[str, str]]:
    """The draft offline voices: one per language of the table that espeak-ng speaks."""
    return [
        {"id": lang.espeak, "name": f"espeak {lang.espeak}", "gender": "", "language": lang.code,
         "bundled": "yes", "quality": "draft"}
        for lang in languages.LANGUAGES.values()
        if lang.espeak is not None and lang.code != "en"
    ]  # fmt: skip


RATES = Rates(per_call_s=0.05, per_audio_s=0.04)  # formant synthesis: at most piper's rate
