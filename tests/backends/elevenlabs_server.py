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
import socket
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

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


def start(key: str) -> tuple[ElevenLabsServer, ThreadingHTTPServer]:
    # Load the offline voice before serving: loading it holds the interpreter for a second,
    # which would delay other answers (an error sent first could arrive after a later one).
    speak_offline("Ready.")
    state = ElevenLabsServer(key=key)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def _error(self, status: int, detail: str, message: str) -> None:
            self._json(status, {"detail": {"status": detail, "message": message}})

        def _authorised(self) -> bool:
            if self.headers.get("xi-api-key") != state.key:
                self._error(401, "invalid_api_key", "Invalid API key")
                return False
            return True

        def do_GET(self) -> None:
            path = urlparse(self.path).path
            if path == "/v1/voices":
                if not self._authorised():
                    return
                with state._lock:
                    state.voice_lists += 1
                self._json(200, {"voices": VOICES})
                return
            self._error(404, "not_found", "Not found")

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("content-length") or 0)
            raw_body = self.rfile.read(length) or b"{}"
            ctype = self.headers.get("content-type", "")
            body = (
                _multipart(ctype, raw_body)
                if ctype.startswith("multipart/")
                else json.loads(raw_body)
            )
            if parsed.path in ("/v1/forced-alignment", "/v1/speech-to-text"):
                self._audio_endpoint(parsed.path, body)
                return
            m = re.fullmatch(r"/v1/text-to-speech/([^/]+)/with-timestamps", parsed.path)
            if not m:
                self._error(404, "not_found", "Not found")
                return
            voice_id = m.group(1)
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "xi-api-key"}
            served = Served(text=body.get("text", ""), voice_id=voice_id, body=body,
                            headers=headers)  # fmt: skip
            with state._lock:
                state.requests.append(served)
                fault = state.faults.popleft() if state.faults else None
            if not self._authorised():
                return
            if voice_id not in {v["voice_id"] for v in VOICES}:
                self._error(404, "voice_not_found", f"A voice with id {voice_id} was not found.")
                return
            fmt = parse_qs(parsed.query).get("output_format", ["mp3_44100_128"])[0]
            if fault is not None:
                if fault.kind == "error":
                    self._error(fault.status, fault.detail, fault.message)
                    return
                if fault.kind == "timeout":
                    time.sleep(state.delay_s)
                    self.close_connection = True
                    return
                if fault.kind == "drop":
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                if fault.kind == "garbage":
                    raw = b'{"audio_base64": "AAAA", "alignm'
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                    return
            text = served.text
            pcm, words = speak_offline(text)
            alignment = alignment_for(text, words)
            if fmt != "pcm_22050":
                message = f"this test server serves pcm_22050, not {fmt}"
                self._error(400, "invalid_output_format", message)
                return
            audio = pcm
            if fault is not None and fault.kind == "truncated":
                audio = pcm[: len(pcm) // 3]
            if fault is not None and fault.kind == "mp3":
                audio = to_mp3(pcm)
            served.alignment = alignment
            served.audio_s = len(pcm) / 2 / 22050
            rid = f"req-{len(state.requests):04d}"
            self._json(
                200,
                {
                    "audio_base64": base64.b64encode(audio).decode(),
                    "alignment": alignment,
                    "normalized_alignment": alignment,
                },
                {"request-id": rid, "character-cost": str(len(text)), "history-item-id": rid},
            )

        def _audio_endpoint(self, path: str, form: dict[str, Any]) -> None:
            """POST /v1/forced-alignment (file, text) and /v1/speech-to-text (file, model_id,
            timestamps_granularity, language_code): multipart forms, JSON answers."""
            align = path.endswith("forced-alignment")
            with state._lock:
                (state.align_requests if align else state.stt_requests).append(form)
                fault = state.faults.popleft() if state.faults else None
            if not self._authorised():
                return
            if fault is not None and fault.kind == "error":
                self._error(fault.status, fault.detail, fault.message)
                return
            if fault is not None and fault.kind == "garbage":
                self._json(200, {"words": "not a list", "loss": 0})
                return
            if not isinstance(form.get("file"), bytes) or not form["file"]:
                self._error(422, "invalid_file", "file is required")
                return
            if align:
                said = str(form.get("text", "")).split()
                words = _timed(said, state.take_words)
                chars = []
                for w in words:
                    step = (w[2] - w[1]) / max(1, len(w[0]))
                    for i, c in enumerate(w[0]):
                        chars.append({"text": c, "start": round(w[1] + i * step, 3),
                                      "end": round(w[1] + (i + 1) * step, 3)})  # fmt: skip
                    chars.append({"text": " ", "start": w[2], "end": w[2]})
                self._json(200, {
                    "characters": chars,
                    "words": [{"text": t, "start": a, "end": b, "loss": state.word_loss}
                              for t, a, b in words],
                    "loss": state.word_loss,
                })  # fmt: skip
                return
            if form.get("model_id") != "scribe_v2":
                self._error(422, "invalid_model", f"unknown model {form.get('model_id')}")
                return
            out: list[dict[str, Any]] = []
            for i, (t, a, b) in enumerate(state.take_words):
                if i:
                    out.append({"text": " ", "start": out[-1]["end"], "end": a,
                                "type": "spacing", "logprob": 0.0})  # fmt: skip
                out.append({"text": t, "start": a, "end": b, "type": "word", "logprob": -0.1})
            text = " ".join(t for t, _, _ in state.take_words)
            self._json(200, {"language_code": form.get("language_code") or "eng",
                             "language_probability": 0.98, "text": text, "words": out})  # fmt: skip

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    # A client that timed out has gone: writing to it fails, and that is the point.
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()  # fmt: skip
    return state, server


def _multipart(ctype: str, raw: bytes) -> dict[str, Any]:
    """A multipart/form-data body: each field's text, or a file's bytes."""
    from email.parser import BytesParser
    from email.policy import HTTP

    msg = BytesParser(policy=HTTP).parsebytes(
        b"content-type: " + ctype.encode() + b"\r\n\r\n" + raw
    )
    form: dict[str, Any] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True) or b""
        form[str(name)] = payload if part.get_filename() else payload.decode()
    return form


def _timed(
    said: list[str], known: list[tuple[str, float, float]]
) -> list[tuple[str, float, float]]:
    """The words sent, with the times the test gave (in order), else a third of a second each."""
    if len(known) == len(said):
        return [(w, a, b) for w, (_, a, b) in zip(said, known, strict=True)]
    return [(w, round(0.3 * i, 3), round(0.3 * i + 0.25, 3)) for i, w in enumerate(said)]


@contextlib.contextmanager
def serving(key: str) -> Iterator[ElevenLabsServer]:
    """The server, started for the block and shut down after it."""
    state, httpd = start(key)
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
