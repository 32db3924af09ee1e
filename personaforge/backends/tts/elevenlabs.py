"""ElevenLabs speech through the official SDK, timed by the character alignment it returns.

The text sent is the normalised spoken form (text/normalize.py), as for the offline voice, so
the alignment's words are the spoken words and captions show the words as written. No timing is
ever guessed from character counts: every word and viseme time is a time the service returned.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import os
import re
import threading
import wave
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from personaforge.backends.base import Speech, SpeechRequest, TimedWord, TTSBackend, VoiceSetup
from personaforge.backends.cloud import (
    Fault,
    FaultKind,
    RetryPolicy,
    base_url,
    call_with_retries,
    require_key,
)
from personaforge.backends.rates import PaidShot, Rates
from personaforge.backends.tts.piper import token_times
from personaforge.core.archetypes import ARCHETYPES
from personaforge.core.specs import ELEVENLABS_DEFAULT_VOICE, ELEVENLABS_SPEED, Voice
from personaforge.costs import Billing, bill
from personaforge.envnum import env_number
from personaforge.errors import PersonaForgeError
from personaforge.fsutil import atomic_write_text
from personaforge.text import espeak, languages
from personaforge.text.normalize import Token, spoken_text, tokenize
from personaforge.text.visemes import place_phonemes, word_visemes

KEY_VAR = "ELEVENLABS_API_KEY"
URL_VAR = "ELEVENLABS_BASE_URL"
TIMEOUT_VAR = "PERSONAFORGE_ELEVENLABS_TIMEOUT_S"
DEFAULT_MODEL = "eleven_multilingual_v2"
# The languages each text-to-speech model speaks (elevenlabs.io/docs/overview/models).
_V2 = frozenset(
    [
        "en",
        "ja",
        "zh",
        "de",
        "hi",
        "fr",
        "ko",
        "pt",
        "it",
        "es",
        "id",
        "nl",
        "tr",
        "fil",
        "pl",
        "sv",
        "bg",
        "ro",
        "ar",
        "cs",
        "el",
        "fi",
        "hr",
        "ms",
        "sk",
        "da",
        "ta",
        "uk",
        "ru",
    ]
)
_V3 = _V2 | frozenset(
    [
        "af",
        "hy",
        "as",
        "az",
        "be",
        "bn",
        "bs",
        "ca",
        "ceb",
        "ny",
        "et",
        "gl",
        "ka",
        "gu",
        "ha",
        "he",
        "hu",
        "is",
        "ga",
        "jv",
        "kn",
        "kk",
        "ky",
        "lv",
        "ln",
        "lt",
        "lb",
        "mk",
        "ml",
        "mr",
        "ne",
        "no",
        "ps",
        "fa",
        "pa",
        "sr",
        "sd",
        "sl",
        "so",
        "sw",
        "th",
        "te",
        "vi",
        "cy",
        "ur",
        "zu",
        "xh",
        "yo",
        "ig",
        "lo",
        "km",
        "my",
        "mn",
    ]
)
MODEL_LANGUAGES: dict[str, frozenset[str]] = {
    "eleven_multilingual_v2": _V2,
    "eleven_v3": _V3,
    "eleven_flash_v2_5": _V2 | {"hu", "no", "vi"},
    "eleven_turbo_v2_5": _V2 | {"hu", "no", "vi"},
    "eleven_flash_v2": frozenset({"en"}),
    "eleven_turbo_v2": frozenset({"en"}),
    "eleven_monolingual_v1": frozenset({"en"}),
}
# Models that take language_code; multilingual v2 does not (the SDK: "not supported for
# multilingual_v2 models") and finds the language in the text itself.
_TAKES_LANGUAGE = frozenset({"eleven_v3", "eleven_flash_v2_5", "eleven_turbo_v2_5"})


def default_model(language: str) -> str:
    """The model to speak ``language`` with: multilingual v2 (the most lifelike) where it
    speaks it, else eleven_v3 (70+ languages)."""
    return DEFAULT_MODEL if language in _V2 else "eleven_v3"


# One sample rate for every voice: piper's joe speaks at 22050 Hz, and so does this format,
# which every plan may request (44.1 kHz PCM needs a Pro plan).
SAMPLE_RATE = 22050
OUTPUT_FORMAT = f"pcm_{SAMPLE_RATE}"
VOICE_CACHE = "elevenlabs-voices.json"
_VOICE_ID = re.compile(r"^[A-Za-z0-9]{20}$")
_TRUNCATION_SLACK_S = 0.05  # alignment may end a hair after the last sample


class Malformed(Exception):
    """The service answered, but not with usable audio and alignment."""


def _detail(body: Any) -> tuple[str, str]:
    """(status, message) from an ElevenLabs error body ``{"detail": {"status", "message"}}``."""
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        return str(detail.get("status") or ""), str(detail.get("message") or "")
    if isinstance(detail, str):
        return "", detail
    return "", ""


def classify(exc: BaseException, *, secret: str = "") -> Fault | None:
    """What to do about an SDK exception: wait, retry, or stop (see backends/cloud.py)."""
    import httpx
    from elevenlabs.core.api_error import ApiError

    def safe(text: str) -> str:
        text = " ".join(text.split())[:200]
        return text.replace(secret, "***") if secret else text

    if isinstance(exc, Malformed):
        return Fault(FaultKind.FATAL, f"malformed response: {safe(str(exc))}; nothing recorded")
    if isinstance(exc, httpx.TimeoutException):
        return Fault(FaultKind.RETRY, "timed out", hint=f"raise {TIMEOUT_VAR} for long shots")
    if isinstance(exc, httpx.TransportError):
        return Fault(FaultKind.RETRY, f"connection failed ({type(exc).__name__})")
    if not isinstance(exc, ApiError):
        return None
    code = exc.status_code or 0
    status, message = _detail(exc.body)
    said = f"{status}: {safe(message)}" if message else status or f"HTTP {code}"
    if code == 429 and status == "too_many_concurrent_requests":
        return Fault(FaultKind.WAIT, "the account's concurrent requests are all in use")
    if status == "quota_exceeded":
        return Fault(
            FaultKind.FATAL,
            f"the ElevenLabs character quota is exhausted ({said})",
            hint="add credits or enable usage-based billing at elevenlabs.io",
        )
    if code == 401 or status in ("invalid_api_key", "missing_api_key"):
        return Fault(
            FaultKind.FATAL,
            f"ElevenLabs refused the key in {KEY_VAR} ({said})",
            hint=f"check {KEY_VAR} (environment or the project's .env)",
        )
    if status == "voice_not_found" or (code == 404 and "voice" in message.lower()):
        return Fault(FaultKind.FATAL, f"voice not found ({said})", hint="see `personaforge voices`")
    if code == 429 or code == 408 or code >= 500:
        return Fault(FaultKind.RETRY, f"the service is busy ({said})")
    if 200 <= code < 300:  # a 2xx body the SDK could not parse as JSON
        return Fault(FaultKind.FATAL, "malformed response: not JSON; nothing recorded")
    return Fault(FaultKind.FATAL, f"HTTP {code} ({said})")


def _pcm(audio: bytes) -> bytes:
    """Mono 16-bit PCM at SAMPLE_RATE from whatever the service sent (PCM, WAV or MP3)."""
    if audio[:4] == b"RIFF" and audio[8:12] == b"WAVE":
        try:
            with wave.open(io.BytesIO(audio), "rb") as w:
                params = (w.getnchannels(), w.getsampwidth(), w.getframerate())
                frames = w.readframes(w.getnframes())
        except (wave.Error, EOFError):
            raise Malformed("the WAV audio is cut short or broken") from None
        if params == (1, 2, SAMPLE_RATE):
            return frames
        return _convert(frames, *params)
    if audio[:3] == b"ID3" or _mp3_frames(audio):
        return _decode_mp3(audio)
    if len(audio) % 2:
        raise Malformed("the PCM audio ends mid-sample (truncated)")
    return audio


_MP3_KBPS = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mp3_frames(data: bytes) -> bool:
    """True if ``data`` starts with two consecutive MPEG layer III frames: raw PCM that
    happens to begin with a sync word almost never has a second one where the first says."""
    pos = 0
    for _ in range(2):
        if len(data) < pos + 4 or data[pos] != 0xFF or data[pos + 1] & 0xE0 != 0xE0:
            return False
        version = (data[pos + 1] >> 3) & 3
        layer = (data[pos + 1] >> 1) & 3
        bitrate = data[pos + 2] >> 4
        rate = (data[pos + 2] >> 2) & 3
        if layer != 1 or version not in _MP3_RATES or not 0 < bitrate < 15 or rate == 3:
            return False
        kbps = _MP3_KBPS[bitrate] if version == 3 else min(_MP3_KBPS[bitrate], 160)
        per_frame = 144 if version == 3 else 72
        pos += per_frame * kbps * 1000 // _MP3_RATES[version][rate] + ((data[pos + 2] >> 1) & 1)
    return True


def _convert(frames: bytes, channels: int, width: int, rate: int) -> bytes:
    from pydub import AudioSegment

    seg = AudioSegment(data=frames, sample_width=width, frame_rate=rate, channels=channels)
    raw: bytes = seg.set_channels(1).set_frame_rate(SAMPLE_RATE).set_sample_width(2).raw_data
    return raw


def _decode_mp3(audio: bytes) -> bytes:
    """Decode with pydub through the bundled ffmpeg, never a system one (and no ffprobe:
    naming the codec skips pydub's probe)."""
    import warnings

    import imageio_ffmpeg

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydub warns at import when no system ffmpeg exists
        from pydub import AudioSegment

    AudioSegment.converter = imageio_ffmpeg.get_ffmpeg_exe()
    try:
        seg = AudioSegment.from_file(io.BytesIO(audio), format="mp3", codec="mp3")
    except Exception as exc:  # pydub raises CouldntDecodeError, or IndexError on junk
        raise Malformed(f"the mp3 audio could not be decoded ({type(exc).__name__})") from None
    seg = seg.set_channels(1).set_frame_rate(SAMPLE_RATE).set_sample_width(2)
    raw: bytes = seg.raw_data
    return raw


def _word_spans(
    chars: Sequence[str], starts: Sequence[float], ends: Sequence[float]
) -> list[tuple[float, float]]:
    """(start, end) of each whitespace-separated word in the aligned characters."""
    spans: list[tuple[float, float]] = []
    current: tuple[float, float] | None = None
    for ch, s, e in zip(chars, starts, ends, strict=True):
        if ch.isspace():
            if current:
                spans.append(current)
            current = None
        elif current is None:
            current = (s, e)
        else:
            current = (current[0], e)
    if current:
        spans.append(current)
    return spans


# Letters (and pairs of them) to visemes, each placed at the time the service gave its letter.
_PAIRS = {"th": "TH", "sh": "CH", "ch": "CH", "ph": "FF", "ck": "kk", "ng": "kk", "qu": "kk",
          "oo": "U", "ee": "I", "wh": "U", "ou": "aa", "ow": "O", "ai": "E", "ay": "E"}  # fmt: skip
_LETTERS = {
    **dict.fromkeys("pbm", "PP"), **dict.fromkeys("fv", "FF"), **dict.fromkeys("td", "DD"),
    **dict.fromkeys("kgqx", "kk"), **dict.fromkeys("j", "CH"), **dict.fromkeys("sz", "SS"),
    **dict.fromkeys("nl", "nn"), "r": "RR", "a": "aa", "e": "E", "i": "I", "y": "I",
    "o": "O", "u": "U", "w": "U", "c": "kk", "h": "E",
}  # fmt: skip
_GAP_S = 0.08  # a space this long closes the mouth


def visemes_from_alignment(
    chars: Sequence[str], starts: Sequence[float], ends: Sequence[float]
) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = [(0.0, "sil")]
    lower = [c.lower() for c in chars]
    i = 0
    while i < len(lower):
        c = lower[i]
        nxt = lower[i + 1] if i + 1 < len(lower) else ""
        if c.isspace() or not c.isalpha():
            punct = not c.isspace() and c not in "'’-"
            vis: str | None = "sil" if punct or ends[i] - starts[i] >= _GAP_S else None
            step = 1
        elif c + nxt in _PAIRS:
            vis, step = _PAIRS[c + nxt], 2
        elif c == "c" and nxt in ("e", "i", "y"):
            vis, step = "SS", 1
        elif c == "g" and nxt in ("e", "i"):
            vis, step = "CH", 1
        elif c == "e" and (not nxt or not nxt.isalpha()) and i and lower[i - 1].isalpha():
            vis, step = None, 1  # a silent final e
        else:
            vis, step = _LETTERS.get(c, "E"), 1
        if vis is not None and out[-1][1] != vis:
            t = round(starts[i], 3)
            if t <= out[-1][0]:
                out[-1] = (out[-1][0], vis)  # two shapes at one instant: the later wins
            else:
                out.append((t, vis))
        i += step
    if ends and out[-1][1] != "sil":
        out.append((round(ends[-1], 3), "sil"))
    return out


def _emphasised(say: str, tokens: Sequence[Token], emphasis: frozenset[int]) -> str:
    """The spoken text with emphasised words in capitals, which ElevenLabs stresses; the word
    count is unchanged, so the alignment still maps one to one onto the spoken words."""
    if not emphasis:
        return say
    words = say.split(" ")
    k = 0
    for i, tok in enumerate(tokens):
        n = len(tok.spoken)
        if i in emphasis:
            for j in range(k, min(k + n, len(words))):
                # Two-letter capitals read as initials ("IT", "US"): those stay as they are.
                if sum(c.isalpha() for c in words[j]) >= 3:
                    words[j] = words[j].upper()
        k += n
    return " ".join(words)


class ElevenLabsTTS(TTSBackend):
    name = "elevenlabs"
    version = "1"
    uses_context = True  # neighbouring text is sent for prosody across shot boundaries

    def __init__(
        self,
        voice: str = ELEVENLABS_DEFAULT_VOICE,
        speed: float = 1.0,
        *,
        options: Voice | None = None,
        env: Mapping[str, str] | None = None,
        state_dir: Path | None = None,
        max_concurrency: int = 2,
        language: str = "en",
    ) -> None:
        import elevenlabs  # noqa: F401  (the registry turns a missing SDK into an install hint)

        self.options = options or Voice(backend="elevenlabs", voice=voice, speed=speed)
        self.voice = voice
        self.speed = speed
        self.lang = languages.get(language)
        self.model = self.options.model or default_model(self.lang.code)
        self.env = os.environ if env is None else env
        self.state_dir = state_dir
        self.max_concurrency = max_concurrency
        self._client: Any = None
        self._voice_id: str | None = voice if _VOICE_ID.match(voice) else None
        self._lock = threading.Lock()

    @classmethod
    def from_setup(cls, setup: VoiceSetup) -> ElevenLabsTTS:
        v = setup.persona.voice
        voice, speed = v.voice, v.speed
        if v.backend != cls.name or "voice" not in v.model_fields_set:
            # No voice named for this backend ("joe" is the offline one): the archetype's own
            # (its ElevenLabs premade voice), so voice and look still agree.
            preset = ARCHETYPES.get(setup.persona.archetype)
            voice = preset.elevenlabs_voice if preset else ELEVENLABS_DEFAULT_VOICE
            speed = min(ELEVENLABS_SPEED[1], max(ELEVENLABS_SPEED[0], speed))
        return cls(
            voice=voice,
            speed=speed,
            options=v,
            env=setup.env,
            state_dir=setup.state_dir,
            max_concurrency=setup.max_concurrency,
            language=setup.language,
        )

    # ------------------------------------------------------------------ setup

    def check(self) -> None:
        """Fail now, before any work, if the key is missing."""
        require_key(self.env, KEY_VAR, what="the elevenlabs voice")

    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                from elevenlabs import ElevenLabs

                key = require_key(self.env, KEY_VAR, what="the elevenlabs voice")
                self._client = ElevenLabs(api_key=key, base_url=base_url(self.env, URL_VAR))
            return self._client

    def _policy(self) -> RetryPolicy:
        return RetryPolicy.from_env(self.env)

    def _timeout(self) -> int:
        return max(1, int(env_number(self.env, TIMEOUT_VAR, 120, unit="seconds")))

    def _classify(self, exc: BaseException) -> Fault | None:
        return classify(exc, secret=self.env.get(KEY_VAR, "").strip())

    def speaks(self, code: str) -> bool:
        """Whether the model speaks ``code`` (a model this table does not know: trusted)."""
        known = MODEL_LANGUAGES.get(self.model)
        return known is None or code in known

    def settings_key(self) -> dict[str, object]:
        o = self.options
        return {
            "voice": self.voice,
            "model": self.model,
            "format": OUTPUT_FORMAT,
            "settings": [o.stability, o.similarity_boost, o.style, o.use_speaker_boost],
            "speed": self.speed,
            "seed": o.seed,
        }

    # ------------------------------------------------------------------ voices

    def voices(self) -> list[dict[str, str]]:
        """Every voice the account can use (GET /v1/voices)."""
        client = self.client()
        found = call_with_retries(
            lambda: client.voices.get_all(request_options={"max_retries": 0}),
            self._classify,
            what="listing ElevenLabs voices",
            policy=self._policy(),
        )
        out = []
        for v in found.voices:
            labels = v.labels or {}
            # The languages ElevenLabs verified the voice in (newer accounts list them);
            # none listed: a premade multilingual voice, which speaks its model's languages.
            verified = sorted(
                {
                    str(x.language).split("-")[0].lower()
                    for x in (getattr(v, "verified_languages", None) or [])
                }
            )
            out.append(
                {
                    "id": v.voice_id,
                    "name": v.name or "",
                    "category": str(v.category or ""),
                    "gender": labels.get("gender", ""),
                    "accent": labels.get("accent", ""),
                    "languages": ",".join(verified),
                }
            )
        return out

    def check_voice(self) -> None:
        """The voice named in persona.yaml exists (resolved once, recorded in build/)."""
        self.voice_id()

    def voice_id(self) -> str:
        """The voice id: as written, or the name resolved once and recorded in build/."""
        if self._voice_id is not None:
            return self._voice_id
        with self._lock:
            cache = self.state_dir / VOICE_CACHE if self.state_dir else None
            known: dict[str, str] = {}
            if cache and cache.is_file():
                try:
                    known = json.loads(cache.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    known = {}
            if self.voice in known:
                self._voice_id = known[self.voice]
                return self._voice_id
        voices = self.voices()
        wanted = self.voice.casefold()
        match = [v for v in voices if v["name"].casefold() == wanted] or [
            v for v in voices if v["name"].split(" - ")[0].strip().casefold() == wanted
        ]
        if not match:
            names = ", ".join(sorted(v["name"] for v in voices)[:12])
            raise PersonaForgeError(
                f"unknown ElevenLabs voice {self.voice!r}; the account has: {names}",
                field="voice.voice",
                hint="use a voice id or a name from `personaforge voices --backend elevenlabs`",
            )
        with self._lock:
            self._voice_id = match[0]["id"]
            if cache:
                known[self.voice] = self._voice_id
                atomic_write_text(cache, json.dumps(known, indent=1, sort_keys=True))
        return self._voice_id

    # ------------------------------------------------------------------ speech

    def _visemes(
        self,
        sent: str,
        chars: Sequence[str],
        starts: Sequence[float],
        ends: Sequence[float],
        spans: list[tuple[float, float]],
    ) -> list[tuple[float, str]]:
        """English: from the letters, each at its own time. Any other language: from its
        phonemes (espeak-ng knows them), placed in each word's time from the alignment."""
        voice = self.lang.phonemes or self.lang.espeak
        if self.lang.code == "en" or voice is None or not espeak.available():
            return visemes_from_alignment(chars, starts, ends)
        words = sent.split()
        if len(words) != len(spans):
            return visemes_from_alignment(chars, starts, ends)
        return place_phonemes(word_visemes(words, voice), spans)

    def synthesize(self, text: str, request: SpeechRequest | None = None) -> Speech:
        request = request or SpeechRequest()
        code = self.lang.code
        tokens = list(request.tokens) if request.tokens is not None else tokenize(text, code)
        spoken = [w for tok in tokens for w in tok.spoken]
        say = spoken_text(tokens, code)
        if not say.strip():
            # Nothing to say (a line of emoji): no request, no cost, a breath of silence.
            pause = int(0.3 * SAMPLE_RATE)
            return Speech(
                samples=b"\0\0" * pause,
                sample_rate=SAMPLE_RATE,
                words=token_times(tokens, []),
                visemes=[(0.0, "sil")],
                spoken="",
            )
        sent = _emphasised(say, tokens, request.emphasis)
        voice_id = self.voice_id()
        client = self.client()
        d = request.delivery
        o = self.options
        from elevenlabs import VoiceSettings

        settings = VoiceSettings(
            stability=float(d.get("stability", o.stability if o.stability is not None else 0.5)),
            similarity_boost=float(
                d.get(
                    "similarity_boost",
                    o.similarity_boost if o.similarity_boost is not None else 0.75,
                )
            ),
            style=float(d.get("style", o.style or 0.0)),
            use_speaker_boost=bool(d.get("use_speaker_boost", o.use_speaker_boost is not False)),
            speed=float(d.get("speed", self.speed)),
        )
        extra: dict[str, Any] = {}
        if o.seed is not None:
            extra["seed"] = o.seed
        if request.previous_text.strip():
            extra["previous_text"] = spoken_text(tokenize(request.previous_text, code), code)
        if request.next_text.strip():
            extra["next_text"] = spoken_text(tokenize(request.next_text, code), code)
        if self.model in _TAKES_LANGUAGE:
            extra["language_code"] = code
        timeout = self._timeout()

        def call() -> tuple[bytes, list[str], list[float], list[float], dict[str, str]]:
            raw = client.text_to_speech.with_raw_response.convert_with_timestamps(
                voice_id,
                text=sent,
                model_id=self.model,
                voice_settings=settings,
                output_format=OUTPUT_FORMAT,
                request_options={"max_retries": 0, "timeout_in_seconds": timeout},
                **extra,
            )
            return (*_parse(raw.data, len(spoken)), raw.headers)

        label = request.label or "a shot"
        what = f"elevenlabs, {label}"
        pcm, chars, starts, ends, headers = call_with_retries(
            call, self._classify, what=what, policy=self._policy()
        )
        spans = _word_spans(chars, starts, ends)
        words: list[TimedWord] = token_times(tokens, spans)
        lower = {k.lower(): v for k, v in headers.items()}
        request_id = lower.get("request-id") or lower.get("x-request-id") or None
        # What the service says it billed; without that header, the characters sent (which
        # is how it bills), marked as an estimate.
        try:
            billed, estimated = float(lower["character-cost"]), False
        except (KeyError, ValueError):
            billed, estimated = float(len(sent)), True
        cost = bill("elevenlabs", "character", billed, model=self.model, request_id=request_id,
                    estimated=estimated)  # fmt: skip
        return Speech(
            samples=pcm,
            sample_rate=SAMPLE_RATE,
            words=words,
            visemes=self._visemes(sent, chars, starts, ends, spans),
            spoken=say,
            billing=[cost],
            request_id=request_id,
        )


def _parse(data: Any, n_words: int) -> tuple[bytes, list[str], list[float], list[float]]:
    """Audio and alignment from a with-timestamps response, checked: anything missing, cut
    short or inconsistent raises Malformed, so nothing half-right is ever recorded."""
    b64 = getattr(data, "audio_base_64", None)
    alignment = getattr(data, "alignment", None) or getattr(data, "normalized_alignment", None)
    if not isinstance(b64, str) or not b64:
        raise Malformed("no audio in the response")
    if alignment is None:
        raise Malformed("no alignment in the response")
    try:
        audio = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise Malformed("the audio is not valid base64 (truncated?)") from None
    chars = list(getattr(alignment, "characters", None) or [])
    starts = [float(x) for x in getattr(alignment, "character_start_times_seconds", None) or []]
    ends = [float(x) for x in getattr(alignment, "character_end_times_seconds", None) or []]
    if not chars or not (len(chars) == len(starts) == len(ends)):
        raise Malformed("the alignment's characters and times differ in length")
    if any(e < s for s, e in zip(starts, ends, strict=True)) or any(
        b < a for a, b in itertools.pairwise(starts)
    ):
        raise Malformed("the alignment's times run backwards")
    pcm = _pcm(audio)
    duration = len(pcm) / 2 / SAMPLE_RATE
    if ends[-1] > duration + _TRUNCATION_SLACK_S:
        raise Malformed(
            f"the audio ({duration:.2f} s) ends before the alignment ({ends[-1]:.2f} s): truncated"
        )
    if len(_word_spans(chars, starts, ends)) != n_words:
        raise Malformed("the alignment's words do not match the text sent")
    return pcm, chars, starts, ends


def list_voices(env: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    return ElevenLabsTTS(env=env).voices()


# ---------------------------------------------------------------- what a take costs


def _units(
    shots: Sequence[PaidShot], extra: Mapping[str, float], model: str | None
) -> list[Billing]:
    """ElevenLabs bills the characters of the text sent, after normalisation."""
    chars = sum(s.chars for s in shots)
    return [bill("elevenlabs", "character", chars, model=model, estimated=True)]


RATES = Rates(per_call_s=1.0, per_audio_s=0.1, units=_units)  # a request's round trip
