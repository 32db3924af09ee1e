"""A local server that speaks ElevenLabs' HTTP API (the parts PersonaForge uses), for tests.

POST /v1/text-to-speech/{voice_id}/with-timestamps answers as the real service does: JSON with
``audio_base64`` (real speech: the offline voice saying the text, as 16-bit PCM at the
requested ``pcm_<rate>``) and ``alignment``/``normalized_alignment`` (characters with start and
end times taken from that speech's word timings), with ``request-id`` and ``character-cost``
headers. GET /v1/voices lists voices. Errors use the service's body,
``{"detail": {"status": ..., "message": ...}}``. Faults are scripted per request.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from cloudfakes import Request, Response, multipart_form, serve

VOICES = [
    {"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade",
     "labels": {"gender": "female", "accent": "american"}},
    {"voice_id": "nPczCjzI2devNBz1zQrb", "name": "Brian", "category": "premade",
     "labels": {"gender": "male", "accent": "american"}},
    {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George", "category": "premade",
     "labels": {"gender": "male", "accent": "british"}},
    {"voice_id": "Ir1QNHvhaJXbAGhT50w3", "name": "Sara", "category": "professional",
     "labels": {"gender": "female", "accent": "castilian"},
     "verified_languages": [{"language": "es", "model_id": "eleven_multilingual_v2",
                             "accent": "castilian", "locale": "es-ES"}]},
]  # fmt: skip

_CACHE: dict[str, tuple[bytes, list[tuple[str, float, float]]]] = {}
_CACHE_LOCK = threading.Lock()


def speak_offline(text: str) -> tuple[bytes, list[tuple[str, float, float]]]:
    """Real speech for ``text`` from the offline voice: (PCM at 22050 Hz, [(word, s, e)]).

    Text in a script other than Latin is said by espeak-ng in its language (as the service
    would find it in the text), each word given a share of the speech by its length."""
    with _CACHE_LOCK:
        if text not in _CACHE:
            from personaforge.text import languages

            found = languages.guess_language(text)
            if found is None:
                from personaforge.backends.tts.piper import PiperTTS

                speech = PiperTTS().synthesize(text.lower())
                _CACHE[text] = (speech.samples, [(w.text, w.start, w.end) for w in speech.words])
            else:
                from personaforge.text import espeak

                said = espeak.speak(text, found.espeak or found.phonemes or "en")
                pieces = text.split(" ")
                duration = len(said.samples) / 2 / said.sample_rate
                total = sum(len(p) for p in pieces) or 1
                words, t = [], 0.05
                for piece in pieces:
                    d = (duration - 0.1) * len(piece) / total
                    words.append((piece, round(t, 3), round(t + d, 3)))
                    t += d
                _CACHE[text] = (said.samples, words)
        return _CACHE[text]


def to_mp3(pcm: bytes) -> bytes:
    """The same speech as MP3 (what a plan without PCM gets), encoded by the bundled ffmpeg."""
    import subprocess

    import imageio_ffmpeg

    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "s16le", "-ar", "22050",
           "-ac", "1", "-i", "-", "-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3",
           "-"]  # fmt: skip
    return subprocess.run(cmd, input=pcm, capture_output=True, check=True, timeout=60).stdout


def alignment_for(text: str, words: list[tuple[str, float, float]]) -> dict[str, list[Any]]:
    """Character times for ``text``: each word's letters share its spoken span in order, the
    spaces between words span the silence between them."""
    chars: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    pieces = text.split(" ")
    assert len(pieces) == len(words), (text, words)
    for i, (piece, (_, s, e)) in enumerate(zip(pieces, words, strict=True)):
        if i:
            prev_end = words[i - 1][2]
            chars.append(" ")
            starts.append(round(prev_end, 3))
            ends.append(round(max(prev_end, s), 3))
        step = (e - s) / max(1, len(piece))
        for k, ch in enumerate(piece):
            chars.append(ch)
            starts.append(round(s + k * step, 3))
            ends.append(round(s + (k + 1) * step, 3))
    return {
        "characters": chars,
        "character_start_times_seconds": starts,
        "character_end_times_seconds": ends,
    }


@dataclass
class Fault:
    """What the server does instead of answering one request."""

    kind: str  # "error", "timeout", "drop", "truncated", "garbage", "mp3"
    status: int = 0
    detail: str = ""
    message: str = ""


@dataclass
class Served:
    text: str
    voice_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    alignment: dict[str, list[Any]] | None = None
    audio_s: float = 0.0


@dataclass
class ElevenLabsServer:
    key: str
    url: str = ""
    faults: deque[Fault] = field(default_factory=deque)
    requests: list[Served] = field(default_factory=list)  # every TTS request, faults too
    voice_lists: int = 0
    delay_s: float = 2.0  # how long a "timeout" fault stalls
    # Forced alignment and speech to text: the words the take holds (text, start s, end s),
    # which the test knows because it made the take; the loss given to every word.
    take_words: list[tuple[str, float, float]] = field(default_factory=list)
    word_loss: float = 0.2
    align_requests: list[dict[str, Any]] = field(default_factory=list)
    stt_requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tts_requests(self) -> int:
        return len(self.requests)

    def fail_next(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def __call__(self, req: Request) -> Response:
        """One request, as the service answers it (the handler behind ``cloudfakes.serve``)."""
        if req.method == "GET":
            if req.path != "/v1/voices":
                return _error(404, "not_found", "Not found")
            if not self._authorised(req):
                return _error(401, "invalid_api_key", "Invalid API key")
            with self._lock:
                self.voice_lists += 1
            return Response(200, {"voices": VOICES})
        if req.method != "POST":
            return _error(404, "not_found", "Not found")
        body: dict[str, Any] = {}
        if req.header("Content-Type").startswith("multipart/"):
            body.update(multipart_form(req))
        else:
            body.update(json.loads(req.body or b"{}"))
        if req.path in ("/v1/forced-alignment", "/v1/speech-to-text"):
            return self._audio_endpoint(req, body)
        m = re.fullmatch(r"/v1/text-to-speech/([^/]+)/with-timestamps", req.path)
        if not m:
            return _error(404, "not_found", "Not found")
        voice_id = m.group(1)
        headers = {k.lower(): v for k, v in req.headers.items() if k.lower() != "xi-api-key"}
        served = Served(text=body.get("text", ""), voice_id=voice_id, body=body,
                        headers=headers)  # fmt: skip
        with self._lock:
            self.requests.append(served)
            fault = self.faults.popleft() if self.faults else None
        if not self._authorised(req):
            return _error(401, "invalid_api_key", "Invalid API key")
        if voice_id not in {v["voice_id"] for v in VOICES}:
            return _error(404, "voice_not_found", f"A voice with id {voice_id} was not found.")
        fmt = parse_qs(req.query).get("output_format", ["mp3_44100_128"])[0]
        if fault is not None:
            if fault.kind == "error":
                return _error(fault.status, fault.detail, fault.message)
            if fault.kind == "timeout":
                return Response(hang_s=self.delay_s)
            if fault.kind == "drop":
                return Response(drop=True)
            if fault.kind == "garbage":
                raw = b'{"audio_base64": "AAAA", "alignm'
                return Response(200, body=raw, headers={"content-type": "application/json"})
        text = served.text
        pcm, words = speak_offline(text)
        alignment = alignment_for(text, words)
        if fmt != "pcm_22050":
            message = f"this test server serves pcm_22050, not {fmt}"
            return _error(400, "invalid_output_format", message)
        audio = pcm
        if fault is not None and fault.kind == "truncated":
            audio = pcm[: len(pcm) // 3]
        if fault is not None and fault.kind == "mp3":
            audio = to_mp3(pcm)
        served.alignment = alignment
        served.audio_s = len(pcm) / 2 / 22050
        rid = f"req-{len(self.requests):04d}"
        return Response(
            200,
            {
                "audio_base64": base64.b64encode(audio).decode(),
                "alignment": alignment,
                "normalized_alignment": alignment,
            },
            headers={"request-id": rid, "character-cost": str(len(text)), "history-item-id": rid},
        )

    def _authorised(self, req: Request) -> bool:
        return req.header("xi-api-key") == self.key

    def _audio_endpoint(self, req: Request, form: dict[str, Any]) -> Response:
        """POST /v1/forced-alignment (file, text) and /v1/speech-to-text (file, model_id,
        timestamps_granularity, language_code): multipart forms, JSON answers."""
        align = req.path.endswith("forced-alignment")
        with self._lock:
            (self.align_requests if align else self.stt_requests).append(form)
            fault = self.faults.popleft() if self.faults else None
        if not self._authorised(req):
            return _error(401, "invalid_api_key", "Invalid API key")
        if fault is not None and fault.kind == "error":
            return _error(fault.status, fault.detail, fault.message)
        if fault is not None and fault.kind == "garbage":
            return Response(200, {"words": "not a list", "loss": 0})
        if not isinstance(form.get("file"), bytes) or not form["file"]:
            return _error(422, "invalid_file", "file is required")
        if align:
            said = str(form.get("text", "")).split()
            words = _timed(said, self.take_words)
            chars = []
            for w in words:
                step = (w[2] - w[1]) / max(1, len(w[0]))
                for i, c in enumerate(w[0]):
                    chars.append({"text": c, "start": round(w[1] + i * step, 3),
                                  "end": round(w[1] + (i + 1) * step, 3)})  # fmt: skip
                chars.append({"text": " ", "start": w[2], "end": w[2]})
            return Response(200, {
                "characters": chars,
                "words": [{"text": t, "start": a, "end": b, "loss": self.word_loss}
                          for t, a, b in words],
                "loss": self.word_loss,
            })  # fmt: skip
        if form.get("model_id") != "scribe_v2":
            return _error(422, "invalid_model", f"unknown model {form.get('model_id')}")
        out: list[dict[str, Any]] = []
        for i, (t, a, b) in enumerate(self.take_words):
            if i:
                out.append({"text": " ", "start": out[-1]["end"], "end": a,
                            "type": "spacing", "logprob": 0.0})  # fmt: skip
            out.append({"text": t, "start": a, "end": b, "type": "word", "logprob": -0.1})
        text = " ".join(t for t, _, _ in self.take_words)
        language = form.get("language_code") or "eng"
        return Response(200, {"language_code": language, "language_probability": 0.98,
                              "text": text, "words": out})  # fmt: skip


def _error(status: int, detail: str, message: str) -> Response:
    """The service's error body."""
    return Response(status, {"detail": {"status": detail, "message": message}})


def _timed(
    said: list[str], known: list[tuple[str, float, float]]
) -> list[tuple[str, float, float]]:
    """The words sent, with the times the test gave (in order), else a third of a second each."""
    if len(known) == len(said):
        return [(w, a, b) for w, (_, a, b) in zip(said, known, strict=True)]
    return [(w, round(0.3 * i, 3), round(0.3 * i + 0.25, 3)) for i, w in enumerate(said)]


@contextlib.contextmanager
def serving(key: str) -> Iterator[ElevenLabsServer]:
    """The server, started on loopback for the block (``cloudfakes.serve``) and stopped after."""
    # Load the offline voice before serving: loading it holds the interpreter for a second,
    # which would delay other answers (an error sent first could arrive after a later one).
    speak_offline("Ready.")
    state = ElevenLabsServer(key=key)
    with serve(state) as server:
        state.url = server.url
        yield state
