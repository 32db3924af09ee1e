"""Local HTTP servers that speak cloud APIs' documented contracts, for testing the real SDKs:
a small threaded server core (every HTTP stand-in in tests/ runs on it), Replicate's
predictions and files API, and RunPod's serverless endpoint API (``/v2/<endpoint>/run`` and
``/status/<id>``) running a handler in process."""

from __future__ import annotations

import contextlib
import email.parser
import json
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def header(self, name: str, default: str = "") -> str:
        """A header's value, its name in any case."""
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), default)


@dataclass
class Response:
    """An answer; or, with ``hang_s``, none: the request is held that long (or until the
    server stops) and its connection closed, as a service that times out; with ``drop``, the
    connection is cut at once. A ``Content-Length`` in ``headers`` is sent as given (a HEAD
    passed on)."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hang_s: float = 0.0
    drop: bool = False


Handler = Callable[[Request], Response]


@dataclass
class Server:
    url: str
    requests: list[Request]

    def count(self, method: str, prefix: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.path.startswith(prefix))


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[Server]:
    """Run ``handler`` behind a threaded HTTP server on a free 127.0.0.1 port; stop at exit.
    Requests held (``hang_s``) end when the server stops, not after their time."""
    seen: list[Request] = []
    stopping = threading.Event()

    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            parts = urlsplit(self.path)
            req = Request(self.command, parts.path, parts.query, dict(self.headers), body)
            seen.append(req)
            try:
                resp = handler(req)
            except Exception as exc:  # a broken fake must fail the test, loudly
                resp = Response(599, {"detail": f"fake server error: {exc!r}"})
            if resp.drop or resp.hang_s:
                if resp.drop:
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    stopping.wait(resp.hang_s)
                self.close_connection = True
                return
            payload = json.dumps(resp.json).encode() if resp.json is not None else resp.body
            self.send_response(resp.status)
            headers = {"Content-Type": "application/json"} if resp.json is not None else {}
            headers = {**headers, **resp.headers}
            headers.setdefault("Content-Length", str(len(payload)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        def log_message(self, format: str, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    # A client that timed out or was cut off has gone: writing to it fails, and that is the point.
    httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield Server(f"http://127.0.0.1:{httpd.server_address[1]}", seen)
    finally:
        stopping.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def multipart_form(req: Request) -> dict[str, bytes | str]:
    """A multipart/form-data body by field name: a file's bytes, a field's text."""
    head = f"Content-Type: {req.header('Content-Type')}\r\n\r\n".encode()
    message = email.parser.BytesParser().parsebytes(head + req.body)
    out: dict[str, bytes | str] = {}
    for part in message.walk():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            out[name] = data if part.get_filename() else data.decode()
    return out


# ---------------------------------------------------------------------------- Replicate


@dataclass
class FakeApi:
    """What the fake APIs share: one request handled at a time, and ``faults``, each a
    (method, path prefix, status) answered once, in order, before the real handling."""

    faults: list[tuple[str, str, int]] = field(default_factory=list, kw_only=True)
    lock: threading.Lock = field(default_factory=threading.Lock, kw_only=True)

    def __call__(self, req: Request) -> Response:
        with self.lock:
            for i, (method, prefix, status) in enumerate(self.faults):
                if req.method == method and req.path.startswith(prefix):
                    del self.faults[i]
                    return self._fault(status)
            return self._handle(req)

    def _fault(self, status: int) -> Response:
        raise NotImplementedError

    def _handle(self, req: Request) -> Response:
        raise NotImplementedError


@dataclass
class ReplicateFake(FakeApi):
    """Replicate's HTTP API as the SDK uses it: ``POST /v1/files`` (multipart),
    ``POST /v1/predictions``, ``GET /v1/predictions/<id>``, and a delivery URL for the output.

    ``polls`` GETs see the prediction ``processing`` before it ends as ``outcome``
    (``succeeded``, ``failed`` or ``canceled``); ``faults`` are (method, path prefix, status)
    answered once each, in order, before the real handling.
    """

    token: str
    clip: bytes
    polls: int = 1
    outcome: str = "succeeded"
    error: str = "CUDA out of memory"
    predict_time: float = 4.2
    # Predictions stay "processing" until this many exist: proves they run side by side.
    min_created: int = 0
    base: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    predictions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _fault(self, status: int) -> Response:
        return Response(status, {"title": "busy", "detail": f"injected {status}"})

    def _handle(self, req: Request) -> Response:
        if req.path.startswith("/delivery/"):
            return Response(200, body=self.clip, headers={"Content-Type": "video/mp4"})
        if req.path.startswith("/files/"):
            return Response(200, body=self.files[req.path.rsplit("/", 1)[-1]])
        if req.headers.get("Authorization") != f"Bearer {self.token}":
            return Response(401, {"title": "Unauthenticated", "detail": "Invalid token."})
        if req.method == "POST" and req.path == "/v1/files":
            content = multipart_form(req).get("content", b"")
            fid = uuid.uuid4().hex
            self.files[fid] = content if isinstance(content, bytes) else content.encode()
            return Response(201, {
                "id": fid, "name": "upload", "content_type": "application/octet-stream",
                "size": len(self.files[fid]), "etag": fid, "checksums": {}, "metadata": {},
                "created_at": "2026-11-28T00:00:00Z", "expires_at": None,
                "urls": {"get": f"{self.base}/files/{fid}"},
            })  # fmt: skip
        if req.method == "POST" and req.path == "/v1/predictions":
            body = req.json()
            pid = f"p{uuid.uuid4().hex[:12]}"
            self.predictions[pid] = {"id": pid, "version": body["version"],
                                     "input": body["input"], "gets": 0}  # fmt: skip
            return Response(201, self._prediction(pid))
        if req.method == "GET" and req.path.startswith("/v1/predictions/"):
            pid = req.path.rsplit("/", 1)[-1]
            if pid not in self.predictions:
                return Response(404, {"title": "Not found", "detail": "Prediction not found."})
            self.predictions[pid]["gets"] += 1
            return Response(200, self._prediction(pid))
        return Response(404, {"detail": f"no route {req.method} {req.path}"})

    def _prediction(self, pid: str) -> dict[str, Any]:
        p = self.predictions[pid]
        done = p["gets"] > self.polls and len(self.predictions) >= self.min_created
        status = self.outcome if done else ("starting" if p["gets"] == 0 else "processing")
        return {
            "id": pid, "model": "cjwbw/sadtalker", "version": p["version"], "status": status,
            "input": p["input"], "logs": "",
            "output": f"{self.base}/delivery/{pid}.mp4" if status == "succeeded" else None,
            "error": self.error if status == "failed" else None,
            "metrics": {"predict_time": self.predict_time} if done else {},
            "created_at": "2026-11-28T00:00:00Z",
            "urls": {"get": f"{self.base}/v1/predictions/{pid}",
                     "cancel": f"{self.base}/v1/predictions/{pid}/cancel"},
        }  # fmt: skip


# ---------------------------------------------------------------------------- RunPod


@dataclass
class RunPodFake(FakeApi):
    """RunPod's serverless endpoint API: ``POST /v2/<endpoint>/run`` queues a job;
    ``GET /v2/<endpoint>/status/<id>`` reports ``IN_QUEUE``/``IN_PROGRESS`` for ``polls`` calls,
    then runs ``handler`` (the worker's own) on the job and reports ``COMPLETED`` with its
    output, or ``FAILED`` with its error. ``outcome`` forces CANCELLED/TIMED_OUT/FAILED."""

    api_key: str
    endpoint: str
    handler: Callable[[dict[str, Any]], Any]
    polls: int = 1
    outcome: str | None = None
    error: str = "worker exited"
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _fault(self, status: int) -> Response:
        return Response(status, {"error": f"injected {status}"})

    def _handle(self, req: Request) -> Response:
        if req.headers.get("Authorization") != f"Bearer {self.api_key}":
            return Response(401, {"error": "Unauthorized"})
        prefix = f"/v2/{self.endpoint}/"
        if not req.path.startswith(prefix):
            return Response(404, {"error": "endpoint not found"})
        action = req.path[len(prefix) :]
        if req.method == "POST" and action == "run":
            jid = f"{uuid.uuid4()}-u1"
            self.jobs[jid] = {"input": req.json()["input"], "gets": 0, "result": None}
            return Response(200, {"id": jid, "status": "IN_QUEUE"})
        if req.method == "GET" and action.startswith("status/"):
            jid = action.split("/", 1)[1]
            job = self.jobs.get(jid)
            if job is None:
                return Response(404, {"error": "job not found"})
            job["gets"] += 1
            if job["gets"] <= self.polls:
                status = "IN_QUEUE" if job["gets"] == 1 else "IN_PROGRESS"
                return Response(200, {"id": jid, "status": status})
            if self.outcome:
                return Response(200, {"id": jid, "status": self.outcome, "error": self.error})
            if job["result"] is None:
                try:
                    job["result"] = {
                        "status": "COMPLETED",
                        "output": self.handler({"id": jid, "input": job["input"]}),
                    }
                except Exception as exc:
                    job["result"] = {"status": "FAILED", "error": str(exc)}
                if (
                    isinstance(job["result"].get("output"), dict)
                    and "error" in job["result"]["output"]
                ):
                    job["result"] = {"status": "FAILED", "error": job["result"]["output"]["error"]}
            return Response(200, {"id": jid, "delayTime": 120, "executionTime": 3400,
                                  **job["result"]})  # fmt: skip
        return Response(404, {"error": f"no route {req.method} {req.path}"})
