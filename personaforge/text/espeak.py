"""espeak-ng through its C library (the one the espeakng-loader wheel ships, with its data
for 100+ languages): a language's phonemes with their times, and the audio they make.

Both the draft offline voice (backends/tts/espeak.py) and the visemes of a cloud voice's
speech (text/visemes.py) read it. The library keeps one global state, so every call holds
one lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from personaforge.errors import MissingDependencyError, PersonaForgeError

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_PHONEME_EVENTS = 0x0001
_PHONEME_IPA = 0x0002
_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_SSML_OFF_END_PAUSE = 0x1000  # espeakENDPAUSE: a pause at the end of the text
_EVENT_END, _EVENT_WORD, _EVENT_PHONEME = 0, 1, 7
_LOCK = threading.Lock()


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _Id),
    ]


_CALLBACK = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass(frozen=True)
class Phoneme:
    text_position: int  # index into the text (characters, from 0) of the word it is in
    sample: int  # where it starts in the audio
    ipa: str


@dataclass(frozen=True)
class Spoken:
    samples: bytes  # mono 16-bit PCM
    sample_rate: int
    words: list[tuple[int, int, int]]  # (text position, length in characters, start sample)
    phonemes: list[Phoneme]


class _Engine:
    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise MissingDependencyError(
                "the espeak-ng voice needs espeakng-loader", hint="pip install espeakng-loader"
            ) from None
        self.lib: Any = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        data = espeakng_loader.get_data_path().encode()
        options = _PHONEME_EVENTS | _PHONEME_IPA | _DONT_EXIT
        self.rate = int(self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data, options))
        if self.rate <= 0:
            raise PersonaForgeError("espeak-ng could not start (its data is missing?)")
        self._chunks: list[bytes] = []
        self._events: list[tuple[int, int, int, int, str]] = []
        self._callback = _CALLBACK(self._on_audio)  # kept: the library holds a pointer to it
        self.lib.espeak_SetSynthCallback(self._callback)
        self.voice = ""

    def _on_audio(self, wav: Any, count: int, events: Any) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        i = 0
        while events[i].type != _EVENT_END:
            ev = events[i]
            if ev.type in (_EVENT_WORD, _EVENT_PHONEME):
                ipa = bytes(ev.id.string).split(b"\0")[0].decode("utf-8", "replace")
                self._events.append((ev.type, ev.text_position, ev.length, ev.sample, ipa))
            i += 1
        return 0

    def speak(self, text: str, voice: str, *, rate_wpm: int | None = None) -> Spoken:
        if voice != self.voice:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise PersonaForgeError(f"espeak-ng has no voice {voice!r}")
            self.voice = voice
        self.lib.espeak_SetParameter(1, rate_wpm or 175, 0)  # espeakRATE
        self._chunks, self._events = [], []
        raw = text.encode("utf-8")
        self.lib.espeak_Synth(raw, len(raw) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
        self.lib.espeak_Synchronize()
        # Positions come in characters from 1; a phoneme belongs to the word it follows.
        words: list[tuple[int, int, int]] = []
        phonemes: list[Phoneme] = []
        for kind, pos, length, sample, ipa in self._events:
            if kind == _EVENT_WORD:
                words.append((pos - 1, length, sample))
            elif ipa and not ipa.startswith("("):  # "(en)" marks a switch of language
                phonemes.append(Phoneme(max(0, pos - 1), sample, ipa))
        return Spoken(b"".join(self._chunks), self.rate, words, phonemes)


@lru_cache(maxsize=1)
def _engine() -> _Engine:
    return _Engine()


def speak(text: str, voice: str, *, rate_wpm: int | None = None) -> Spoken:
    """espeak-ng saying ``text`` with ``voice`` ("es", "cmn"): audio, words and phonemes."""
    with _LOCK:
        return _engine().speak(text, voice, rate_wpm=rate_wpm)


def available() -> bool:
    """Whether the espeak-ng library is installed (without starting it)."""
    import importlib.util

    return importlib.util.find_spec("espeakng_loader") is not None
