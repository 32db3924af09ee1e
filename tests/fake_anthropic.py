"""A local stand-in for the Anthropic Messages API (``POST /v1/messages``), for tests that run
the real ``anthropic`` SDK against it: scripted answers, recorded requests."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cloudfakes import Request, Response, serve

Reply = tuple[int, dict[str, Any], dict[str, str]]


def message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 1200,
    output_tokens: int = 150,
    model: str = "claude-sonnet-4-5",
) -> Reply:
    """A 200 answer with the Messages API's response shape."""
    body = {
        "id": "msg_01TestAnswer",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }
    return 200, body, {"request-id": "req_test"}


def as_json(data: Any) -> dict[str, Any]:
    """A text block holding ``data`` as JSON (a string is sent as it is: broken JSON)."""
    return text(data if isinstance(data, str) else json.dumps(data))


def thinking(words: str = "Let me think.") -> dict[str, Any]:
    return {"type": "thinking", "thinking": words, "signature": "sig-test"}


def text(words: str) -> dict[str, Any]:
    return {"type": "text", "text": words}


def error(status: int, kind: str, msg: str = "test error") -> Reply:
    """An error answer as the API sends it; retryable ones ask for a 1 ms wait."""
    headers = {"request-id": "req_err"}
    if status in (429, 529):
        headers["retry-after-ms"] = "1"
    return status, {"type": "error", "error": {"type": kind, "message": msg}}, headers


@dataclass
class FakeAnthropic:
    url: str
    replies: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, *replies: Reply) -> None:
        """Queue replies; the last one repeats once the queue is down to it."""
        with self.lock:
            self.replies = list(replies)
            self.requests.clear()
            self.headers.clear()

    def next_reply(self, request: dict[str, Any], headers: dict[str, str]) -> Reply:
        with self.lock:
            self.requests.append(request)
            self.headers.append(headers)
            if not self.replies:
                return error(500, "api_error", "no reply scripted")
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


def sent_key(headers: dict[str, str]) -> str:
    """The API key a request carried: ``x-api-key``, or a bearer token (newer SDKs)."""
    auth = headers.get("authorization", "")
    return headers.get("x-api-key") or auth.removeprefix("Bearer ").strip()


def _handle(server: FakeAnthropic, req: Request) -> Response:
    headers = {k.lower(): v for k, v in req.headers.items()}
    if req.method != "POST" or req.path != "/v1/messages":
        reply = error(404, "not_found_error", f"no route {req.method} {req.path}")
    elif not sent_key(headers):
        reply = error(401, "authentication_error", "x-api-key header is required")
    else:
        try:
            request = json.loads(req.body)
        except ValueError:
            reply = error(400, "invalid_request_error", "body is not JSON")
        else:
            reply = server.next_reply(request, headers)
    status, body, extra = reply
    return Response(status, json=body, headers=extra)


@contextmanager
def running() -> Iterator[FakeAnthropic]:
    """Serve on a free port of 127.0.0.1 until the block ends (on tests/cloudfakes.py)."""
    fake = FakeAnthropic(url="")
    with serve(lambda req: _handle(fake, req)) as server:
        fake.url = server.url
        yield fake
