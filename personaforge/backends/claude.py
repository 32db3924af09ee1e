"""The one way PersonaForge asks Claude something (director, writer, wizard): the official
``anthropic`` SDK, one JSON answer (structured outputs) that is validated and asked for again
once, in the same conversation, when it does not fit; every SDK failure becomes one line."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Generic, TypeVar

from personaforge.backends.cloud import RemoteError, base_url, require_key
from personaforge.core.specs import Director
from personaforge.costs import Billing, bill
from personaforge.envnum import env_number
from personaforge.errors import MissingDependencyError, PersonaForgeError, mask_secrets

T = TypeVar("T")

DEFAULT_MODEL: Final = Director().model  # one default, set in video.yaml's schema
KEY: Final = "ANTHROPIC_API_KEY"
RETRIES_VAR: Final = "PERSONAFORGE_CLAUDE_MAX_RETRIES"
DEFAULT_RETRIES: Final = 2
MAX_RETRIES: Final = 5
TIMEOUT_S: Final = 120.0


@dataclass
class Answer(Generic[T]):
    value: T
    billing: list[Billing] = field(default_factory=list)


def sdk() -> Any:
    """The anthropic module, or a clear error with the install command."""
    try:
        import anthropic
    except ImportError:
        raise MissingDependencyError(
            "Claude needs the anthropic package", hint="pip install 'personaforge[claude]'"
        ) from None
    return anthropic


def max_retries(env: Mapping[str, str]) -> int:
    return int(env_number(env, RETRIES_VAR, DEFAULT_RETRIES, whole=True, low=0, high=MAX_RETRIES))


class Claude:
    """A client for one purpose (``what`` names it in every message)."""

    def __init__(
        self, env: Mapping[str, str], *, model: str, max_tokens: int = 4096, what: str = "Claude"
    ) -> None:
        anthropic = sdk()
        self.what = what
        self.model = model
        self.max_tokens = max_tokens
        self._key = require_key(env, KEY, what=what)
        self.retries = max_retries(env)
        # Passed explicitly because the project's .env may set it; unset, the SDK falls back to
        # the same variable in the process environment, then to the public API.
        self.base_url = base_url(env, "ANTHROPIC_BASE_URL")
        self._client = anthropic.Anthropic(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=self.retries,
            timeout=TIMEOUT_S,
        )

    def ask_json(
        self,
        *,
        system: str,
        user: str,
        schema: dict[str, Any],
        parse: Callable[[Any], T],
    ) -> Answer[T]:
        """Ask for one JSON object of ``schema`` (structured outputs) and return ``parse(it)``.

        Structured outputs rather than a forced tool call: current models (Sonnet 5.5) answer
        a forced ``tool_choice`` with a 400, while JSON outputs work from the 4.5 models on.
        ``parse`` raises ValueError with a message for the model when the object does not fit;
        the model is then asked once more, in the same conversation, with that message. A
        second bad answer is an error.
        """
        messages: list[dict[str, Any]] = [{"role": "user", "content": user}]
        billing: list[Billing] = []
        max_tokens = self.max_tokens
        problem = ""
        for attempt in (1, 2):
            response = self._create(system, messages, schema, max_tokens)
            billing += self._bills(response)
            answer = self._text(response)
            problem = self._problem(response, answer)
            if not problem:
                try:
                    return Answer(parse(json.loads(answer)), billing)
                except ValueError as exc:  # JSONDecodeError is a ValueError too
                    problem = _short(exc)
            if attempt == 2:
                break
            if response.stop_reason == "max_tokens":
                max_tokens = min(max_tokens * 2, 64000)
            messages += self._retry_turns(response, problem)
        raise RemoteError(
            f"{self.what}: Claude's answer was not usable twice (last: {self._scrub(problem)})",
            hint="run again, or try another model (director.model in video.yaml)",
        )

    # ------------------------------------------------------------------ internals

    def _create(
        self, system: str, messages: list[dict[str, Any]], schema: dict[str, Any], max_tokens: int
    ) -> Any:
        anthropic = sdk()
        try:
            return self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system,
                messages=messages,
                output_config={"format": {"type": "json_schema", "schema": schema}},
            )
        except anthropic.APIError as exc:
            raise self._error(exc) from None

    def _bills(self, response: Any) -> list[Billing]:
        usage = getattr(response, "usage", None)
        if usage is None or not all(
            isinstance(getattr(usage, n, None), (int, type(None)))
            for n in ("input_tokens", "output_tokens")
        ):
            return []
        rid = getattr(response, "id", None)
        return [
            bill("anthropic", unit, count or 0, model=self.model, request_id=rid)
            for unit, count in (
                ("input_token", usage.input_tokens),
                ("output_token", usage.output_tokens),
            )
        ]

    def _text(self, response: Any) -> str:
        """The answer's text; a reply that is not a Message (a proxy or a fake API answering
        200 with something else) is one line, not a crash."""
        content = getattr(response, "content", None)
        if not isinstance(content, list) or not all(
            isinstance(getattr(b, "type", None), str) for b in content
        ):
            where = f" at {mask_secrets(self.base_url)}" if self.base_url else ""
            raise RemoteError(
                f"{self.what}: the API{where} answered with something that is not a Claude message",
                hint="check ANTHROPIC_BASE_URL",
            )
        texts = (getattr(b, "text", None) for b in content if b.type == "text")
        return "".join(t for t in texts if isinstance(t, str)).strip()

    @staticmethod
    def _problem(response: Any, answer: str) -> str:
        """Why this answer cannot be used, or "" if its text can be parsed."""
        if response.stop_reason == "refusal":
            return "Claude declined to answer (stop_reason refusal)"
        if response.stop_reason == "max_tokens":
            return "the answer was cut off at max_tokens; answer more briefly"
        if not answer:
            return "the answer was empty; answer with the JSON object"
        return ""

    @staticmethod
    def _retry_turns(response: Any, problem: str) -> list[dict[str, Any]]:
        """The turns that ask again in the same conversation: the answer as given (thinking
        blocks passed back unchanged, as the API asks), then what was wrong with it."""
        content: list[dict[str, Any]] = []
        for block in response.content:
            if block.type == "text":
                if block.text:
                    content.append({"type": "text", "text": block.text})
            elif block.type in ("thinking", "redacted_thinking"):
                content.append(block.model_dump(mode="json", exclude_none=True))
        turns: list[dict[str, Any]] = []
        if any(b["type"] == "text" for b in content):
            turns.append({"role": "assistant", "content": content})
        ask = f"That answer cannot be used: {problem}. Answer again with the whole corrected JSON."
        turns.append({"role": "user", "content": ask})
        return turns

    def _scrub(self, text: str) -> str:
        one_line = " ".join(str(text).split())
        if self._key:
            one_line = one_line.replace(self._key, "***")
        return one_line[:300]

    def _error(self, exc: Exception) -> PersonaForgeError:
        anthropic = sdk()
        tries = f"after {self.retries} retries" if self.retries else "with retries off"
        where = f" at {mask_secrets(self.base_url)}" if self.base_url else ""
        detail = self._scrub(_service_message(exc))
        if isinstance(exc, anthropic.AuthenticationError):
            return RemoteError(
                f"{self.what}: the API key was rejected (401){where}",
                hint=f"check {KEY}",
            )
        if isinstance(exc, anthropic.PermissionDeniedError):
            return RemoteError(f"{self.what}: not allowed (403): {detail}", hint=f"check {KEY}")
        if isinstance(exc, anthropic.NotFoundError):
            return RemoteError(
                f"{self.what}: not found (404): {detail}",
                hint=f"is the model {self.model!r} right? (director.model in video.yaml)",
            )
        if isinstance(exc, anthropic.RateLimitError):
            return RemoteError(
                f"{self.what}: rate limited (429) {tries}: {detail}", hint="try again later"
            )
        if isinstance(exc, anthropic.APIStatusError) and exc.status_code == 529:
            return RemoteError(
                f"{self.what}: Claude is overloaded (529) {tries}", hint="try again later"
            )
        if isinstance(exc, anthropic.APIStatusError):
            return RemoteError(f"{self.what}: HTTP {exc.status_code} {tries}: {detail}")
        if isinstance(exc, anthropic.APITimeoutError):
            return RemoteError(f"{self.what}: no answer within {TIMEOUT_S:.0f} s {tries}{where}")
        if isinstance(exc, anthropic.APIConnectionError):
            return RemoteError(
                f"{self.what}: cannot reach the API{where} {tries}",
                hint="check the network or ANTHROPIC_BASE_URL",
            )
        return RemoteError(f"{self.what}: {detail}")


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:500] or type(exc).__name__


def _service_message(exc: Exception) -> str:
    """The service's own error message from an error body, else the exception's text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            kind = error.get("type")
            return f"{kind}: {error['message']}" if kind else error["message"]
    return getattr(exc, "message", None) or str(exc)
